// watch_daemon_itest.cpp: the real relaygate-watch binary on a real log file
// (the Postfix 3.7 capture, fed in two parts): reputation alert -> exec hook
// with the alert JSON -> flip written to the egress state file -> postsuper -r
// with exactly the family's deferred queue ids on stdin (a recording stand-in
// for postsuper; the real one runs in watch_e2e) -> metrics over loopback
// (curl) -> SIGTERM -> ledger listed -> restart without double counting.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

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
const std::string admin_bin = std::string(RELAYGATE_BINARY_DIR) + "/admin/relaygate-admin";

std::vector<std::string> capture() {
    std::ifstream in(std::string(RELAYGATE_SOURCE_DIR) + "/tests/testdata/watch/postfix37.log");
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
}

std::string active_transport(const std::filesystem::path& egress) {
    try {
        const auto j = nlohmann::json::parse(read_file(egress));
        return j.at("families").at("microsoft").at("active_transport").get<std::string>();
    } catch (const std::exception&) {
        return "";
    }
}

std::size_t count_lines(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (std::size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
    return n;
}

TEST(watch_daemon, alert_hook_flip_requeue_metrics_ledger_and_restart) {
    harness::temp_dir dir("watch-daemon");
    const auto log = dir / "maillog";
    const auto state = dir / "state";
    write_file(dir / "postsuper", "#!/bin/sh\necho \"$@\" > " + (dir / "postsuper.args").string() + "\ncat > " +
                                      (dir / "postsuper.stdin").string() + "\n");
    std::filesystem::permissions(dir / "postsuper", std::filesystem::perms::owner_all);
    const auto lines = capture();
    const auto split = std::find_if(lines.begin(), lines.end(), [](const std::string& l) {
        return l.find("refreshing the Postfix mail system") != std::string::npos;
    });
    ASSERT_NE(split, lines.end());
    std::string part1, part2;
    for (auto it = lines.begin(); it != lines.end(); ++it) (it < split ? part1 : part2) += *it + "\n";
    write_file(log, part1);

    const auto port = harness::free_port();
    std::vector<std::string> argv = {watch_bin,
                                     "--reverify=off",
                                     "--maillog=" + log.string(),
                                     "--state-dir=" + state.string(),
                                     "--egress-state-file=" + (dir / "egress.json").string(),
                                     "--transport=postfix/msft-out=msft-out,microsoft,127.0.0.2",
                                     "--transport=postfix/msft-spare=msft-spare,microsoft,127.0.0.3",
                                     "--failover=microsoft=msft-out,msft-spare,127.0.0.2",
                                     "--alert-hook=cat >> " + (dir / "hook.jsonl").string(),
                                     "--postsuper=" + (dir / "postsuper").string(),
                                     "--postfix-config-dir=/pf/etc",
                                     "--postkick=/bin/true",
                                     "--long-deferred=5",
                                     "--metrics-listen=127.0.0.1:" + std::to_string(port),
                                     "--log-sink=stderr"};
    harness::child_process watch({.argv = argv, .stderr_path = dir / "watch.err"});
    ASSERT_TRUE(harness::wait_until([&] { return active_transport(dir / "egress.json") == "msft-spare"; }, 20s))
        << read_file(dir / "watch.err");
    ASSERT_TRUE(harness::wait_until([&] { return !read_file(dir / "postsuper.stdin").empty(); }, 10s))
        << read_file(dir / "watch.err");
    EXPECT_EQ(read_file(dir / "postsuper.args"), "-c /pf/etc -r - deferred\n");
    // The family's messages with a deferred recipient at the time of the flip.
    EXPECT_EQ(read_file(dir / "postsuper.stdin"), "D3988A72335\nDD4B4A72338\nE6F35A7233D\nF1A7CA72340\n");
    ASSERT_TRUE(
        harness::wait_until([&] { return count_lines(read_file(dir / "hook.jsonl"), "\"type\":\"flip\"") >= 1; }, 10s));
    const std::string hook = read_file(dir / "hook.jsonl");
    bool saw_alert = false, saw_flip = false;
    for (std::size_t p = 0; p < hook.size();) {
        const auto nl = hook.find('\n', p);
        const auto j = nlohmann::json::parse(hook.substr(p, nl - p));
        if (j["type"] == "alert" && j["transport"] == "msft-out" && j["sender_domain"] == "(all)") {
            saw_alert = true;
            EXPECT_GE(j["reputation"].get<int>(), 10);
            EXPECT_EQ(j["family"], "microsoft");
        }
        if (j["type"] == "flip") {
            saw_flip = true;
            EXPECT_EQ(j["to"], "msft-spare");
            EXPECT_TRUE(j["reason"].get<std::string>().starts_with("reputation_alert")) << j.dump();
        }
        p = nl + 1;
    }
    EXPECT_TRUE(saw_alert) << hook;
    EXPECT_TRUE(saw_flip) << hook;
    EXPECT_NE(read_file(dir / "watch.err").find("flip family=microsoft from=msft-out to=msft-spare reason="),
              std::string::npos);

    const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/metrics";
    // The counter follows postsuper's exit: wait for it rather than race it.
    ASSERT_TRUE(harness::wait_until(
        [&] {
            return harness::run_command({"curl", "-sS", "--max-time", "5", url})
                       .output.find("relaygate_watch_requeued_total{family=\"microsoft\"} 4") != std::string::npos;
        },
        10s));
    const auto m = harness::run_command({"curl", "-sS", "--max-time", "5", url});
    ASSERT_EQ(m.exit_code, 0) << m.output;
    const auto msft_out_deferred = count_lines(part1, "postfix/msft-out/smtp[");
    EXPECT_NE(m.output.find("relaygate_watch_deliveries_total{family=\"microsoft\",transport=\"msft-out\",status="
                            "\"deferred\"} " +
                            std::to_string(msft_out_deferred) + "\n"),
              std::string::npos)
        << m.output;
    EXPECT_NE(m.output.find("relaygate_watch_active_transport{family=\"microsoft\",transport=\"msft-spare\"} 1"),
              std::string::npos);
    EXPECT_NE(m.output.find("relaygate_watch_flips_total{family=\"microsoft\",to=\"msft-spare\"} 1"),
              std::string::npos);
    EXPECT_NE(m.output.find("relaygate_watch_requeued_total{family=\"microsoft\"} 4"), std::string::npos);

    // The rest of the log (expiry, bounces), then a clean stop.
    std::ofstream(log, std::ios::app) << part2;
    ASSERT_TRUE(harness::wait_until(
        [&] { return read_file(dir / "watch.err").find("failure status=expired") != std::string::npos; }, 10s));
    ASSERT_TRUE(harness::wait_until(
        [&] {
            const auto r = harness::run_command({"curl", "-sS", "--max-time", "5", url});
            return r.output.find("relaygate_watch_lines_total " + std::to_string(lines.size()) + "\n") !=
                   std::string::npos;
        },
        10s));
    ::kill(watch.pid(), SIGTERM);
    EXPECT_EQ(watch.wait_for_exit(10s), 0);

    // The ledger is listed by relaygate-admin failures (the watch has no listing of its own).
    const std::string ledger = (state / "ledger.sqlite").string();
    const auto list = harness::run_command(
        {admin_bin, "--outbound-ip=192.0.2.1", "failures", "--ledger=" + ledger, "--since=0", "--json"});
    ASSERT_EQ(list.exit_code, 0) << list.output;
    EXPECT_EQ(count_lines(list.output, "\"status\":\"bounced\""), 2u) << list.output;  // nouser, r515
    EXPECT_EQ(count_lines(list.output, "\"status\":\"expired\""), 7u) << list.output;
    EXPECT_NE(list.output.find("\"message_id\":\"<20261201182851.008600@vm>\""), std::string::npos);
    const auto msft_only = harness::run_command(
        {admin_bin, "--outbound-ip=192.0.2.1", "failures", "--ledger=" + ledger, "--since=0", "--family=other"});
    EXPECT_EQ(msft_only.exit_code, 0);
    EXPECT_EQ(msft_only.output, "");

    // Restart: resumes at the saved position, nothing counted twice.
    const auto again =
        harness::run_command({watch_bin, "--reverify=off", "--maillog=" + log.string(), "--state-dir=" + state.string(),
                              "--egress-state-file=" + (dir / "egress.json").string(), "--metrics-listen", "",
                              "--log-sink=stderr", "--exit-at-eof", "--long-deferred=5"},
                             30s);
    EXPECT_EQ(again.exit_code, 0) << again.output;
    EXPECT_EQ(again.output.find(" failure "), std::string::npos) << again.output;
    const auto list2 = harness::run_command(
        {admin_bin, "--outbound-ip=192.0.2.1", "failures", "--ledger=" + ledger, "--since=0", "--json"});
    EXPECT_EQ(list2.output, list.output);
}

TEST(watch_daemon, bad_config_is_refused_with_file_line_and_key) {
    harness::temp_dir dir("watch-config");
    write_file(dir / "relaygate.conf", "[registry]\nadmin-file = /x\n[watch]\nmaillog = /var/log/x\nalert-minn = 3\n");
    const auto r = harness::run_command({watch_bin, "--config=" + (dir / "relaygate.conf").string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.output.find("relaygate.conf:5: key 'alert-minn': unknown key"), std::string::npos) << r.output;
    write_file(dir / "bad.conf", "[watch]\nfailover = microsoft=msft-out\n");
    const auto b = harness::run_command({watch_bin, "--config=" + (dir / "bad.conf").string()});
    EXPECT_EQ(b.exit_code, 2);
    EXPECT_NE(b.output.find("bad.conf:2: key 'failover': 'microsoft=msft-out':"), std::string::npos) << b.output;
    const auto h = harness::run_command({watch_bin, "--help"});
    EXPECT_EQ(h.exit_code, 0);
    EXPECT_NE(h.output.find("--alert-hook"), std::string::npos);
}

}  // namespace
}  // namespace relaygate::watch
