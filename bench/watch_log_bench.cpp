// watch_log_bench.cpp: throughput of relaygate-watch's log path on a real
// file: log_follower reads it, parse_maillog_line parses every line, the
// delivery tracker classifies every delivery (reply_classifier). Prints lines/s.
//   watch_log_bench FILE [REPEAT]   (run by bench/watch_log.sh)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include "relaygate/watch/delivery_tracker.hpp"
#include "relaygate/watch/maillog_line.hpp"
#include "watch/log_follower.hpp"

int main(int argc, char** argv) {
    using namespace relaygate::watch;
    if (argc < 2) {
        std::fprintf(stderr, "usage: watch_log_bench FILE [REPEAT]\n");
        return 2;
    }
    const int repeat = argc > 2 ? std::atoi(argv[2]) : 3;
    transport_map tm;
    tm.add("postfix/msft-out=msft-out,microsoft,127.0.0.2");
    tm.add("postfix/msft-spare=msft-spare,microsoft,127.0.0.3");
    double best = 0;
    for (int run = 0; run < repeat; ++run) {
        delivery_tracker tracker({}, tm);
        log_follower follower(argv[1], "");
        std::size_t lines = 0, errors = 0, deliveries = 0, reputation = 0;
        const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
        const auto t0 = std::chrono::steady_clock::now();
        while (follower.poll(
                   [&](std::string_view l) {
                       ++lines;
                       const auto r = parse_maillog_line(l, now);
                       if (!r) {
                           ++errors;
                           return;
                       }
                       const auto o = tracker.observe(*r);
                       if (o.event) {
                           ++deliveries;
                           if (is_reputation(o.event->cls)) ++reputation;
                       }
                   },
                   64 << 20) > 0) {
        }
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const double rate = static_cast<double>(lines) / s;
        if (rate > best) best = rate;
        std::printf("run %d: %zu lines (%zu deliveries, %zu reputation, %zu parse errors) in %.3f s = %.0f lines/s\n",
                    run + 1, lines, deliveries, reputation, errors, s, rate);
    }
    std::printf("relaygate-watch log path: best %.0f lines/s\n", best);
    return 0;
}
