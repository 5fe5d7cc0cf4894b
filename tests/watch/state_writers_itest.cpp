// state_writers_itest.cpp: one writer at a time on the state file. The
// re-verification scheduler (the class relaygate-watch runs) and the real
// relaygate-admin verify binary write the same state file together for 100
// rounds each, each for its own domains, while a reader parses the file without
// pause. A lost update shows as a domain whose last check goes back in time or
// is missing right after its writer finished; a torn write as a parse error.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "relaygate/harness/child_process.hpp"
#include "relaygate/harness/dns_server.hpp"
#include "relaygate/harness/temp_dir.hpp"
#include "relaygate/registry/registry_loader.hpp"
#include "relaygate/registry/state_store.hpp"
#include "relaygate/verify/reverify_scheduler.hpp"
#include "reverify_zone.hpp"

namespace relaygate::watch {
namespace {

using namespace std::chrono_literals;
using namespace relaygate::registry;
const std::string admin_bin = std::string(RELAYGATE_BINARY_DIR) + "/admin/relaygate-admin";
constexpr int rounds = 100;

std::vector<std::string> names(const std::string& prefix) {
    std::vector<std::string> out;
    for (int i = 0; i < 8; ++i) out.push_back(prefix + std::to_string(i) + ".writers.test");
    return out;
}

std::int64_t unix_now() { return static_cast<std::int64_t>(std::time(nullptr)); }

TEST(state_writers, scheduler_and_hand_run_verify_never_lose_each_others_results) {
    const auto sched_domains = names("s"), admin_domains = names("a");
    auto all = sched_domains;
    all.insert(all.end(), admin_domains.begin(), admin_domains.end());
    harness::dns_server dns({}, 0, testing_zone::zone_lines("writers.test", all, {"192.0.2.10"}));
    harness::temp_dir dir("state-writers");
    const std::string state = (dir / "state.json").string();

    // The scheduler's registry holds only its domains; relaygate-admin's only its own.
    registry_options opts;
    opts.admin_file = (dir / "sched.conf").string();
    opts.state_file = state;
    opts.outbound_ips = {"192.0.2.10"};
    opts.reverify_interval = 1s;
    harness::write_file(opts.admin_file, testing_zone::admin_lines(sched_domains));
    harness::write_file(dir / "admin.conf", testing_zone::admin_lines(admin_domains));
    harness::write_file(dir / "relaygate.conf", "admin-file = " + (dir / "admin.conf").string() +
                                                    "\nstate-file = " + state +
                                                    "\noutbound-ip = 192.0.2.10\ndns-forwarder = " + dns.forwarder() +
                                                    "\ndns-timeout-ms = 2000\n");

    // The scheduler's clock is far past the real one: every pass makes every domain due, and its
    // values can never be confused with the wall-clock seconds relaygate-admin writes.
    std::atomic<std::int64_t> clock{4'000'000'000};
    registry_handle handle(*load_snapshot(opts));
    dns::resolver resolver({.forwarders = {dns.forwarder()}, .timeout = 2000ms});
    domain_verifier verifier(resolver, opts.outbound_ips, 1024);
    reverify_scheduler sched(opts, handle, verifier, [&] { return clock += 10; });

    std::atomic<bool> done{false};
    std::atomic<int> reads{0}, corrupt{0}, went_back{0};
    std::string first_problem;
    std::thread reader([&] {
        std::map<std::string, std::int64_t> seen;
        while (!done) {
            auto states = read_state_file(state);
            if (!states) {
                if (corrupt++ == 0) first_problem = states.error();
                continue;
            }
            ++reads;
            for (const auto& [domain, s] : *states) {
                auto& last = seen[domain];
                if (s.last_checked < last) ++went_back;
                last = s.last_checked;
            }
        }
    });

    std::vector<std::string> sched_failures, admin_failures;
    std::thread admin([&] {
        for (int i = 0; i < rounds; ++i) {
            const auto started = unix_now();
            const auto r = harness::run_command(
                {admin_bin, "--config=" + (dir / "relaygate.conf").string(), "--log-sink=stderr", "verify"}, 60s);
            if (r.exit_code != 0) admin_failures.push_back("exit " + std::to_string(r.exit_code) + ": " + r.output);
            auto states = read_state_file(state);
            for (const auto& d : admin_domains) {
                if (!states || !states->count(d) || states->at(d).last_checked < started) {
                    admin_failures.push_back("round " + std::to_string(i) + ": " + d + " lost its check");
                }
            }
        }
    });
    for (int i = 0; i < rounds; ++i) {
        const auto pass = sched.run_once();
        if (!pass.error.empty() || pass.due != sched_domains.size() || pass.verified != sched_domains.size()) {
            sched_failures.push_back("round " + std::to_string(i) + ": due=" + std::to_string(pass.due) +
                                     " verified=" + std::to_string(pass.verified) + " " + pass.error);
        }
        const std::int64_t recorded_at = clock;  // the pass's second reading of the clock
        auto states = read_state_file(state);
        for (const auto& d : sched_domains) {
            if (!states || !states->count(d) || states->at(d).last_checked != recorded_at) {
                sched_failures.push_back("round " + std::to_string(i) + ": " + d + " lost its check");
            }
        }
    }
    admin.join();
    done = true;
    reader.join();

    EXPECT_TRUE(sched_failures.empty()) << sched_failures.size() << " problems, first: " << sched_failures.front();
    EXPECT_TRUE(admin_failures.empty()) << admin_failures.size() << " problems, first: " << admin_failures.front();
    EXPECT_EQ(corrupt, 0) << first_problem;
    EXPECT_EQ(went_back, 0) << "a writer replaced the file from a stale read";
    EXPECT_GT(reads, 0);
    auto final_states = read_state_file(state);
    ASSERT_TRUE(final_states) << final_states.error();
    EXPECT_EQ(final_states->size(), all.size());
    for (const auto& d : all) EXPECT_EQ(final_states->at(d).state, verification_state::verified) << d;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
        EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos)
            << "temporary file left behind: " << entry.path();
    }
}

}  // namespace
}  // namespace relaygate::watch
