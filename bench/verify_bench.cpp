// verify_bench: verifies N generated domains x M outbound IPs (default 10,000 x 8)
// against a local unbound (the test DNS fixture) with domain_verifier::verify_all,
// and prints the time. Goal (issue 3): < 60 s with queries in flight concurrently.
// The zone is generated here at run time (not committed). Run by bench/verify_bench.sh.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "relaygate/harness/dns_server.hpp"
#include "relaygate/verify/dkim_verifier.hpp"
#include "relaygate/verify/domain_verifier.hpp"
#include "relaygate/verify/spf_verifier.hpp"

using namespace relaygate;

int main(int argc, char** argv) {
    unsigned domains = 10000, ip_count = 8, parallel = 64;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string k = argv[i];
        unsigned v = static_cast<unsigned>(std::strtoul(argv[i + 1], nullptr, 10));
        if (k == "--domains")
            domains = v;
        else if (k == "--ips")
            ip_count = v;
        else if (k == "--parallel")
            parallel = v;
        else {
            std::fprintf(stderr, "usage: verify_bench [--domains N] [--ips M] [--parallel P]\n");
            return 2;
        }
    }
    std::string key_path = std::string(RELAYGATE_SOURCE_DIR) + "/tests/testdata/keys/rsa2048.pem";
    auto held = registry::load_held_key(key_path);
    if (!held) {
        std::fprintf(stderr, "verify_bench: %s\n", held.error().c_str());
        return 1;
    }
    std::vector<std::string> ips;
    for (unsigned i = 0; i < ip_count; ++i) {
        ips.push_back(i % 2 == 0 ? "192.0.2." + std::to_string(10 + i) : "2001:db8::" + std::to_string(10 + i));
    }
    // One zone file: every domain has its own DKIM key record, SPF (an include, as
    // ESPs publish it) and DMARC, so each domain costs real queries.
    char dir[] = "/tmp/relaygate-bench-XXXXXX";
    if (mkdtemp(dir) == nullptr) return 1;
    std::string zone = std::string(dir) + "/bench.conf";
    {
        std::ofstream z(zone);
        z << "local-zone: \"bench.test.\" static\n"
          << "local-data: 'bench.test. 3600 IN SOA ns.bench.test. h.bench.test. 1 3600 600 86400 60'\n"
          << "local-data: '_spf.bench.test. 3600 IN TXT \"v=spf1 " << registry::spf_mechanisms_for(ips) << " -all\"'\n";
        std::string dkim = registry::dkim_record_zone_text(*held);
        for (unsigned i = 0; i < domains; ++i) {
            std::string d = "d" + std::to_string(i) + ".bench.test.";
            z << "local-data: 's1._domainkey." << d << " 3600 IN TXT " << dkim << "'\n"
              << "local-data: '" << d << " 3600 IN TXT \"v=spf1 include:_spf.bench.test -all\"'\n"
              << "local-data: '_dmarc." << d << " 3600 IN TXT \"v=DMARC1; p=reject\"'\n";
        }
    }
    std::vector<registry::domain_entry> entries;
    for (unsigned i = 0; i < domains; ++i) {
        entries.push_back({.domain = "d" + std::to_string(i) + ".bench.test", .selector = "s1", .key_path = key_path});
    }
    int rc = 0;
    try {
        harness::dns_server dns({zone});
        dns::resolver resolver({.forwarders = {dns.forwarder()}, .timeout = std::chrono::milliseconds(5000)});
        registry::domain_verifier verifier(resolver, ips, 1024);
        auto start = std::chrono::steady_clock::now();
        auto reports = verifier.verify_all(entries, parallel);
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::size_t verified = 0;
        for (const auto& r : reports) {
            if (r.verified()) {
                ++verified;
            } else if (verified + 5 > reports.size()) {
                std::fprintf(stderr, "  %s: %s\n", r.domain.c_str(), r.reason_text().c_str());
            }
        }
        std::printf(
            "verify_bench: %u domains x %u outbound IPs (%u SPF checks) verified in %.2f s "
            "(%.0f domains/s, %u workers); verified %zu/%u; goal < 60 s: %s\n",
            domains, ip_count, domains * ip_count, seconds, domains / seconds, parallel, verified, domains,
            seconds < 60 && verified == domains ? "met" : "MISSED");
        if (seconds >= 60 || verified != domains) rc = 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "verify_bench: %s\n", e.what());
        rc = 1;
    }
    std::remove(zone.c_str());
    rmdir(dir);
    return rc;
}
