// policy_memory.cpp: how much memory the in-process rate windows take with
// 1,000,000 distinct sender keys (and that it stays bounded beyond that).
// Drives decide_volume() with the rules of bench/policy_bench.sh (per sender
// and per sender domain) and reads the process RSS from /proc/self/statm.
//   policy_memory [KEYS=1000000] [MAX_RATE_KEYS=2000000]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "relaygate/policy/volume_policy.hpp"

namespace {

double rss_mib() {
    std::ifstream statm("/proc/self/statm");
    long pages = 0, resident = 0;
    statm >> pages >> resident;
    return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

}  // namespace

int main(int argc, char** argv) {
    using namespace relaygate::policy;
    long keys = argc > 1 ? std::atol(argv[1]) : 1000000;
    std::size_t max_keys = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 2000000;
    volume_config cfg;
    cfg.rules.push_back(*parse_rate_rule("sender:recipients:500/1h"));
    cfg.rules.push_back(*parse_rate_rule("sender_domain:recipients:100000/1h"));
    auto counters = make_local_counter_store(max_keys);
    double before = rss_mib();
    auto start = std::chrono::steady_clock::now();
    policy_request req;
    req.request = "smtpd_access_policy";
    req.protocol_state = "RCPT";
    req.recipient = "x@example.net";
    req.client_address = "192.0.2.1";
    std::string sender;
    long deferred = 0;
    for (long i = 0; i < keys; ++i) {
        // 1,000,000 distinct senders over 10,000 sender domains.
        sender = "user" + std::to_string(i) + "@corp" + std::to_string(i % 10000) + ".example.jp";
        req.sender = sender;
        if (decide_volume(req, cfg, *counters, nullptr, 1700000000000).what != verdict::dunno) ++deferred;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double after = rss_mib();
    std::printf(
        "RESULT bench=rate_memory distinct_senders=%ld tracked_keys=%zu max_rate_keys=%zu rss_before_mib=%.1f "
        "rss_after_mib=%.1f growth_mib=%.1f bytes_per_key=%.0f decisions_per_s=%.0f deferred=%ld\n",
        keys, counters->keys(), max_keys, before, after, after - before,
        (after - before) * 1024 * 1024 / static_cast<double>(counters->keys()), static_cast<double>(keys) / secs,
        deferred);
    return 0;
}
