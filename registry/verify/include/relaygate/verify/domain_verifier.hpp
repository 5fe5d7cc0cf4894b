// domain_verifier.hpp: proves from DNS that one registered domain
// authenticates our mail — DKIM key published and equal to the held key
// (libopendkim for RSA, own comparison for Ed25519), SPF passing for EVERY
// outbound IP (spf_verifier on the project resolver), DMARC reported only.
// Called by relaygate-admin verify and the re-verification scheduler.
// Implemented in domain_verifier.cpp (+ dkim_verifier.cpp, spf_verifier.cpp).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "relaygate/dns/dns_resolver.hpp"
#include "relaygate/registry/domain_registry.hpp"

namespace relaygate::registry {

class spf_include_cache;

enum class dkim_outcome {
    match,           // published key equals the held key
    no_record,       // NXDOMAIN / no TXT at selector._domainkey.domain
    key_mismatch,    // published key differs from the held key
    revoked,         // empty p=
    bad_syntax,      // TXT is not a DKIM key record
    key_too_short,   // RSA below min_rsa_bits
    temporary,       // SERVFAIL / timeout
    held_key_error,  // the private key file cannot be read or parsed
};
std::string_view to_string(dkim_outcome o);  // "match", "no_record", ...

struct dkim_result {
    dkim_outcome outcome = dkim_outcome::temporary;
    std::string record_name;  // selector._domainkey.domain
    std::string detail;       // human text, e.g. "published key differs from /etc/relaygate/keys/a.pem"
};

enum class spf_outcome { pass, fail, softfail, neutral, none, permerror, temperror };
std::string_view to_string(spf_outcome o);  // "pass", "fail", ...

struct spf_ip_result {
    std::string ip;
    spf_outcome outcome = spf_outcome::temperror;
    std::string detail;  // why: "domain of X designates IP ...", the error, the DNS failure
};

struct dmarc_result {
    bool present = false;
    std::string policy;      // "none" / "quarantine" / "reject" / "" when absent
    std::string record;      // the TXT as published
    bool temporary = false;  // the lookup failed (SERVFAIL/timeout): presence unknown
};

// One selector's check during a key rotation.
struct selector_report {
    std::string selector;
    dkim_result dkim;
};

struct domain_report {
    std::string domain;
    dkim_result dkim;                        // the signing selector's check: the one the verdict rests on
    std::string signing_selector;            // choose_signing_selector's pick (the only selector without rotation)
    std::vector<selector_report> selectors;  // with more than one selector: each, in the entry's order
    std::vector<spf_ip_result> spf;          // one per outbound IP, in order
    dmarc_result dmarc;
    bool verified() const;   // dkim match and every SPF pass
    bool temporary() const;  // not verified, and every failing part is temporary (DNS): never demote on it
    // The first definitive failure (DKIM, then SPF in IP order), else the first temporary one:
    std::string reason_code() const;  // "dkim_no_record", "spf_fail", "spf_temperror", ...; "" when verified
    std::string reason_text() const;  // e.g. "no DKIM key at s1._domainkey.example.com"
};

class domain_verifier {
public:
    // outbound_ips: every IP SPF must authorize (registry_options::all_outbound_ips()).
    domain_verifier(dns::resolver& resolver, std::vector<std::string> outbound_ips, unsigned min_rsa_bits = 1024);
    ~domain_verifier();
    domain_verifier(const domain_verifier&) = delete;
    domain_verifier& operator=(const domain_verifier&) = delete;

    // The signing selector recorded before this check ("" = the entry's first one).
    using previous_signing = std::function<std::string(const domain_entry&)>;

    // Verifies one domain (every selector of it); blocking, bounded by the resolver's timeouts.
    domain_report verify(const domain_entry& entry, std::string_view previous = {});
    // Verifies many with queries in flight concurrently (up to `parallel` domains at once,
    // on that many threads incl. the caller's). Reports come back in the order of entries.
    // One call is one pass: SPF includes shared by its domains are resolved once in it.
    std::vector<domain_report> verify_all(const std::vector<domain_entry>& entries, unsigned parallel = 64,
                                          const previous_signing& previous = {});

private:
    domain_report verify(const domain_entry& entry, std::string_view previous, spf_include_cache* includes);
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace relaygate::registry
