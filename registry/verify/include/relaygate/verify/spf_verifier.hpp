// spf_verifier.hpp: SPF check_host() (RFC 7208) of a domain for our outbound IPs,
// evaluated by relaygate (record parser: spf_record.hpp) over dns::resolver, with
// RFC 7208's limits (10 DNS-querying terms, 2 void lookups) and temperror for DNS
// failures; it agrees with the RFC 7208 test suite (spf_rfc7208_suite_itest).
// Called by domain_verifier; spf_mechanisms_for is for relaygate-admin records.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "relaygate/dns/dns_resolver.hpp"
#include "relaygate/verify/domain_verifier.hpp"

namespace relaygate::registry {

class spf_include_cache;

class spf_verifier {
public:
    explicit spf_verifier(dns::resolver& resolver);
    ~spf_verifier();
    spf_verifier(const spf_verifier&) = delete;
    spf_verifier& operator=(const spf_verifier&) = delete;

    // check_host(ip, domain, postmaster@domain). Blocking (one lookup at a time);
    // thread-safe; never called on the resolver's event thread.
    spf_ip_result check(std::string_view domain, std::string_view ip);
    // check() for each IP, in order; a name asked for one IP is not asked again for the
    // next ones (its answer, or its SERVFAIL/timeout, holds for the whole check). Names
    // reached through include:/redirect= are looked up through `shared` when given (the
    // pass's cache, spf_include_cache.hpp).
    std::vector<spf_ip_result> check_all(std::string_view domain, const std::vector<std::string>& ips,
                                         spf_include_cache* shared = nullptr);

private:
    spf_ip_result check_one(std::string_view domain, std::string_view ip,
                            std::map<std::pair<std::string, int>, dns::answer>& memo, spf_include_cache* shared);
    struct impl;
    std::unique_ptr<impl> impl_;
};

// "ip4:192.0.2.10 ip6:2001:db8::10": the mechanisms an owner adds to authorize ips.
std::string spf_mechanisms_for(const std::vector<std::string>& ips);

}  // namespace relaygate::registry
