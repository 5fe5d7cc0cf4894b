// watch_crash_itest.cpp: relaygate-watch's crash consistency on the real
// binary and the Postfix 3.7 capture (docs/watch.md "Crash consistency"):
// killed between the flip and the requeue (test-only crash point) it replays
// its journal after a restart (same queue ids to postsuper, the flip alert to
// the hook); a failing hook leaves its payload in the outbox until a later run
// delivers it; a corrupt egress file is rewritten, not a flip_failed loop; a
// ledger that cannot commit (another process holds the write lock) stops the
// log position until it can.
#include <gtest/gtest.h>
#include <signal.h>

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

std::string capture_until_reload() {
    std::ifstream in(std::string(RELAYGATE_SOURCE_DIR) + "/tests/testdata/watch/postfix37.log");
    std::string out;
    for (std::string l; std::getline(in, l);) {
        if (l.find("refreshing the Postfix mail system") != std::string::npos) break;
        out += l + "\n";
    }
    return out;
}

std::string active_transport(const std::filesystem::path& egress) {
    try {
        return nlohmann::json::parse(read_file(egress)).at("families").at("microsoft").at("active_transport");
    } catch (const std::exception&) {
        return "";
    }
}

std::size_t count_of(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (std::size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
    return n;
}

class watch_crash : public ::testing::Test {
protected:
    harness::temp_dir dir{"watch-crash"};
    std::filesystem::path log = dir / "maillog", state = dir / "state", egress = dir / "egress.json";

    void SetUp() override {
        write_file(dir / "postsuper", "#!/bin/sh\ncat >> " + (dir / "postsuper.stdin").string() + "\n");
        std::filesystem::permissions(dir / "postsuper", std::filesystem::perms::owner_all);
    }
    std::vector<std::string> argv(const std::string& hook) const {
        return {watch_bin,
                "--reverify=off",
                "--maillog=" + log.string(),
                "--state-dir=" + state.string(),
                "--egress-state-file=" + egress.string(),
                "--transport=postfix/msft-out=msft-out,microsoft,127.0.0.2",
                "--transport=postfix/msft-spare=msft-spare,microsoft,127.0.0.3",
                "--failover=microsoft=msft-out,msft-spare,127.0.0.2",
                "--alert-hook=" + hook,
                "--postsuper=" + (dir / "postsuper").string(),
                "--postfix-config-dir=/pf/etc",
                "--postkick=/bin/true",
                "--long-deferred=5",
                "--metrics-listen",
                "",
                "--log-sink=stderr"};
    }
    std::string hook_to_file() const { return "cat >> " + (dir / "hook.jsonl").string(); }
};

TEST_F(watch_crash, a_kill_between_flip_and_requeue_is_replayed_after_restart) {
    write_file(log, capture_until_reload());
    harness::child_process first(
        {.argv = argv(hook_to_file()), .env = {"RELAYGATE_WATCH_TEST_CRASH=after_flip"}, .stderr_path = dir / "1.err"});
    ASSERT_TRUE(first.wait_for_exit(20s).has_value()) << read_file(dir / "1.err");
    EXPECT_EQ(first.status(), 128 + SIGKILL);
    EXPECT_EQ(active_transport(egress), "msft-spare") << "the flip itself was written";
    EXPECT_FALSE(std::filesystem::exists(dir / "postsuper.stdin")) << "no requeue before the crash";
    EXPECT_EQ(count_of(read_file(dir / "hook.jsonl"), "\"type\":\"flip\""), 0u);
    const auto journal = read_file(state / "flip.intent");
    EXPECT_NE(journal.find("\"D3988A72335\""), std::string::npos) << journal;

    harness::child_process second({.argv = argv(hook_to_file()), .stderr_path = dir / "2.err"});
    ASSERT_TRUE(harness::wait_until([&] { return !read_file(dir / "postsuper.stdin").empty(); }, 10s))
        << read_file(dir / "2.err");
    EXPECT_EQ(read_file(dir / "postsuper.stdin"), "D3988A72335\nDD4B4A72338\nE6F35A7233D\nF1A7CA72340\n")
        << "the journaled ids, although the restarted watch never saw those lines";
    ASSERT_TRUE(
        harness::wait_until([&] { return count_of(read_file(dir / "hook.jsonl"), "\"type\":\"flip\"") == 1; }, 10s))
        << read_file(dir / "2.err");
    EXPECT_TRUE(harness::wait_until([&] { return !std::filesystem::exists(state / "flip.intent"); }, 5s));
    EXPECT_NE(read_file(dir / "2.err").find("flip_replayed family=microsoft to=msft-spare"), std::string::npos);
    EXPECT_EQ(read_file(dir / "2.err").find("- flip family="), std::string::npos) << "no second flip";
    second.stop();
    EXPECT_TRUE(std::filesystem::is_empty(state / "hook-outbox")) << "every hook call succeeded";
}

TEST_F(watch_crash, a_failing_hook_keeps_its_payload_until_a_later_run_delivers_it) {
    write_file(log, capture_until_reload());
    harness::child_process first({.argv = argv("cat > /dev/null; exit 3"), .stderr_path = dir / "1.err"});
    ASSERT_TRUE(harness::wait_until([&] { return active_transport(egress) == "msft-spare"; }, 20s));
    ASSERT_TRUE(harness::wait_until([&] { return count_of(read_file(dir / "1.err"), "hook result=failed") >= 2; }, 10s))
        << read_file(dir / "1.err");
    first.stop();
    std::size_t kept = 0;
    for (const auto& e : std::filesystem::directory_iterator(state / "hook-outbox")) kept += e.is_regular_file();
    EXPECT_GE(kept, 2u) << "alert and flip payloads stay in the outbox";

    harness::child_process second({.argv = argv(hook_to_file()), .stderr_path = dir / "2.err"});
    ASSERT_TRUE(
        harness::wait_until([&] { return count_of(read_file(dir / "hook.jsonl"), "\"type\":\"flip\"") == 1; }, 10s))
        << read_file(dir / "2.err");
    EXPECT_NE(read_file(dir / "hook.jsonl").find("\"type\":\"alert\""), std::string::npos);
    EXPECT_TRUE(harness::wait_until([&] { return std::filesystem::is_empty(state / "hook-outbox"); }, 10s));
}

TEST_F(watch_crash, a_corrupt_egress_file_is_rewritten_by_the_flip) {
    write_file(egress, "{\"families\": {\"microsoft\": ");  // truncated
    write_file(log, capture_until_reload());
    harness::child_process watch({.argv = argv(hook_to_file()), .stderr_path = dir / "1.err"});
    ASSERT_TRUE(harness::wait_until([&] { return active_transport(egress) == "msft-spare"; }, 20s))
        << read_file(dir / "1.err");
    EXPECT_EQ(read_file(egress.string() + ".corrupt"), "{\"families\": {\"microsoft\": ");
    EXPECT_NE(read_file(dir / "1.err").find("egress_rewritten"), std::string::npos) << read_file(dir / "1.err");
    EXPECT_EQ(read_file(dir / "1.err").find("flip_failed"), std::string::npos) << read_file(dir / "1.err");
    ASSERT_TRUE(harness::wait_until([&] { return !read_file(dir / "postsuper.stdin").empty(); }, 10s));
}

TEST_F(watch_crash, a_ledger_that_cannot_commit_holds_the_log_position) {
    write_file(log, "");
    harness::child_process watch({.argv = argv(hook_to_file()), .stderr_path = dir / "1.err"});
    ASSERT_TRUE(harness::wait_until([&] { return std::filesystem::exists(state / "ledger.sqlite"); }, 10s));
    // Another writer holds the database's write lock for as long as it runs.
    harness::child_process holder(
        {.argv = {"python3", "-c",
                  "import sqlite3,sys,time\nc=sqlite3.connect(sys.argv[1],isolation_level=None,timeout=10)\n"
                  "c.execute('BEGIN IMMEDIATE')\nprint('locked',flush=True)\ntime.sleep(60)\n",
                  (state / "ledger.sqlite").string()},
         .stdout_path = dir / "holder.out",
         .stderr_path = dir / "holder.out"});
    ASSERT_TRUE(
        harness::wait_until([&] { return read_file(dir / "holder.out").find("locked") != std::string::npos; }, 10s))
        << read_file(dir / "holder.out");
    const auto text = capture_until_reload();
    std::ofstream(log, std::ios::app) << text;
    ASSERT_TRUE(harness::wait_until(
        [&] { return read_file(dir / "1.err").find("state_write_failed file=ledger") != std::string::npos; }, 20s))
        << read_file(dir / "1.err");
    EXPECT_FALSE(std::filesystem::exists(state / "maillog.position"))
        << "the position moved past rows that were not committed: " << read_file(state / "maillog.position");
    holder.stop();
    ASSERT_TRUE(harness::wait_until(
        [&] { return read_file(dir / "1.err").find("state_write_recovered file=ledger") != std::string::npos; }, 20s))
        << read_file(dir / "1.err");
    ASSERT_TRUE(harness::wait_until([&] { return std::filesystem::exists(state / "maillog.position"); }, 5s));
    EXPECT_NE(read_file(state / "maillog.position").find(" " + std::to_string(text.size()) + "\n"), std::string::npos)
        << read_file(state / "maillog.position");
    EXPECT_EQ(count_of(read_file(dir / "1.err"), "state_write_failed file=ledger"), 1u) << "logged once, not per tick";
    watch.stop();
    const auto rows = harness::run_command(
        {"sqlite3", (state / "ledger.sqlite").string(), "SELECT count(*) FROM failures WHERE status = 'deferred'"});
    EXPECT_EQ(rows.exit_code, 0) << rows.output;
    EXPECT_NE(rows.output, "0\n") << "the held rows were written once the lock was gone";
}

}  // namespace
}  // namespace relaygate::watch
