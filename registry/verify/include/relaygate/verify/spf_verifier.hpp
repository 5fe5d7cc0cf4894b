// spf_verifier.hpp: SPF check_host() (RFC 7208) of a domain for our outbound IPs,
// by libspf2 running on a custom DNS layer backed by dns::resolver. Adds what
// libspf2 lacks: the void-lookup limit (> 2 → permerror) and temperror for DNS
// failures (libspf2 says SPF_RESULT_INVALID + SPF_E_DNS_ERROR). Called by
// domain_verifier; spf_mechanisms_for is for relaygate-admin records.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "relaygate/dns/dns_resolver.hpp"
#include "relaygate/verify/domain_verifier.hpp"

namespace relaygate::registry {

class spf_verifier {
public:
    explicit spf_verifier(dns::resolver& resolver);
    ~spf_verifier();
    spf_verifier(const spf_verifier&) = delete;
    spf_verifier& operator=(const spf_verifier&) = delete;

    // check_host(ip, domain, postmaster@domain). Blocking (libspf2 is synchronous);
    // thread-safe; never called on the resolver's event thread.
    spf_ip_result check(std::string_view domain, std::string_view ip);
    // check() for each IP, in order; a name that failed (SERVFAIL/timeout) for one IP
    // is not asked again for the next ones.
    std::vector<spf_ip_result> check_all(std::string_view domain, const std::vector<std::string>& ips);

private:
    spf_ip_result check_one(std::string_view domain, std::string_view ip,
                            std::map<std::pair<std::string, int>, dns::answer>& failures);
    struct impl;
    std::unique_ptr<impl> impl_;
};

// "ip4:192.0.2.10 ip6:2001:db8::10": the mechanisms an owner adds to authorize ips.
std::string spf_mechanisms_for(const std::vector<std::string>& ips);

}  // namespace relaygate::registry
