// verify_bench: the re-verification path of relaygate-watch (registry_handle +
// registry_reloader + domain_verifier + reverify_scheduler's thread, as
// watch/reverify_service.cpp builds them) over N generated domains x M outbound
// IPs against a local unbound (the test DNS fixture, loopback), from an empty
// state file until every domain is recorded. Issue 16's goal: 1,000,000 domains
// within one default interval (1 h), i.e. >= 280 domains/s sustained.
// Prints domains/s, the passes, peak RSS (this process = the watch's share, and
// unbound), and a baseline in the same run: the same three TXT lookups per domain
// (DKIM key, SPF, DMARC) with no verification, on a fresh resolver with the same
// concurrency: what the DNS path alone allows. The zone is generated at run time.
// Run by bench/verify_bench.sh.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "relaygate/harness/dns_server.hpp"
#include "relaygate/harness/temp_dir.hpp"
#include "relaygate/log/log.hpp"
#include "relaygate/registry/registry_loader.hpp"
#include "relaygate/registry/state_store.hpp"
#include "relaygate/verify/dkim_verifier.hpp"
#include "relaygate/verify/domain_verifier.hpp"
#include "relaygate/verify/reverify_scheduler.hpp"
#include "relaygate/verify/spf_verifier.hpp"

using namespace relaygate;
using clock_type = std::chrono::steady_clock;

namespace {

// "VmRSS:" or "VmHWM:" (peak) of a process, in MiB; -1 when unreadable.
long rss_mib(const std::string& pid, const char* field) {
    std::ifstream in("/proc/" + pid + "/status");
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with(field)) return std::strtol(line.c_str() + std::strlen(field), nullptr, 10) / 1024;
    }
    return -1;
}

double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

std::string domain_name(unsigned i) { return "d" + std::to_string(i) + ".bench.test"; }

// The zone: each domain has its own DKIM key record, SPF (an include of the operator's
// record, as the include form of `relaygate-admin records` has owners publish) and DMARC.
void write_zone(const std::string& path, unsigned domains, const std::vector<std::string>& ips,
                const std::string& dkim) {
    std::ofstream z(path);
    z << "local-zone: \"bench.test.\" static\n"
      << "local-data: 'bench.test. 3600 IN SOA ns.bench.test. h.bench.test. 1 3600 600 86400 60'\n"
      << "local-data: '_spf.bench.test. 3600 IN TXT \"v=spf1 " << registry::spf_mechanisms_for(ips) << " -all\"'\n";
    for (unsigned i = 0; i < domains; ++i) {
        std::string d = domain_name(i) + ".";
        z << "local-data: 's1._domainkey." << d << " 3600 IN TXT " << dkim << "'\n"
          << "local-data: '" << d << " 3600 IN TXT \"v=spf1 include:_spf.bench.test -all\"'\n"
          << "local-data: '_dmarc." << d << " 3600 IN TXT \"v=DMARC1; p=reject\"'\n";
    }
}

// Baseline: the three TXT lookups per domain, no verification, `parallel` blocking threads.
double dns_only_rate(const std::string& forwarder, unsigned domains, unsigned parallel) {
    dns::resolver resolver({.forwarders = {forwarder}, .timeout = std::chrono::milliseconds(5000)});
    std::atomic<unsigned> next{0}, failed{0};
    auto start = clock_type::now();
    auto worker = [&] {
        for (unsigned i; (i = next.fetch_add(1)) < domains;) {
            const std::string d = domain_name(i);
            for (const auto& name : {"s1._domainkey." + d, d, "_dmarc." + d}) {
                if (resolver.resolve(name, dns::rr_type::txt).result != dns::status::ok) ++failed;
            }
        }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < parallel; ++t) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
    double s = seconds_since(start);
    if (failed > 0) std::fprintf(stderr, "verify_bench: baseline: %u lookups failed\n", failed.load());
    return domains / s;
}

}  // namespace

int main(int argc, char** argv) {
    unsigned domains = 10000, ip_count = 8, pass_size = 10000, baseline = 20000;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string k = argv[i];
        unsigned v = static_cast<unsigned>(std::strtoul(argv[i + 1], nullptr, 10));
        if (k == "--domains")
            domains = v;
        else if (k == "--ips")
            ip_count = v;
        else if (k == "--pass-size")
            pass_size = v;
        else if (k == "--baseline-domains")
            baseline = v;
        else {
            std::fprintf(stderr,
                         "usage: verify_bench [--domains N] [--ips M] [--pass-size P] [--baseline-domains B]\n");
            return 2;
        }
    }
    baseline = std::min(baseline, domains);
    log::configure("verify_bench", log::sink::stderr_only, log::level::warning);  // not a line per domain
    const std::string key_path = std::string(RELAYGATE_SOURCE_DIR) + "/tests/testdata/keys/rsa2048.pem";
    auto held = registry::load_held_key(key_path);
    if (!held) {
        std::fprintf(stderr, "verify_bench: %s\n", held.error().c_str());
        return 1;
    }
    std::vector<std::string> ips;
    for (unsigned i = 0; i < ip_count; ++i) {
        ips.push_back(i % 2 == 0 ? "192.0.2." + std::to_string(10 + i) : "2001:db8::" + std::to_string(10 + i));
    }
    int rc = 0;
    try {
        harness::temp_dir dir("verify-bench");
        auto t = clock_type::now();
        const std::string zone = (dir / "bench.conf").string();
        write_zone(zone, domains, ips, registry::dkim_record_zone_text(*held));
        registry::registry_options opts;
        opts.admin_file = (dir / "domains.conf").string();
        opts.state_file = (dir / "state.json").string();
        opts.outbound_ips = ips;
        {
            std::ofstream a(opts.admin_file);
            for (unsigned i = 0; i < domains; ++i) {
                a << domain_name(i) << " selector=s1 key=" << key_path << " owner=bench\n";
            }
        }
        std::printf("verify_bench: %u domains x %u outbound IPs; zone + admin file written in %.1f s\n", domains,
                    ip_count, seconds_since(t));
        std::fflush(stdout);

        t = clock_type::now();
        harness::dns_server dns({zone}, 0, {}, std::chrono::seconds(1800));
        const std::string unbound_pid = std::to_string(dns.pid());
        std::printf("  unbound (1 thread, loopback) loaded the zone in %.1f s, RSS %ld MiB\n", seconds_since(t),
                    rss_mib(unbound_pid, "VmRSS:"));
        std::fflush(stdout);
        opts.dns_forwarders = {dns.forwarder()};

        const unsigned parallel = 64;  // domain_verifier::verify_all's default, what the scheduler uses
        const double base_rate = dns_only_rate(dns.forwarder(), baseline, parallel);
        std::printf("  baseline (DNS only: 3 TXT lookups/domain, %u threads, %u domains): %.0f domains/s\n", parallel,
                    baseline, base_rate);
        std::fflush(stdout);

        const long rss_before = rss_mib("self", "VmRSS:");
        t = clock_type::now();
        auto first = registry::load_snapshot(opts);
        if (!first) throw std::runtime_error(first.error());
        registry::registry_handle handle(*first);
        first->reset();
        std::printf("  registry snapshot loaded in %.1f s; RSS %ld -> %ld MiB\n", seconds_since(t), rss_before,
                    rss_mib("self", "VmRSS:"));
        std::fflush(stdout);

        // What reverify_service builds: reloader (publishes each pass's states), resolver, verifier, scheduler.
        registry::registry_reloader reloader(opts, handle);
        dns::resolver resolver({.forwarders = opts.dns_forwarders, .timeout = opts.dns_timeout});
        registry::domain_verifier verifier(resolver, opts.all_outbound_ips(), opts.min_rsa_bits);
        std::atomic<std::size_t> recorded{0}, verified{0}, passes{0};
        std::atomic<bool> write_failed{false};
        registry::reverify_scheduler scheduler(
            opts, handle, verifier, registry::system_clock_seconds,
            [&](const registry::reverify_scheduler::pass_summary& p, const std::vector<registry::recorded_report>&) {
                ++passes;
                if (!p.error.empty()) write_failed = true;
                verified += p.verified;
                recorded += p.due;
            });
        const auto start = clock_type::now();
        scheduler.start(std::chrono::seconds(60), pass_size);
        std::size_t shown = 0, last = 0;
        auto progressed = clock_type::now();
        while (recorded.load() < domains && !write_failed.load()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            if (recorded.load() != last) {
                last = recorded.load();
                progressed = clock_type::now();
            } else if (seconds_since(progressed) > 600) {
                throw std::runtime_error("no pass recorded anything for 10 minutes");
            }
            if (recorded.load() >= shown + 100000) {
                shown = recorded.load();
                std::printf("  ... %zu recorded, %.0f domains/s so far, RSS %ld MiB\n", shown,
                            shown / seconds_since(start), rss_mib("self", "VmRSS:"));
                std::fflush(stdout);
            }
        }
        const double seconds = seconds_since(start);
        scheduler.stop();
        const double rate = domains / seconds;
        std::printf(
            "verify_bench: %u domains re-verified by reverify_scheduler in %.1f s = %.0f domains/s "
            "(%zu passes of <= %u, %u workers); verified %zu/%u\n"
            "  baseline DNS-only %.0f domains/s; peak RSS: this process %ld MiB, unbound %ld MiB\n"
            "  goal >= 280 domains/s (1,000,000 per 1 h interval): %s\n",
            domains, seconds, rate, passes.load(), pass_size, parallel, verified.load(), domains, base_rate,
            rss_mib("self", "VmHWM:"), rss_mib(unbound_pid, "VmHWM:"),
            rate >= 280 && verified.load() == domains ? "met" : "MISSED");
        if (write_failed.load()) std::fprintf(stderr, "verify_bench: a pass could not write the state file\n");
        if (rate < 280 || verified.load() != domains || write_failed.load()) rc = 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "verify_bench: %s\n", e.what());
        rc = 1;
    }
    return rc;
}
