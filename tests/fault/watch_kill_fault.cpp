// watch_kill_fault.cpp: relaygate-watch killed (SIGKILL) after it flipped the
// Microsoft family to the spare and before it requeued and told the hook, in
// the middle of 2,000 messages to a "Microsoft" MX that refuses the designated
// IP (S3140), then restarted. The crash point is the test-only environment
// variable RELAYGATE_WATCH_TEST_CRASH=after_flip (docs/watch.md). Proves: the
// restarted watch replays its flip journal (the requeue of the journaled queue
// ids runs, the flip alert reaches the hook), the ledger has a row for every
// long deferral the log shows (the position did not skip lines), and every
// accepted message arrives exactly once, none from the blocklisted IP.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "fault_fixture.hpp"
#include "relaygate/harness/free_port.hpp"
#include "relaygate/harness/netns.hpp"
#include "relaygate/harness/postfix_instance.hpp"
#include "relaygate/harness/smtp_sink.hpp"
#include "relaygate/harness/temp_dir.hpp"
#include "relaygate/harness/wait.hpp"

namespace relaygate::fault {
namespace {

using namespace std::chrono_literals;
using namespace relaygate::harness;

const std::string s3140 =
    "550 5.7.1 Unfortunately, messages from [127.0.0.2] weren't sent. Please contact your Internet service provider "
    "since part of their network is on our block list (S3140).";

std::string active(const std::filesystem::path& egress) {
    try {
        return nlohmann::json::parse(read_file(egress)).at("families").at("microsoft").at("active_transport");
    } catch (const std::exception&) {
        return "";
    }
}

// msft_sink.py's DELIVERED file: one {client, rcpt, msgid} line per message.
arrivals read_msft_sink(const std::filesystem::path& file) {
    arrivals a;
    std::ifstream in(file);
    for (std::string l; std::getline(in, l);) {
        const auto j = nlohmann::json::parse(l, nullptr, false);
        if (j.is_object()) a.add(j.value("msgid", ""), j.value("client", ""));
    }
    return a;
}

class watch_fault : public netns_test {};

TEST_F(watch_fault, kill9_between_flip_and_requeue_is_finished_after_restart) {
    temp_dir dir("fault-watch");
    const auto msft_port = free_port();
    write_file(dir / "rules.json", nlohmann::json{{"mail_reply_by_ip", {{"127.0.0.2", s3140}}}}.dump());
    child_process msft(
        {.argv = {"python3", source_dir + "/tests/watch/msft_sink.py", "127.0.0.1", std::to_string(msft_port),
                  (dir / "rules.json").string(), (dir / "delivered.jsonl").string()},
         .stderr_path = dir / "msft_sink.err"});
    ASSERT_TRUE(wait_until([&] { return tcp_connects("127.0.0.1", msft_port); }, 10s));
    const auto egress = dir / "egress.json";
    write_file(dir / "microsoft-domains", "outlook.test\n");
    const auto map_port = free_port();
    child_process policy({.argv = {binary_dir + "/policy/relaygate-policy", "--policy-listen", "",
                                   "--socketmap-listen=inet:127.0.0.1:" + std::to_string(map_port),
                                   "--microsoft-domains=" + (dir / "microsoft-domains").string(),
                                   "--transport-nexthop=[127.0.0.1]:" + std::to_string(msft_port), "--mx-detection=0",
                                   "--egress-file=" + egress.string(), "--log-sink=stderr"},
                          .stderr_path = dir / "policy.err"});
    ASSERT_TRUE(wait_until([&] { return tcp_connects("127.0.0.1", map_port); }, 10s)) << read_file(dir / "policy.err");

    smtp_sink plain;
    postfix_options o{.dir = dir / "pf", .relayhost = plain.nexthop()};
    o.smtp_transport("msft-out", "127.0.0.2").smtp_transport("msft-spare", "127.0.0.3");
    const auto filter = (dir / "pf" / "etc" / "msft_dsn_filter").string();
    o.files.emplace_back("msft_dsn_filter", read_file(source_dir + "/postfix-conf/msft_dsn_filter"));
    o.service_params.push_back("msft-out/unix/smtp_delivery_status_filter=regexp:" + filter);
    o.service_params.push_back("msft-spare/unix/smtp_delivery_status_filter=regexp:" + filter);
    o.main("transport_maps = socketmap:inet:127.0.0.1:" + std::to_string(map_port) + ":transport")
        .main("minimal_backoff_time = 2s")
        .main("maximal_backoff_time = 4s")
        .main("queue_run_delay = 2s");
    postfix_instance postfix(o);

    const auto state_dir = dir / "watch";
    const std::vector<std::string> watch_argv{binary_dir + "/watch/relaygate-watch",
                                              "--reverify=off",
                                              "--maillog=" + postfix.maillog_path().string(),
                                              "--state-dir=" + state_dir.string(),
                                              "--postfix-config-dir=" + postfix.config_dir().string(),
                                              "--egress-state-file=" + egress.string(),
                                              "--transport=postfix/msft-out=msft-out,microsoft,127.0.0.2",
                                              "--transport=postfix/msft-spare=msft-spare,microsoft,127.0.0.3",
                                              "--failover=microsoft=msft-out,msft-spare,127.0.0.2",
                                              "--alert-window=60",
                                              "--hold-down=3600",
                                              "--long-deferred=1",
                                              "--alert-hook=cat >> " + (dir / "alerts.jsonl").string(),
                                              "--metrics-listen",
                                              "",
                                              "--log-sink=stderr"};
    child_process watch(
        {.argv = watch_argv, .env = {"RELAYGATE_WATCH_TEST_CRASH=after_flip"}, .stderr_path = dir / "watch.err"});

    fault_sender sender({.port = postfix.smtp_port(),
                         .prefix = "watch",
                         .header_from = "news@brand.test",
                         .recipients = {"bob@outlook.test"}},
                        dir.path());
    // The crash: after the store says msft-spare, before requeue and hook.
    ASSERT_TRUE(watch.wait_for_exit(90s).has_value()) << read_file(dir / "watch.err");
    EXPECT_EQ(watch.status(), 128 + 9) << read_file(dir / "watch.err");
    const auto first_log = read_file(dir / "watch.err");
    EXPECT_NE(first_log.find("test_crash at=after_flip"), std::string::npos) << first_log;
    EXPECT_EQ(first_log.find("- requeue "), std::string::npos) << first_log;
    EXPECT_EQ(active(egress), "msft-spare");
    const auto journal = nlohmann::json::parse(read_file(state_dir / "flip.intent"), nullptr, false);
    ASSERT_TRUE(journal.is_object()) << read_file(state_dir / "flip.intent");
    const auto journaled_ids = journal["intents"][0]["queue_ids"].size();
    EXPECT_GT(journaled_ids, 0u) << journal.dump();

    child_process restarted({.argv = watch_argv, .stderr_path = dir / "watch2.err"});
    ASSERT_TRUE(wait_until(
        [&] {
            return std::regex_search(read_file(dir / "watch2.err"),
                                     std::regex("requeue family=microsoft queue_ids=[1-9][0-9]* exit=0"));
        },
        30s))
        << read_file(dir / "watch2.err");
    EXPECT_NE(read_file(dir / "watch2.err").find("flip_replayed family=microsoft"), std::string::npos);
    EXPECT_NE(read_file(dir / "watch2.err").find("queue_ids=" + std::to_string(journaled_ids)), std::string::npos);
    EXPECT_TRUE(wait_until([&] { return !std::filesystem::exists(state_dir / "flip.intent"); }, 10s));
    ASSERT_TRUE(
        wait_until([&] { return read_file(dir / "alerts.jsonl").find("\"type\":\"flip\"") != std::string::npos; }, 20s))
        << "the flip's alert was lost with the crash\n"
        << read_file(dir / "watch2.err");

    const auto sent = sender.wait();
    ASSERT_TRUE(postfix.wait_queue_empty(120s)) << postfix.queue_listing();
    const auto got = read_msft_sink(dir / "delivered.jsonl");
    const auto t = count(sent, got);
    report("watch_kill9_after_flip", sent, t);
    EXPECT_EQ(sent.accepted, 2000) << sent.output;
    EXPECT_EQ(t.delivered, 2000);
    EXPECT_EQ(t.lost, 0);
    EXPECT_EQ(t.duplicated, 0);
    for (const auto& [id, clients] : got.clients) {
        for (const auto& c : clients) ASSERT_EQ(c, "127.0.0.3") << id << " left through " << c;
    }

    // Ledger complete: every queue id the log shows with a long deferral on msft-out has its row.
    const auto log_size = std::filesystem::file_size(postfix.maillog_path());
    auto read_to = [&] {
        std::istringstream p(read_file(state_dir / "maillog.position"));
        std::uint64_t dev = 0, ino = 0, offset = 0;
        p >> dev >> ino >> offset;
        return offset;
    };
    ASSERT_TRUE(wait_until([&] { return read_to() >= log_size; }, 20s)) << "the watch did not catch up with the log";
    restarted.stop();  // SIGTERM: the last batch is committed
    std::set<std::string> logged, recorded;
    const std::regex deferral(
        R"(postfix/msft-out/smtp\[\d+\]: ([0-9A-Za-z]+): to=<[^>]+>.* delay=([0-9.]+),.* status=deferred)");
    for (const auto& l : postfix.log_lines("status=deferred")) {
        std::smatch m;
        if (std::regex_search(l, m, deferral) && std::stod(m[2]) >= 1) logged.insert(m[1]);
    }
    const auto rows = run_command({"sqlite3", (state_dir / "ledger.sqlite").string(),
                                   "SELECT DISTINCT queue_id FROM failures WHERE status = 'deferred'"});
    ASSERT_EQ(rows.exit_code, 0) << rows.output;
    std::istringstream in(rows.output);
    for (std::string l; std::getline(in, l);) recorded.insert(l);
    std::vector<std::string> missing;
    std::set_difference(logged.begin(), logged.end(), recorded.begin(), recorded.end(), std::back_inserter(missing));
    EXPECT_FALSE(logged.empty());
    EXPECT_TRUE(missing.empty()) << missing.size() << " long deferrals without a ledger row, e.g. " << missing.front();
    std::cout << "fault watch_kill9_after_flip: journaled_queue_ids=" << journaled_ids
              << " long_deferrals=" << logged.size() << " ledger_queue_ids=" << recorded.size() << std::endl;
}

}  // namespace
}  // namespace relaygate::fault
