// decision_lines_e2e.cpp: relaygate-milter's and relaygate-policy's decision
// lines reach the watch through Postfix's own maillog_file, in a private
// network namespace: a real Postfix 3.7 (postlogd) with relaygate-milter
// (--log-sink postlog:$queue_directory/public/postlog) as smtpd_milters and
// relaygate-policy (--log-sink postlog:...) as transport_maps; an smtp-sink
// that answers 550 to RCPT stands in for Microsoft. The milter's line lands in
// the maillog with the message's queue id; relaygate-watch reading that log
// counts the decisions in its metrics and fills from_domain in the ledger row
// of the bounce (checked with `relaygate-admin failures --json --all`).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

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

namespace relaygate::watch {
namespace {

using namespace std::chrono_literals;
using namespace relaygate::harness;

const std::string bin = RELAYGATE_BINARY_DIR;

std::string metrics_text(std::uint16_t port) {
    return run_command({"curl", "-sS", "--max-time", "5", "http://127.0.0.1:" + std::to_string(port) + "/metrics"})
        .output;
}

class decision_lines_e2e : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_EQ(private_netns_problem(), ""); }
};

TEST_F(decision_lines_e2e, milter_and_policy_lines_reach_the_maillog_metrics_and_ledger_from_domain) {
    temp_dir dir("decision-e2e");
    dns_server dns({milter::testing::testdata + "dns.conf"}, 53);
    smtp_sink plain;
    smtp_sink msft({.hard_reject = {"RCPT"}, .hard_reply = "550 5.1.1 mailbox unavailable"});

    // Postfix first: the postlog socket exists once it runs.
    const auto milter_socket = dir / "milter.sock";
    const auto map_port = free_port();
    postfix_options o{.dir = dir / "pf", .relayhost = plain.nexthop()};
    o.smtp_transport("msft-out", "127.0.0.2");
    o.main("smtpd_milters = unix:" + milter_socket.string())
        .main("milter_default_action = tempfail")
        .main("milter_protocol = 6")
        .main("transport_maps = socketmap:inet:127.0.0.1:" + std::to_string(map_port) + ":transport");
    postfix_instance postfix(o);
    const std::string postlog = "postlog:" + (postfix.queue_dir() / "public" / "postlog").string();
    ASSERT_TRUE(std::filesystem::exists(postfix.queue_dir() / "public" / "postlog"));

    write_file(dir / "microsoft-domains", "outlook.test\n");
    child_process policy({.argv = {bin + "/policy/relaygate-policy", "--policy-listen", "",
                                   "--socketmap-listen=inet:127.0.0.1:" + std::to_string(map_port),
                                   "--microsoft-domains=" + (dir / "microsoft-domains").string(),
                                   "--transport-nexthop=" + msft.nexthop(), "--mx-detection=0",
                                   "--egress-file=" + (dir / "egress.json").string(), "--log-sink=" + postlog},
                          .stderr_path = dir / "policy.err"});
    ASSERT_TRUE(wait_until([&] { return tcp_connects("127.0.0.1", map_port); }, 10s)) << read_file(dir / "policy.err");

    write_file(dir / "domains.conf", milter::testing::admin_file_text());
    ASSERT_TRUE(registry::write_state_file((dir / "state.json").string(), milter::testing::standard_states()));
    write_file(dir / "milter.conf",
               "socket = unix:" + milter_socket.string() + "\nsocket-mode = 0666\n" + "admin-file = " +
                   (dir / "domains.conf").string() + "\n" + "state-file = " + (dir / "state.json").string() + "\n" +
                   "operator-domain = relay.example.net\noutbound-ip = 192.0.2.11\n" +
                   "rejection-log = " + (dir / "rejections.log").string() + "\n" + "log-sink = " + postlog + "\n");
    child_process milter({.argv = {milter::testing::milter_binary, "--config", (dir / "milter.conf").string()},
                          .stderr_path = dir / "milter.err"});
    // Its start line arrives through postlogd, like every other line of it.
    ASSERT_TRUE(postfix.wait_for_log(R"(relaygate-milter\[[0-9]+\]: - started)", 10s))
        << read_file(dir / "milter.err") << postfix.maillog();

    const auto accepted = swaks_send({.port = postfix.smtp_port(),
                                      .from = "bounce@relay.example.net",
                                      .to = {"bob@outlook.test"},
                                      .headers = {"From: News <news@Verified.example>", "Subject: decision e2e"},
                                      .body = "accepted by the milter, bounced by the sink"});
    ASSERT_TRUE(accepted.data_reply() && accepted.data_reply()->starts_with("250 ")) << accepted.transcript;
    const std::string qid = accepted.queue_id();
    ASSERT_FALSE(qid.empty());
    const auto rejected = swaks_send({.port = postfix.smtp_port(),
                                      .from = "bounce@relay.example.net",
                                      .to = {"carol@example.net"},
                                      .headers = {"From: ceo@unknown.example", "Subject: decision e2e"},
                                      .body = "rejected by the milter"});
    ASSERT_TRUE(rejected.data_reply() && rejected.data_reply()->starts_with("550 ")) << rejected.transcript;

    // The milter's decision line, in Postfix's maillog, with the queue id first.
    ASSERT_TRUE(postfix.wait_for_log(
        R"(relaygate-milter\[[0-9]+\]: )" + qid + " accept reason=ok from_domains=verified.example client=127.0.0.1",
        10s));
    ASSERT_TRUE(postfix.wait_for_log(" reject reason=not_registered domain=unknown.example", 10s));
    ASSERT_TRUE(postfix.wait_for_log(
        R"(relaygate-policy\[[0-9]+\]: - socketmap key=bob@outlook.test domain=outlook.test reply=\"OK msft-out:)",
        10s));
    ASSERT_TRUE(postfix.wait_for_log(qid + ": to=<bob@outlook.test>.*status=bounced", 30s)) << postfix.maillog();

    const auto metrics_port = free_port();
    const auto state = dir / "watch";
    child_process watch(
        {.argv = {bin + "/watch/relaygate-watch", "--reverify=off", "--maillog=" + postfix.maillog_path().string(),
                  "--state-dir=" + state.string(), "--egress-state-file=" + (dir / "egress.json").string(),
                  "--transport=postfix/msft-out=msft-out,microsoft,127.0.0.2",
                  "--metrics-listen=127.0.0.1:" + std::to_string(metrics_port), "--log-sink=stderr"},
         .stderr_path = dir / "watch.err"});
    ASSERT_TRUE(wait_until([&] { return tcp_connects("127.0.0.1", metrics_port); }, 10s))
        << read_file(dir / "watch.err");
    ASSERT_TRUE(wait_until(
        [&] {
            return metrics_text(metrics_port)
                       .find("relaygate_watch_ledger_rows_total{family=\"microsoft\",status=\"bounced\"} 1") !=
                   std::string::npos;
        },
        10s))
        << metrics_text(metrics_port) << read_file(dir / "watch.err");
    const auto m = metrics_text(metrics_port);
    EXPECT_NE(m.find("relaygate_milter_decisions_total{action=\"accept\",reason=\"ok\"} 1\n"), std::string::npos) << m;
    EXPECT_NE(m.find("relaygate_milter_decisions_total{action=\"reject\",reason=\"not_registered\"} 1\n"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("relaygate_policy_steering_total{reply=\"ok\",transport=\"msft-out\",reason=\"domain_list\"}"),
              std::string::npos)
        << m;
    EXPECT_EQ(m.find("relaygate_watch_parse_errors_total{"), std::string::npos) << m;

    // The bounce's ledger row carries the From domain of the milter's line (lower case).
    const auto list = run_command({bin + "/admin/relaygate-admin", "--outbound-ip=192.0.2.11", "failures", "--since",
                                   "0", "--json", "--all", "--ledger", (state / "ledger.sqlite").string()});
    ASSERT_EQ(list.exit_code, 0) << list.output;
    const auto row = nlohmann::json::parse(list.output.substr(0, list.output.find('\n')));
    EXPECT_EQ(row["queue_id"], qid);
    EXPECT_EQ(row["status"], "bounced");
    EXPECT_EQ(row["recipient"], "bob@outlook.test");
    EXPECT_EQ(row["sender"], "bounce@relay.example.net");
    EXPECT_EQ(row["from_domain"], "verified.example");
    EXPECT_EQ(std::count(list.output.begin(), list.output.end(), '\n'), 1) << list.output;
    ::kill(watch.pid(), SIGTERM);
    EXPECT_EQ(watch.wait_for_exit(10s), 0);
}

}  // namespace
}  // namespace relaygate::watch
