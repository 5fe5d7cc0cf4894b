// dkim_signer.hpp: DKIM signing on OpenSSL 3's EVP API (rsa-sha256 or
// ed25519-sha256 by the key's type, relaxed/relaxed, From oversigned; header
// choice and canonicalization in dkim_canon.hpp). Every held key is parsed
// ONCE: prepare() parses the keys of a registry snapshot's verified domains
// before the snapshot is published (a bad key fails that reload), and a key
// file unchanged since the previous snapshot is not parsed again. Signing a
// message parses nothing and fetches no algorithm: it duplicates contexts
// prepared with the key. The milter shell starts one signing_session per
// message that decide() let through with a signing_domain; nothing here
// decides WHETHER to sign.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "relaygate/milter/dkim_canon.hpp"
#include "relaygate/registry/domain_registry.hpp"
#include "relaygate/registry/expected.hpp"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace relaygate::milter {

class private_key;  // a parsed key with its prepared signing context (dkim_signer.cpp)

struct signing_key {
    std::string domain;    // d=
    std::string selector;  // s=
    registry::key_algorithm algorithm = registry::key_algorithm::rsa;
    std::shared_ptr<const private_key> key;
};

// Reads and parses a PEM private key (PKCS#1 or PKCS#8; RSA of at least 1024
// bits, or Ed25519). Files over 64 KiB are refused; the error names the path.
expected<signing_key, std::string> load_signing_key(std::string domain, std::string selector, const std::string& path);

struct signing_options {
    dkim_canon header = dkim_canon::relaxed;
    dkim_canon body = dkim_canon::relaxed;
    std::uint64_t fixed_time = 0;  // t=; 0 = the clock
};

// One message being signed. Feed headers in order, then the body, then finish().
class signing_session {
public:
    signing_session(std::shared_ptr<const signing_key> key, const signing_options& opts);
    ~signing_session();
    signing_session(const signing_session&) = delete;
    signing_session& operator=(const signing_session&) = delete;

    bool header(std::string_view name, std::string_view value);  // kept for end_of_headers
    bool end_of_headers();
    bool body(std::string_view chunk);
    // The DKIM-Signature header VALUE (without "DKIM-Signature: "), folded with "\n\t".
    expected<std::string, std::string> finish();

private:
    std::shared_ptr<const signing_key> key_;
    signing_options opts_;
    std::vector<std::pair<std::string, std::string>> headers_;
    std::string canonical_headers_;  // the selected headers, canonical, in hashing order
    std::string h_tag_;
    body_canonicalizer body_canon_;
    std::string scratch_;         // canonical body bytes of the chunk being hashed
    ::evp_md_ctx_st* body_hash_;  // EVP_MD_CTX
    bool failed_ = false;
};

class dkim_signer {
public:
    dkim_signer() = default;
    dkim_signer(const dkim_signer&) = delete;
    dkim_signer& operator=(const dkim_signer&) = delete;

    // Adds an operator domain's key ("--operator-dkim-key domain:selector:path").
    expected<bool, std::string> add_operator_key(std::string domain, std::string selector, const std::string& path);

    // Parses the key of every verified domain of snapshot, reusing keys whose file
    // (device, inode, size, mtime) is unchanged since the previous call. Call it
    // before the snapshot is published; the error ("file:line: key: why") fails
    // the load. Thread-safe.
    expected<bool, std::string> prepare(const std::shared_ptr<const registry::domain_registry>& snapshot);

    // The key to sign `domain` with: an operator domain's configured key (a
    // subdomain uses its nearest configured parent), or the key prepare() parsed
    // for this snapshot. A lookup only; thread-safe.
    expected<std::shared_ptr<const signing_key>, std::string> key_for(
        const std::shared_ptr<const registry::domain_registry>& snapshot, const std::string& domain, bool is_operator);

    // Starts signing one message.
    std::unique_ptr<signing_session> start(std::shared_ptr<const signing_key> key) const;

    void set_options(const signing_options& opts) { options_ = opts; }  // before any start(); tests

private:
    struct key_file;  // a parsed key and the file signature it was parsed from
    using key_set = std::map<std::string, std::shared_ptr<const signing_key>, std::less<>>;

    signing_options options_;
    std::mutex prepare_mutex_;  // one prepare() at a time
    std::mutex mutex_;          // guards what follows
    std::map<std::string, std::shared_ptr<const signing_key>> operator_keys_;
    // Key sets of snapshots that may still be in use; pruned when their snapshot is gone.
    std::vector<std::pair<std::weak_ptr<const registry::domain_registry>, std::shared_ptr<const key_set>>> sets_;
    std::shared_ptr<const std::map<std::string, key_file>> files_;  // of the last prepare(), by path
};

}  // namespace relaygate::milter
