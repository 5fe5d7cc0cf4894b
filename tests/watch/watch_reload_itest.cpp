// watch_reload_itest.cpp: SIGHUP of the real relaygate-watch. Its config file
// is rewritten (alert hook, --alert-min) and SIGHUP makes the new values apply
// to the next log line; a broken config file is logged (reload_failed) and
// the old values stay in force. The log lines are a real S3140 deferral of the
// Postfix 3.7 capture, repeated for new recipients.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "relaygate/harness/child_process.hpp"
#include "relaygate/harness/free_port.hpp"
#include "relaygate/harness/temp_dir.hpp"
#include "relaygate/harness/wait.hpp"

namespace relaygate::watch {
namespace {

using namespace std::chrono_literals;
using harness::read_file;
using harness::write_file;

const std::string watch_bin = std::string(RELAYGATE_BINARY_DIR) + "/watch/relaygate-watch";

std::string s3140_line() {
    std::ifstream in(std::string(RELAYGATE_SOURCE_DIR) + "/tests/testdata/watch/postfix37.log");
    for (std::string l; std::getline(in, l);) {
        if (l.find("postfix/msft-out/smtp[") != std::string::npos && l.find("(S3140)") != std::string::npos) return l;
    }
    return "";
}

// n copies of the S3140 line for recipients r<first>..: on `service` (msft-out or msft-spare).
std::string deferrals(int first, int n, const std::string& service) {
    std::string base = s3140_line();
    const auto svc = base.find("postfix/msft-out/");
    base.replace(svc, std::string("postfix/msft-out/").size(), "postfix/" + service + "/");
    const auto to = base.find("to=<bob@");
    std::string out;
    for (int i = first; i < first + n; ++i) {
        std::string l = base;
        l.replace(to, std::string("to=<bob@").size(), "to=<r" + std::to_string(i) + "@");
        out += l + "\n";
    }
    return out;
}

std::string metrics(std::uint16_t port) {
    return harness::run_command(
               {"curl", "-sS", "--max-time", "5", "http://127.0.0.1:" + std::to_string(port) + "/metrics"})
        .output;
}

bool replies_seen(std::uint16_t port, const std::string& transport, int n) {
    return metrics(port).find("relaygate_watch_replies_total{family=\"microsoft\",transport=\"" + transport +
                              "\",class=\"ip_blocklisted\"} " + std::to_string(n) + "\n") != std::string::npos;
}

TEST(watch_reload, sighup_applies_hook_and_thresholds_and_a_broken_config_keeps_the_old) {
    harness::temp_dir dir("watch-reload");
    ASSERT_NE(s3140_line(), "");
    const auto log = dir / "maillog";
    write_file(log, "");
    const auto port = harness::free_port();
    auto config = [&](const std::string& min, const std::string& hook_file) {
        write_file(dir / "relaygate.conf",
                   "[watch]\nreverify = off\nmaillog = " + log.string() + "\nstate-dir = " + (dir / "state").string() +
                       "\negress-state-file = " + (dir / "egress.json").string() +
                       "\ntransport = postfix/msft-out=msft-out,microsoft,127.0.0.2\n"
                       "transport = postfix/msft-spare=msft-spare,microsoft,127.0.0.3\n"
                       "alert-min = " +
                       min + "\nalert-hook = cat >> " + (dir / hook_file).string() +
                       "\nmetrics-listen = 127.0.0.1:" + std::to_string(port) + "\nlog-sink = stderr\n");
    };
    config("1000", "hook1.jsonl");
    harness::child_process watch(
        {.argv = {watch_bin, "--config=" + (dir / "relaygate.conf").string()}, .stderr_path = dir / "watch.err"});
    ASSERT_TRUE(harness::wait_until([&] { return harness::tcp_connects("127.0.0.1", port); }, 10s))
        << read_file(dir / "watch.err");

    // 12 reputation replies: under alert-min 1000, no alert.
    std::ofstream(log, std::ios::app) << deferrals(0, 12, "msft-out");
    ASSERT_TRUE(harness::wait_until([&] { return replies_seen(port, "msft-out", 12); }, 10s)) << metrics(port);
    EXPECT_EQ(read_file(dir / "watch.err").find(" alert family="), std::string::npos) << read_file(dir / "watch.err");

    // New threshold and hook: the next reply alerts, into the new hook.
    config("10", "hook2.jsonl");
    ASSERT_EQ(::kill(watch.pid(), SIGHUP), 0);
    ASSERT_TRUE(harness::wait_until(
        [&] { return read_file(dir / "watch.err").find("- reload applied=") != std::string::npos; }, 10s))
        << read_file(dir / "watch.err");
    std::ofstream(log, std::ios::app) << deferrals(12, 1, "msft-out");
    ASSERT_TRUE(harness::wait_until(
        [&] { return read_file(dir / "hook2.jsonl").find("\"sender_domain\":\"(all)\"") != std::string::npos; }, 10s))
        << read_file(dir / "watch.err");
    nlohmann::json alert;
    std::istringstream hook2(read_file(dir / "hook2.jsonl"));
    for (std::string l; std::getline(hook2, l);) {
        const auto j = nlohmann::json::parse(l);
        if (j["sender_domain"] == "(all)") alert = j;
    }
    EXPECT_EQ(alert["type"], "alert");
    EXPECT_EQ(alert["reputation"], 13);
    EXPECT_EQ(alert["attempts"], 13);
    EXPECT_EQ(alert["transport"], "msft-out");
    EXPECT_FALSE(std::filesystem::exists(dir / "hook1.jsonl"));

    // A broken config (alert-min must be >= 1): logged, the old values stay.
    config("0", "hook3.jsonl");
    ASSERT_EQ(::kill(watch.pid(), SIGHUP), 0);
    ASSERT_TRUE(harness::wait_until(
        [&] { return read_file(dir / "watch.err").find("- reload_failed") != std::string::npos; }, 10s))
        << read_file(dir / "watch.err");
    EXPECT_NE(read_file(dir / "watch.err").find("relaygate.conf:8: key 'alert-min': '0': must be >= 1"),
              std::string::npos)
        << read_file(dir / "watch.err");
    // Under the kept alert-min 10: 9 replies on the spare do not alert, the 10th does, into hook2.
    std::ofstream(log, std::ios::app) << deferrals(100, 9, "msft-spare");
    ASSERT_TRUE(harness::wait_until([&] { return replies_seen(port, "msft-spare", 9); }, 10s)) << metrics(port);
    EXPECT_EQ(read_file(dir / "watch.err").find("alert family=microsoft transport=msft-spare"), std::string::npos);
    std::ofstream(log, std::ios::app) << deferrals(109, 1, "msft-spare");
    ASSERT_TRUE(harness::wait_until(
        [&] { return read_file(dir / "hook2.jsonl").find("\"transport\":\"msft-spare\"") != std::string::npos; }, 10s))
        << read_file(dir / "watch.err");
    EXPECT_FALSE(std::filesystem::exists(dir / "hook3.jsonl"));
    EXPECT_TRUE(watch.running());
    ::kill(watch.pid(), SIGTERM);
    EXPECT_EQ(watch.wait_for_exit(10s), 0);
}

}  // namespace
}  // namespace relaygate::watch
