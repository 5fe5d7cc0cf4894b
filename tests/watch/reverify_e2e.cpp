// reverify_e2e.cpp: verification that runs by itself, end to end through a
// real Postfix in a private network namespace, one chain, no state file
// written by the test and no `relaygate-admin verify`: a domain added to the
// admin file is verified by relaygate-watch's schedule alone -> its mail is
// accepted and signed by relaygate-milter -> its SPF record loses one outbound
// IP (the DNS fixture restarted on port 53 with the new zone) -> grace (hook
// called; mail still accepted) -> demotion (hook called) -> the next message is
// rejected 550 5.7.1 naming the reason -> the record is repaired -> recovered,
// mail accepted. Then the DNS fixture is stopped for longer than the grace
// period: the domain stays verified, mail keeps flowing, the temporary
// failures are logged and counted. Compressed clock: tick 1 s, interval 2 s,
// grace 4 s.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "milter_fixture.hpp"
#include "relaygate/harness/child_process.hpp"
#include "relaygate/harness/dns_server.hpp"
#include "relaygate/harness/free_port.hpp"
#include "relaygate/harness/netns.hpp"
#include "relaygate/harness/postfix_instance.hpp"
#include "relaygate/harness/smtp_sink.hpp"
#include "relaygate/harness/swaks.hpp"
#include "relaygate/harness/temp_dir.hpp"
#include "relaygate/harness/wait.hpp"
#include "relaygate/registry/state_store.hpp"
#include "reverify_zone.hpp"

namespace relaygate::watch {
namespace {

using namespace std::chrono_literals;
using namespace relaygate::harness;

const std::string bin = RELAYGATE_BINARY_DIR;
const std::vector<std::string> both_ips{"192.0.2.10", "192.0.2.11"};
constexpr std::int64_t grace_seconds = 4, interval_seconds = 2;

class reverify_e2e : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_EQ(private_netns_problem(), ""); }

    temp_dir dir{"reverify-e2e"};
    std::unique_ptr<dns_server> dns;
    std::uint16_t metrics_port = free_port();

    void serve(const std::vector<std::string>& spf_ips) {
        if (dns) dns->stop();
        dns.reset();
        dns = std::make_unique<dns_server>(std::vector<std::string>{}, 53,
                                           testing_zone::zone_lines("rv.test", {"good.rv.test"}, spf_ips));
    }
    std::vector<nlohmann::json> hooks(const std::string& event) {
        std::vector<nlohmann::json> out;
        std::istringstream in(read_file(dir / "hook.jsonl"));
        for (std::string l; std::getline(in, l);) {
            auto j = nlohmann::json::parse(l);
            if (j["type"] == "verification" && j["domain"] == "good.rv.test" && j["event"] == event) out.push_back(j);
        }
        return out;
    }
    bool told(const std::string& event) { return !hooks(event).empty(); }
    registry::verification_status state() {
        auto s = registry::read_state_file((dir / "state.json").string());
        return s && s->count("good.rv.test") ? s->at("good.rv.test") : registry::verification_status{};
    }
    std::string metrics() {
        return run_command(
                   {"curl", "-sS", "--max-time", "5", "http://127.0.0.1:" + std::to_string(metrics_port) + "/metrics"})
            .output;
    }
    std::string logs() {
        return "--- watch:\n" + read_file(dir / "watch.err") + "--- milter:\n" + read_file(dir / "milter.err");
    }
};

TEST_F(reverify_e2e, registered_verified_signed_graced_demoted_rejected_repaired_and_unharmed_by_a_dns_outage) {
    serve(both_ips);
    smtp_sink sink;
    const auto milter_socket = dir / "milter.sock";
    postfix_instance postfix(postfix_options{.dir = dir / "pf",
                                             .relayhost = sink.nexthop(),
                                             .main_cf = {"smtpd_milters = unix:" + milter_socket.string(),
                                                         "milter_default_action = tempfail", "milter_protocol = 6"}});

    // The operator's files: nothing registered yet, no state file at all.
    write_file(dir / "domains.conf", "# customer domains\n");
    const std::string registry_keys = "admin-file = " + (dir / "domains.conf").string() +
                                      "\nstate-file = " + (dir / "state.json").string() +
                                      "\noutbound-ip = 192.0.2.10, 192.0.2.11\noperator-domain = relay.example.net\n";
    write_file(dir / "milter.conf", registry_keys + "socket = unix:" + milter_socket.string() +
                                        "\nsocket-mode = 0666\nrejection-log = " + (dir / "rejections.log").string() +
                                        "\nlog-sink = stderr\n");
    write_file(dir / "maillog", "");
    write_file(dir / "relaygate.conf",
               registry_keys + "dns-timeout-ms = 300\nreverify-interval = " + std::to_string(interval_seconds) +
                   "\ngrace-period = " + std::to_string(grace_seconds) + "\n[watch]\nmaillog = " +
                   postfix.maillog_path().string() + "\nstate-dir = " + (dir / "watch").string() +
                   "\negress-state-file = " + (dir / "egress.json").string() + "\nalert-hook = cat >> " +
                   (dir / "hook.jsonl").string() + "\nmetrics-listen = 127.0.0.1:" + std::to_string(metrics_port) +
                   "\nlog-sink = stderr\nreverify-tick = 1\n");
    child_process milter({.argv = {milter::testing::milter_binary, "--config", (dir / "milter.conf").string()},
                          .stderr_path = dir / "milter.err"});
    child_process watch({.argv = {bin + "/watch/relaygate-watch", "--config=" + (dir / "relaygate.conf").string()},
                         .stderr_path = dir / "watch.err"});
    ASSERT_TRUE(wait_until([&] { return tcp_connects("127.0.0.1", metrics_port); }, 10s)) << logs();

    auto send = [&](const std::string& subject) {
        return swaks_send({.port = postfix.smtp_port(),
                           .from = "bounce@relay.example.net",
                           .to = {"alice@example.net"},
                           .headers = {"From: News <news@good.rv.test>", "Subject: " + subject},
                           .body = "reverify e2e"});
    };
    auto reply = [](const swaks_result& r) { return r.data_reply().value_or("(no reply) " + r.transcript); };
    // The milter follows the state file on its own poll: send until its answer starts with `code`.
    auto send_until = [&](const std::string& code, const std::string& subject) {
        swaks_result last;
        const bool ok = wait_until(
            [&] {
                last = send(subject);
                return reply(last).starts_with(code);
            },
            30s, 500ms);
        EXPECT_TRUE(ok) << "last reply: " << reply(last) << "\n" << logs();
        return last;
    };

    // 1. Registered: verified by the schedule alone, then accepted and signed.
    write_file(dir / "domains.conf", "# customer domains\n" + testing_zone::admin_lines({"good.rv.test"}));
    ASSERT_TRUE(wait_until([&] { return told("verified"); }, 30s)) << logs();
    EXPECT_EQ(state().state, registry::verification_state::verified);
    send_until("250 ", "verified");
    ASSERT_TRUE(sink.wait_for_messages(1));
    const auto signature = sink.messages().back().header("DKIM-Signature");
    ASSERT_TRUE(signature.has_value()) << read_file(sink.messages().back().file);
    EXPECT_NE(signature->find("d=good.rv.test"), std::string::npos) << *signature;
    EXPECT_NE(signature->find("s=s1"), std::string::npos) << *signature;

    // 2. SPF loses 192.0.2.11: grace starts (hook), mail still flows.
    serve({"192.0.2.10"});
    ASSERT_TRUE(wait_until([&] { return told("grace_started"); }, 30s)) << logs();
    const auto grace = hooks("grace_started").front();
    EXPECT_EQ(grace["reason"], "spf_fail") << grace;
    EXPECT_EQ(grace["owner"], "owner of good.rv.test");
    if (!told("demoted")) {
        EXPECT_EQ(state().state, registry::verification_state::verified);
    }

    // 3. After the grace period: demoted (hook), and the next message is rejected naming the reason.
    ASSERT_TRUE(wait_until([&] { return told("demoted"); }, 30s)) << logs();
    const auto rejected = send_until("550 ", "demoted");
    EXPECT_NE(reply(rejected).find("5.7.1"), std::string::npos) << reply(rejected);
    EXPECT_NE(reply(rejected).find("good.rv.test is not verified"), std::string::npos) << reply(rejected);
    EXPECT_NE(reply(rejected).find("192.0.2.11"), std::string::npos) << reply(rejected);

    // 4. Repaired: recovered (hook), mail accepted again.
    serve(both_ips);
    ASSERT_TRUE(wait_until([&] { return told("recovered"); }, 30s)) << logs();
    const auto delivered_before = sink.messages().size();
    send_until("250 ", "recovered");
    ASSERT_TRUE(sink.wait_for_messages(delivered_before + 1));

    // 5. DNS outage longer than the grace period: still verified, mail flows, failures logged and counted.
    const auto stopped_at = static_cast<std::int64_t>(std::time(nullptr));
    dns->stop();
    ASSERT_TRUE(wait_until(
        [&] {
            const auto s = state();
            return s.temporary_failure && s.last_checked >= stopped_at + grace_seconds + interval_seconds;
        },
        40s))
        << logs();
    EXPECT_EQ(state().state, registry::verification_state::verified);
    EXPECT_EQ(state().failing_since, 0);
    const auto during_outage = send("outage");
    EXPECT_TRUE(reply(during_outage).starts_with("250 ")) << reply(during_outage);
    EXPECT_EQ(hooks("grace_started").size(), 1u) << "the outage started no grace period";
    EXPECT_EQ(hooks("demoted").size(), 1u);
    EXPECT_NE(read_file(dir / "watch.err").find("- registry_temporary_failure domain=good.rv.test"), std::string::npos);
    const auto m = metrics();
    EXPECT_NE(m.find("relaygate_watch_reverify_temporary_total "), std::string::npos) << m;
    EXPECT_EQ(m.find("relaygate_watch_reverify_temporary_total 0\n"), std::string::npos) << m;

    ::kill(watch.pid(), SIGTERM);
    EXPECT_EQ(watch.wait_for_exit(20s), 0) << logs();
}

}  // namespace
}  // namespace relaygate::watch
