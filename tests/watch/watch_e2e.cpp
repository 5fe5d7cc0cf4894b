// watch_e2e.cpp: nothing lost to a Microsoft IP blocklisting, end to end, in a
// private network namespace: a real Postfix 3.7 (msft-out bound to 127.0.0.2,
// msft-spare to 127.0.0.3, both with postfix-conf/msft_dsn_filter),
// relaygate-policy as transport_maps (socketmap, reading the egress state),
// relaygate-watch on the maillog, and a "Microsoft" sink (msft_sink.py) that
// answers "550 5.7.1 ... (S3140)" to every MAIL FROM from 127.0.0.2.
// 200 messages: the watch alerts, flips to the spare and requeues within 60 s;
// all 200 arrive from 127.0.0.3, none bounces; ledger and metrics agree. When
// the fault is cleared and the hold-down has passed, mail leaves from
// 127.0.0.2 again.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "relaygate/harness/child_process.hpp"
#include "relaygate/harness/free_port.hpp"
#include "relaygate/harness/netns.hpp"
#include "relaygate/harness/postfix_instance.hpp"
#include "relaygate/harness/smtp_sink.hpp"
#include "relaygate/harness/temp_dir.hpp"
#include "relaygate/harness/wait.hpp"
#include "socketmap_client.hpp"

namespace relaygate::watch {
namespace {

using namespace std::chrono_literals;
using namespace relaygate::harness;

const std::string src = RELAYGATE_SOURCE_DIR;
const std::string bin = RELAYGATE_BINARY_DIR;
const std::string s3140 =
    "550 5.7.1 Unfortunately, messages from [127.0.0.2] weren't sent. Please contact your Internet service provider "
    "since part of their network is on our block list (S3140). You can also refer your provider to "
    "http://mail.live.com/mail/troubleshooting.aspx#errors.";

std::string active(const std::filesystem::path& egress) {
    try {
        return nlohmann::json::parse(read_file(egress)).at("families").at("microsoft").at("active_transport");
    } catch (const std::exception&) {
        return "";
    }
}

// Deliveries the Microsoft sink accepted, by client address.
std::map<std::string, std::size_t> delivered_by_client(const std::filesystem::path& file) {
    std::map<std::string, std::size_t> out;
    std::ifstream in(file);
    for (std::string l; std::getline(in, l);) ++out[nlohmann::json::parse(l).at("client").get<std::string>()];
    return out;
}

double metric(const std::string& text, const std::string& series) {
    const auto p = text.find(series + " ");
    return p == std::string::npos ? 0 : std::stod(text.substr(p + series.size() + 1));
}

class watch_e2e : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_EQ(private_netns_problem(), ""); }
};

TEST_F(watch_e2e, blocklisted_designated_ip_flips_requeues_delivers_all_and_switches_back) {
    temp_dir dir("watch-e2e");
    smtp_sink plain;
    const auto msft_port = free_port();
    write_file(dir / "rules.json", nlohmann::json{{"mail_reply_by_ip", {{"127.0.0.2", s3140}}}}.dump());
    child_process msft({.argv = {"python3", src + "/tests/watch/msft_sink.py", "127.0.0.1", std::to_string(msft_port),
                                 (dir / "rules.json").string(), (dir / "delivered.jsonl").string()},
                        .stderr_path = dir / "msft_sink.err"});
    ASSERT_TRUE(wait_until([&] { return tcp_connects("127.0.0.1", msft_port); }, 10s));

    const auto egress = dir / "egress.json";
    write_file(dir / "microsoft-domains", "outlook.test\n");
    const auto map_port = free_port();
    child_process policy({.argv = {bin + "/policy/relaygate-policy", "--policy-listen", "",
                                   "--socketmap-listen=inet:127.0.0.1:" + std::to_string(map_port),
                                   "--microsoft-domains=" + (dir / "microsoft-domains").string(),
                                   "--transport-nexthop=[127.0.0.1]:" + std::to_string(msft_port), "--mx-detection=0",
                                   "--egress-file=" + egress.string(), "--log-sink=stderr"},
                          .stderr_path = dir / "policy.err"});
    ASSERT_TRUE(wait_until([&] { return tcp_connects("127.0.0.1", map_port); }, 10s)) << read_file(dir / "policy.err");

    postfix_options o{.dir = dir / "pf", .relayhost = plain.nexthop()};
    o.smtp_transport("msft-out", "127.0.0.2").smtp_transport("msft-spare", "127.0.0.3");
    const auto filter = (dir / "pf" / "etc" / "msft_dsn_filter").string();
    o.files.emplace_back("msft_dsn_filter", read_file(src + "/postfix-conf/msft_dsn_filter"));
    o.service_params.push_back("msft-out/unix/smtp_delivery_status_filter=regexp:" + filter);
    o.service_params.push_back("msft-spare/unix/smtp_delivery_status_filter=regexp:" + filter);
    o.main("transport_maps = socketmap:inet:127.0.0.1:" + std::to_string(map_port) + ":transport")
        .main("minimal_backoff_time = 2s")
        .main("maximal_backoff_time = 4s")
        .main("queue_run_delay = 2s");
    postfix_instance postfix(o);

    const auto metrics_port = free_port();
    child_process watch(
        {.argv = {bin + "/watch/relaygate-watch", "--reverify=off", "--maillog=" + postfix.maillog_path().string(),
                  "--state-dir=" + (dir / "watch").string(), "--postfix-config-dir=" + postfix.config_dir().string(),
                  "--egress-state-file=" + egress.string(), "--transport=postfix/msft-out=msft-out,microsoft,127.0.0.2",
                  "--transport=postfix/msft-spare=msft-spare,microsoft,127.0.0.3",
                  "--failover=microsoft=msft-out,msft-spare,127.0.0.2", "--alert-window=60", "--hold-down=5",
                  "--long-deferred=1", "--alert-hook=cat >> " + (dir / "alerts.jsonl").string(),
                  "--metrics-listen=127.0.0.1:" + std::to_string(metrics_port), "--log-sink=stderr"},
         .stderr_path = dir / "watch.err"});
    ASSERT_TRUE(wait_until([&] { return tcp_connects("127.0.0.1", metrics_port); }, 10s))
        << read_file(dir / "watch.err");

    const auto sent_at = std::chrono::steady_clock::now();
    const auto send = run_command({"smtp-source", "-s", "5", "-m", "200", "-f", "news@brand.test", "-t",
                                   "bob@outlook.test", "127.0.0.1:" + std::to_string(postfix.smtp_port())},
                                  120s);
    ASSERT_EQ(send.exit_code, 0) << send.output;

    // Within 60 s: alert, flip, requeue.
    ASSERT_TRUE(wait_until([&] { return active(egress) == "msft-spare"; }, 60s)) << read_file(dir / "watch.err");
    EXPECT_LT(std::chrono::steady_clock::now() - sent_at, 60s);
    ASSERT_TRUE(wait_until(
        [&] { return read_file(dir / "watch.err").find("requeue family=microsoft queue_ids=") != std::string::npos; },
        10s));
    EXPECT_NE(read_file(dir / "watch.err").find("requeue family=microsoft queue_ids="), std::string::npos);
    EXPECT_EQ(read_file(dir / "watch.err").find(" queue_ids=0"), std::string::npos) << read_file(dir / "watch.err");
    // postsuper -r - deferred ran and succeeded (ids it no longer finds in the deferred queue are skipped).
    EXPECT_TRUE(std::regex_search(read_file(dir / "watch.err"),
                                  std::regex("requeue family=microsoft queue_ids=[1-9][0-9]* exit=0 ")))
        << read_file(dir / "watch.err");
    EXPECT_TRUE(wait_until(
        [&] { return read_file(dir / "alerts.jsonl").find("\"type\":\"alert\"") != std::string::npos; }, 10s));

    // All 200 delivered, from the spare IP; nothing bounced.
    ASSERT_TRUE(wait_until([&] { return delivered_by_client(dir / "delivered.jsonl")["127.0.0.3"] >= 200; }, 120s))
        << postfix.queue_listing();
    const auto by_client = delivered_by_client(dir / "delivered.jsonl");
    EXPECT_EQ(by_client.at("127.0.0.3"), 200u);
    EXPECT_EQ(by_client.count("127.0.0.2"), 0u);
    EXPECT_TRUE(postfix.log_lines("status=bounced").empty());
    ASSERT_TRUE(postfix.wait_queue_empty(30s));

    // Metrics and ledger agree: every long deferral recorded, each closed by its delivery.
    const std::string url = "http://127.0.0.1:" + std::to_string(metrics_port) + "/metrics";
    ASSERT_TRUE(wait_until(
        [&] {
            const auto m = run_command({"curl", "-sS", "--max-time", "5", url}).output;
            return metric(m,
                          "relaygate_watch_deliveries_total{family=\"microsoft\",transport=\"msft-spare\",status="
                          "\"sent\"}") >= 200;
        },
        10s));
    const auto m = run_command({"curl", "-sS", "--max-time", "5", url}).output;
    EXPECT_EQ(
        metric(m, "relaygate_watch_deliveries_total{family=\"microsoft\",transport=\"msft-spare\",status=\"sent\"}"),
        200);
    EXPECT_EQ(m.find("status=\"bounced\""), std::string::npos) << m;
    EXPECT_EQ(metric(m, "relaygate_watch_flips_total{family=\"microsoft\",to=\"msft-spare\"}"), 1);
    EXPECT_GE(
        metric(m,
               "relaygate_watch_replies_total{family=\"microsoft\",transport=\"msft-out\",class=\"ip_blocklisted\"}"),
        10);
    const double ledger_rows = metric(m, "relaygate_watch_ledger_rows_total{family=\"microsoft\",status=\"deferred\"}");
    const auto db = (dir / "watch" / "ledger.sqlite").string();
    const auto rows = run_command({"sqlite3", db, "SELECT count(*), count(delivered_at) FROM failures"});
    ASSERT_EQ(rows.exit_code, 0) << rows.output;
    EXPECT_EQ(rows.output, std::to_string(static_cast<long>(ledger_rows)) + "|" +
                               std::to_string(static_cast<long>(ledger_rows)) + "\n");
    const auto open = run_command(
        {bin + "/admin/relaygate-admin", "--outbound-ip=192.0.2.11", "failures", "--ledger=" + db, "--since=0"});
    EXPECT_EQ(open.exit_code, 0);
    EXPECT_EQ(open.output, "") << "nothing must be resent";

    // The fault clears; after the window drains and the hold-down, back to the designated IP.
    write_file(dir / "rules.json", "{}");
    ASSERT_TRUE(wait_until([&] { return active(egress) == "msft-out"; }, 120s)) << read_file(dir / "watch.err");
    // The egress file is written before the flip is logged: wait for the line.
    EXPECT_TRUE(wait_until(
        [&] {
            return read_file(dir / "watch.err")
                       .find("flip family=microsoft from=msft-spare to=msft-out reason=\"clean_for") !=
                   std::string::npos;
        },
        5s));
    // The policy daemon re-reads the egress state every 100 ms: wait until it steers to the designated transport.
    ASSERT_TRUE(wait_until(
        [&] {
            return test_support::socketmap_lookup(map_port, "transport carol@outlook.test").starts_with("OK msft-out:");
        },
        5s));
    const auto again = run_command({"smtp-source", "-m", "3", "-f", "news@brand.test", "-t", "carol@outlook.test",
                                    "127.0.0.1:" + std::to_string(postfix.smtp_port())},
                                   60s);
    ASSERT_EQ(again.exit_code, 0) << again.output;
    ASSERT_TRUE(wait_until([&] { return delivered_by_client(dir / "delivered.jsonl")["127.0.0.2"] >= 3; }, 60s));
    EXPECT_EQ(delivered_by_client(dir / "delivered.jsonl").at("127.0.0.3"), 200u);
}

}  // namespace
}  // namespace relaygate::watch
