// watch_reverify_itest.cpp: re-verification inside the real relaygate-watch,
// on a compressed clock (tick 1 s, interval 2 s, grace 4 s, pending alert 3 s),
// against the real DNS fixture whose zone is changed by restarting it on the
// same port. Nobody runs relaygate-admin verify: a registered domain becomes
// verified by the schedule alone, a domain added on SIGHUP is verified at the
// next tick, and grace, demotion, recovery and "pending too long" each reach
// the alert hook once with the JSON docs/watch.md shows, and /metrics.
// A DNS outage longer than the grace period demotes nobody.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "relaygate/harness/child_process.hpp"
#include "relaygate/harness/dns_server.hpp"
#include "relaygate/harness/free_port.hpp"
#include "relaygate/harness/temp_dir.hpp"
#include "relaygate/harness/wait.hpp"
#include "relaygate/registry/state_store.hpp"
#include "reverify_zone.hpp"

namespace relaygate::watch {
namespace {

using namespace std::chrono_literals;
using harness::read_file;
using harness::write_file;
const std::string watch_bin = std::string(RELAYGATE_BINARY_DIR) + "/watch/relaygate-watch";
const std::vector<std::string> both_ips{"192.0.2.10", "192.0.2.11"};

class watch_reverify : public testing::Test {
protected:
    harness::temp_dir dir{"watch-reverify"};
    std::unique_ptr<harness::dns_server> dns;
    std::uint16_t dns_port = 0;
    std::uint16_t metrics_port = harness::free_port();
    std::unique_ptr<harness::child_process> watch;

    // (Re)starts the DNS fixture on the same port: good.rv.test with good_ips in SPF, the others with both.
    void serve(const std::vector<std::string>& good_ips) {
        if (dns) dns->stop();
        auto lines = testing_zone::zone_header("rv.test");
        for (auto& l : testing_zone::domain_lines({"good.rv.test"}, good_ips)) lines.push_back(l);
        for (auto& l : testing_zone::domain_lines({"late.rv.test"}, both_ips)) lines.push_back(l);
        dns = std::make_unique<harness::dns_server>(std::vector<std::string>{}, dns_port, lines);
        dns_port = dns->port();
    }
    void start_watch(const std::string& domains) {
        write_file(dir / "domains.conf", testing_zone::admin_lines({"good.rv.test"}) + domains);
        write_file(dir / "maillog", "");
        write_file(dir / "relaygate.conf",
                   "admin-file = " + (dir / "domains.conf").string() +
                       "\nstate-file = " + (dir / "state.json").string() +
                       "\noutbound-ip = 192.0.2.10, 192.0.2.11\ndns-forwarder = " + dns->forwarder() +
                       "\ndns-timeout-ms = 300\nreverify-interval = 2\ngrace-period = 4\n"
                       "[watch]\nmaillog = " +
                       (dir / "maillog").string() + "\nstate-dir = " + (dir / "watch").string() +
                       "\negress-state-file = " + (dir / "egress.json").string() + "\nalert-hook = cat >> " +
                       (dir / "hook.jsonl").string() + "\nmetrics-listen = 127.0.0.1:" + std::to_string(metrics_port) +
                       "\nlog-sink = stderr\nreverify-tick = 1\nreverify-pending-alert = 3\n");
        watch = std::make_unique<harness::child_process>(harness::process_spec{
            .argv = {watch_bin, "--config=" + (dir / "relaygate.conf").string()}, .stderr_path = dir / "watch.err"});
    }
    std::string log() { return read_file(dir / "watch.err"); }
    // The hook payloads for (domain, event), parsed.
    std::vector<nlohmann::json> hooks(const std::string& domain, const std::string& event) {
        std::vector<nlohmann::json> out;
        std::istringstream in(read_file(dir / "hook.jsonl"));
        for (std::string l; std::getline(in, l);) {
            auto j = nlohmann::json::parse(l);
            if (j["type"] == "verification" && j["domain"] == domain && j["event"] == event) out.push_back(j);
        }
        return out;
    }
    bool told(const std::string& domain, const std::string& event) { return !hooks(domain, event).empty(); }
    registry::verification_status state_of(const std::string& domain) {
        auto s = registry::read_state_file((dir / "state.json").string());
        return s && s->count(domain) ? s->at(domain) : registry::verification_status{};
    }
    std::string metrics() {
        return harness::run_command(
                   {"curl", "-sS", "--max-time", "5", "http://127.0.0.1:" + std::to_string(metrics_port) + "/metrics"})
            .output;
    }
    void TearDown() override {
        if (watch) {
            ::kill(watch->pid(), SIGTERM);
            EXPECT_EQ(watch->wait_for_exit(20s), 0) << log();
        }
    }
};

TEST_F(watch_reverify, the_schedule_alone_verifies_demotes_and_recovers_and_tells_the_hook_once_each) {
    serve(both_ips);
    start_watch("");
    ASSERT_TRUE(harness::wait_until([&] { return told("good.rv.test", "verified"); }, 30s)) << log();
    EXPECT_EQ(state_of("good.rv.test").state, registry::verification_state::verified);
    const auto first = hooks("good.rv.test", "verified").front();
    EXPECT_EQ(first["owner"], "owner of good.rv.test");
    EXPECT_EQ(first["previous_state"], "pending");

    // Registered later, picked up on SIGHUP: one verifies, one publishes nothing.
    write_file(dir / "domains.conf", testing_zone::admin_lines({"good.rv.test", "late.rv.test", "never.rv.test"}));
    ASSERT_EQ(::kill(watch->pid(), SIGHUP), 0);
    ASSERT_TRUE(harness::wait_until([&] { return told("late.rv.test", "verified"); }, 30s)) << log();
    ASSERT_TRUE(harness::wait_until([&] { return told("never.rv.test", "pending_overdue"); }, 30s)) << log();
    const auto overdue = hooks("never.rv.test", "pending_overdue").front();
    EXPECT_EQ(overdue["state"], "failed");
    EXPECT_EQ(overdue["reason"], "dkim_no_record");
    EXPECT_GE(overdue["time"].get<std::int64_t>() - overdue["pending_since"].get<std::int64_t>(), 3);

    // good.rv.test drops 192.0.2.11 from SPF: grace, then demotion, told with the reason.
    serve({"192.0.2.10"});
    ASSERT_TRUE(harness::wait_until([&] { return told("good.rv.test", "grace_started"); }, 30s)) << log();
    const auto grace = hooks("good.rv.test", "grace_started").front();
    EXPECT_EQ(grace["state"], "verified") << "mail keeps flowing during the grace period";
    EXPECT_EQ(grace["reason"], "spf_fail");
    EXPECT_NE(grace["detail"].get<std::string>().find("192.0.2.11"), std::string::npos) << grace;
    EXPECT_EQ(grace["demote_at"].get<std::int64_t>() - grace["time"].get<std::int64_t>(), 4);
    ASSERT_TRUE(harness::wait_until([&] { return told("good.rv.test", "demoted"); }, 30s)) << log();
    EXPECT_EQ(state_of("good.rv.test").state, registry::verification_state::failed);
    EXPECT_EQ(hooks("good.rv.test", "demoted").front()["reason"], "spf_fail");

    // Repaired: verified again.
    serve(both_ips);
    ASSERT_TRUE(harness::wait_until([&] { return told("good.rv.test", "recovered"); }, 30s)) << log();
    EXPECT_EQ(state_of("good.rv.test").state, registry::verification_state::verified);

    // Each told once, and counted.
    for (const auto& [domain, event] :
         std::vector<std::pair<std::string, std::string>>{{"good.rv.test", "verified"},
                                                          {"late.rv.test", "verified"},
                                                          {"never.rv.test", "pending_overdue"},
                                                          {"good.rv.test", "grace_started"},
                                                          {"good.rv.test", "demoted"},
                                                          {"good.rv.test", "recovered"}}) {
        EXPECT_EQ(hooks(domain, event).size(), 1u) << domain << " " << event;
    }
    const auto m = metrics();
    for (const auto& line : {"relaygate_watch_verification_events_total{event=\"grace_started\"} 1\n",
                             "relaygate_watch_verification_events_total{event=\"demoted\"} 1\n",
                             "relaygate_watch_verification_events_total{event=\"recovered\"} 1\n",
                             "relaygate_watch_verification_events_total{event=\"pending_overdue\"} 1\n",
                             "relaygate_watch_verification_events_total{event=\"verified\"} 2\n"}) {
        EXPECT_NE(m.find(line), std::string::npos) << line << m;
    }
    const auto text = log();
    EXPECT_NE(text.find("- verification_alert event=demoted domain=good.rv.test state=failed"), std::string::npos);
    EXPECT_NE(text.find("- reverify_reload registry=requested"), std::string::npos);
}

TEST_F(watch_reverify, a_dns_outage_longer_than_the_grace_period_demotes_nobody) {
    serve(both_ips);
    start_watch("");
    ASSERT_TRUE(harness::wait_until([&] { return told("good.rv.test", "verified"); }, 30s)) << log();
    const auto stopped_at = static_cast<std::int64_t>(std::time(nullptr));
    dns->stop();
    // Checked (and timing out) after the grace period and one more interval have passed.
    ASSERT_TRUE(harness::wait_until(
        [&] {
            const auto s = state_of("good.rv.test");
            return s.temporary_failure && s.last_checked >= stopped_at + 4 + 2;
        },
        40s))
        << log();
    const auto s = state_of("good.rv.test");
    EXPECT_EQ(s.state, registry::verification_state::verified);
    EXPECT_EQ(s.failing_since, 0);
    EXPECT_FALSE(told("good.rv.test", "grace_started"));
    EXPECT_FALSE(told("good.rv.test", "demoted"));
    EXPECT_NE(log().find("- registry_temporary_failure domain=good.rv.test"), std::string::npos) << log();
    const auto m = metrics();
    EXPECT_EQ(m.find("relaygate_watch_reverify_temporary_total 0\n"), std::string::npos) << m;
    EXPECT_NE(m.find("relaygate_watch_reverify_temporary_total "), std::string::npos) << m;
    dns.reset();
}

}  // namespace
}  // namespace relaygate::watch
