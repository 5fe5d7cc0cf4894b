// watch_dnsbl_bench.cpp: one DNSBL sweep of 64 outbound IPs x 5 zones through
// the project resolver against the local DNS fixture (a real unbound serving
// generated zones: every 8th IP listed). Prints the sweep time and verdicts.
//   watch_dnsbl_bench [IPS] [ZONES]   (run by bench/watch_dnsbl.sh)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "relaygate/dns/dns_resolver.hpp"
#include "relaygate/harness/dns_server.hpp"
#include "relaygate/watch/dnsbl.hpp"

int main(int argc, char** argv) {
    using namespace relaygate;
    const int n_ips = argc > 1 ? std::atoi(argv[1]) : 64;
    const int n_zones = argc > 2 ? std::atoi(argv[2]) : 5;
    std::vector<std::string> lines, ips;
    std::vector<watch::dnsbl_zone> zones;
    for (int z = 0; z < n_zones; ++z) {
        const std::string zone = "bl" + std::to_string(z) + ".bench.test";
        lines.push_back("local-zone: \"" + zone + ".\" static");
        lines.push_back("local-data: \"" + zone + ". 3600 IN SOA ns." + zone + ". h." + zone +
                        ". 1 3600 600 86400 60\"");
        zones.push_back(*watch::dnsbl_zone::parse(zone));
    }
    for (int i = 0; i < n_ips; ++i) {
        const std::string ip = "198.18." + std::to_string(i / 250) + "." + std::to_string(1 + i % 250);
        ips.push_back(ip);
        if (i % 8 == 0) {
            lines.push_back("local-data: \"" + *watch::dnsbl_query_name(ip, zones[i % n_zones].name) +
                            ". 60 IN A 127.0.0.2\"");
        }
    }
    harness::dns_server dns({}, 0, lines);
    dns::resolver r({.forwarders = {dns.forwarder()}, .timeout = std::chrono::milliseconds(4000)});
    watch::async_query q = [&](std::string name, std::function<void(const dns::answer&)> done) {
        r.resolve_async(std::move(name), dns::rr_type::a, std::move(done));
    };
    const auto t0 = std::chrono::steady_clock::now();
    const auto results = watch::dnsbl_sweep(ips, zones, q, std::chrono::milliseconds(5000));
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::size_t listed = 0, clean = 0, unknown = 0;
    for (const auto& x : results) {
        if (x.verdict == watch::dnsbl_verdict::listed) ++listed;
        if (x.verdict == watch::dnsbl_verdict::clean) ++clean;
        if (x.verdict == watch::dnsbl_verdict::unknown) ++unknown;
    }
    std::printf("DNSBL sweep: %d IPs x %d zones = %zu queries in %.3f s (listed %zu, clean %zu, unknown %zu)\n", n_ips,
                n_zones, results.size(), s, listed, clean, unknown);
    return unknown == 0 && listed == static_cast<std::size_t>((n_ips + 7) / 8) ? 0 : 1;
}
