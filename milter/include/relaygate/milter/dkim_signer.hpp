// dkim_signer.hpp: DKIM signing with libopendkim (relaxed/relaxed,
// rsa-sha256 or ed25519-sha256 by the key's type, From oversigned). Keys of
// customer domains come from the snapshot's entry (key_path, selector) and are
// cached per snapshot; operator domains are signed only with a configured key.
// The milter shell starts one signing_session per message that decide() let
// through with a signing_domain; nothing here decides WHETHER to sign.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "relaygate/registry/domain_registry.hpp"
#include "relaygate/registry/expected.hpp"

struct dkim_lib;
struct dkim;

namespace relaygate::milter {

struct signing_key {
    std::string domain;    // d=
    std::string selector;  // s=
    std::string pem;       // private key, PKCS#1 or PKCS#8 PEM
    registry::key_algorithm algorithm = registry::key_algorithm::rsa;
};

// Reads and checks a PEM private key; the error names the path.
expected<signing_key, std::string> load_signing_key(std::string domain, std::string selector, const std::string& path);

// One message being signed. Feed headers in order, then the body, then finish().
class signing_session {
public:
    ~signing_session();
    signing_session(const signing_session&) = delete;
    signing_session& operator=(const signing_session&) = delete;

    bool header(std::string_view name, std::string_view value);  // false: libopendkim refused it
    bool end_of_headers();
    bool body(std::string_view chunk);
    // The DKIM-Signature header VALUE (without "DKIM-Signature: "), folded with "\n\t".
    expected<std::string, std::string> finish();

private:
    friend class dkim_signer;
    explicit signing_session(struct dkim* handle) : handle_(handle) {}
    struct dkim* handle_;
    bool failed_ = false;
};

class dkim_signer {
public:
    dkim_signer();  // throws std::runtime_error when libopendkim cannot be initialised (at start only)
    ~dkim_signer();
    dkim_signer(const dkim_signer&) = delete;
    dkim_signer& operator=(const dkim_signer&) = delete;

    // Adds an operator domain's key ("--operator-dkim-key domain:selector:path").
    expected<bool, std::string> add_operator_key(std::string domain, std::string selector, const std::string& path);

    // The key to sign `domain` with, or an error ("no key configured" for an
    // operator domain without one, or the load error). Cached per snapshot.
    expected<std::shared_ptr<const signing_key>, std::string> key_for(
        const std::shared_ptr<const registry::domain_registry>& snapshot, const std::string& domain, bool is_operator);

    // Starts signing one message; job_id is used in libopendkim's messages (the queue id).
    expected<std::unique_ptr<signing_session>, std::string> start(const signing_key& key, const std::string& job_id);

    // Set a fixed signature time (t=) for reproducible tests; 0 = the clock.
    void set_fixed_time(std::uint64_t t);

private:
    struct dkim_lib* lib_;
    std::mutex mutex_;
    std::map<std::string, std::shared_ptr<const signing_key>> operator_keys_;
    std::shared_ptr<const registry::domain_registry> cached_snapshot_;
    std::map<std::string, expected<std::shared_ptr<const signing_key>, std::string>> cache_;
};

}  // namespace relaygate::milter
