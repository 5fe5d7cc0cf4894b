// dnsbl.hpp: DNS blocklist checks of our own outbound IPs (docs/watch.md
// "DNSBL sweep"): query names (IPv4 reversed octets, IPv6 reversed nibbles),
// each zone's documented return codes (listed / unknown: "query refused, open
// resolver, over limit" answers are NOT listings), and a sweep of every IP x
// zone at once through an asynchronous query function (dns::resolver in the
// daemon) with one deadline. Called by the watch daemon every --dnsbl-interval.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "relaygate/dns/dns_resolver.hpp"
#include "relaygate/watch/failover_machine.hpp"

namespace relaygate::watch {

struct dnsbl_zone {
    std::string name;                                              // "zen.spamhaus.org"
    std::vector<std::pair<std::uint32_t, std::uint32_t>> listed;   // IPv4 ranges (host order) meaning "listed"
    std::vector<std::pair<std::uint32_t, std::uint32_t>> unknown;  // ranges meaning "cannot tell"
    // "NAME[;listed=A[-B],...][;unknown=A[-B],...]". Known zones (Spamhaus ZEN,
    // SpamCop, Barracuda) default to their documented codes; others to
    // listed=127.0.0.2-127.0.0.254, unknown=127.255.255.0-127.255.255.255.
    static std::optional<dnsbl_zone> parse(std::string_view spec);
};

std::vector<dnsbl_zone> default_dnsbl_zones();

// "192.0.2.10" + "zen.spamhaus.org" -> "10.2.0.192.zen.spamhaus.org"; nullopt for a bad IP.
std::optional<std::string> dnsbl_query_name(std::string_view ip, std::string_view zone);

struct dnsbl_result {
    std::string ip;
    std::string zone;
    dnsbl_verdict verdict = dnsbl_verdict::unknown;
    std::string detail;  // the answer ("127.0.0.2"), or the DNS status ("nxdomain", "timeout", ...)
};

// NXDOMAIN = clean; an A in the zone's listed ranges = listed; everything else
// (unknown codes, answers outside 127/8, SERVFAIL, timeout, ...) = unknown.
dnsbl_result interpret(const dns::answer& a, const dnsbl_zone& zone, std::string ip);

using async_query = std::function<void(std::string name, std::function<void(const dns::answer&)> done)>;

// Every ip x zone at once; results in ip-major order. Queries not answered by
// the deadline are "unknown timeout". Never blocks longer than deadline + ~50 ms.
std::vector<dnsbl_result> dnsbl_sweep(const std::vector<std::string>& ips, const std::vector<dnsbl_zone>& zones,
                                      const async_query& query, std::chrono::milliseconds deadline);

// One IP over all zones: listed if any zone lists it, clean only if all say clean.
struct ip_status {
    dnsbl_verdict verdict = dnsbl_verdict::unknown;
    std::string detail;  // "zen.spamhaus.org=127.0.0.2" for the first listing
};
ip_status combine(const std::vector<dnsbl_result>& results, std::string_view ip);

}  // namespace relaygate::watch
