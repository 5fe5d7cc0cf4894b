// state_full_fault.cpp: relaygate-watch's state folder (log position, ledger,
// journal, outbox; a 4 MiB tmpfs in the test's private mount namespace) fills
// up (ENOSPC) in the middle of 2,000 messages through a real Postfix with
// relaygate-milter, then is emptied again. Proves: mail keeps flowing and
// signed, the milter keeps serving through a reload, the watch logs its failing
// position write once (not every tick), counts every failure in
// relaygate_watch_state_write_failures_total and says when it recovers;
// nothing is lost or duplicated. Why not a read-only remount: Linux refuses
// it ("mount point is busy") while a daemon holds a file there open for
// writing, which every daemon here does (ledger, logs).
#include <gtest/gtest.h>
#include <signal.h>

#include "fault_fixture.hpp"
#include "milter_fixture.hpp"
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

// A small tmpfs mounted on dir (in the test's private mount namespace), which
// fill() fills to ENOSPC and drain() empties again.
class small_filesystem {
public:
    explicit small_filesystem(std::filesystem::path dir) : dir_(std::move(dir)) {
        std::filesystem::create_directories(dir_);
        const auto r = run_command({"mount", "-t", "tmpfs", "-o", "size=4m", "relaygate-fault", dir_.string()});
        if (r.exit_code != 0) throw std::runtime_error("mount tmpfs on " + dir_.string() + ": " + r.output);
    }
    ~small_filesystem() { run_command({"umount", "-l", dir_.string()}); }
    small_filesystem(const small_filesystem&) = delete;
    small_filesystem& operator=(const small_filesystem&) = delete;
    // dd stops at ENOSPC (its exit code is then 1): the folder is full.
    std::string fill() {
        return run_command({"dd", "if=/dev/zero", "of=" + (dir_ / "filler").string(), "bs=64k"}).output;
    }
    void drain() { std::filesystem::remove(dir_ / "filler"); }

private:
    std::filesystem::path dir_;
};

std::size_t occurrences(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
    return n;
}

class state_fault : public netns_test {};

TEST_F(state_fault, a_full_state_folder_keeps_mail_flowing_and_is_logged_once_and_counted) {
    temp_dir dir("fault-rostate");
    smtp_sink sink;
    milter::testing::milter_process milter({"--log-level", "info", "--socket-mode", "0666"}, "fault-ro-milter");
    postfix_options o{.dir = dir / "pf", .relayhost = sink.nexthop()};
    o.main("smtpd_milters = " + milter.socket_spec()).main("milter_default_action = tempfail");
    postfix_instance postfix(o);
    const auto state_dir = dir / "watch";
    small_filesystem watch_fs(state_dir);
    const auto metrics_port = free_port();
    child_process watch({.argv = {binary_dir + "/watch/relaygate-watch", "--reverify=off",
                                  "--maillog=" + postfix.maillog_path().string(), "--state-dir=" + state_dir.string(),
                                  "--postfix-config-dir=" + postfix.config_dir().string(),
                                  "--egress-state-file=" + (dir / "egress.json").string(),
                                  "--metrics-listen=127.0.0.1:" + std::to_string(metrics_port), "--log-sink=stderr"},
                         .stderr_path = dir / "watch.err"});
    ASSERT_TRUE(wait_until([&] { return tcp_connects("127.0.0.1", metrics_port); }, 10s))
        << read_file(dir / "watch.err");

    fault_sender sender({.port = postfix.smtp_port(), .prefix = "rostate"}, dir.path());
    ASSERT_TRUE(wait_until([&] { return files_in(sink.dir()) >= 300; }, 60s)) << "no traffic reached the sink";
    const auto filled = watch_fs.fill();
    ASSERT_NE(filled.find("No space left on device"), std::string::npos) << filled;
    const auto arrived_before = files_in(sink.dir());
    // The milter reloads (its files are elsewhere: it keeps serving through a reload).
    ASSERT_EQ(::kill(milter.process().pid(), SIGHUP), 0);
    EXPECT_TRUE(wait_until([&] { return milter.log().find("generation=1") != std::string::npos; }, 10s))
        << milter.log();
    ASSERT_TRUE(wait_until(
        [&] {
            return read_file(dir / "watch.err").find("state_write_failed file=maillog.position") != std::string::npos;
        },
        20s))
        << read_file(dir / "watch.err");
    ASSERT_TRUE(wait_until([&] { return files_in(sink.dir()) >= arrived_before + 300; }, 60s))
        << "mail stopped while the watch's state folder was full";
    watch_fs.drain();
    ASSERT_TRUE(wait_until(
        [&] {
            return read_file(dir / "watch.err").find("state_write_recovered file=maillog.position") !=
                   std::string::npos;
        },
        20s))
        << read_file(dir / "watch.err");

    const auto sent = sender.wait();
    ASSERT_TRUE(postfix.wait_queue_empty(120s)) << postfix.queue_listing();
    ASSERT_TRUE(wait_until([&] { return files_in(sink.dir()) >= static_cast<std::size_t>(sent.accepted); }, 30s));
    const auto got = read_smtp_sink(sink.dir());
    const auto t = count(sent, got);
    report("state_dir_full", sent, t);
    EXPECT_EQ(sent.accepted, 2000) << sent.output;
    EXPECT_EQ(t.delivered, 2000);
    EXPECT_EQ(t.lost, 0);
    EXPECT_EQ(t.duplicated, 0);
    int unsigned_messages = 0;
    for (const auto& m : read_sink_dir(sink.dir(), 0)) unsigned_messages += m.header("DKIM-Signature") ? 0 : 1;
    EXPECT_EQ(unsigned_messages, 0);
    const auto log = read_file(dir / "watch.err");
    EXPECT_EQ(occurrences(log, "state_write_failed file=maillog.position"), 1u) << "logged once per state change";
    const auto metrics = run_command(
        {"curl", "-sS", "--max-time", "5", "http://127.0.0.1:" + std::to_string(metrics_port) + "/metrics"});
    EXPECT_NE(metrics.output.find("relaygate_watch_state_write_failures_total{file=\"maillog.position\"}"),
              std::string::npos)
        << metrics.output;
}

}  // namespace
}  // namespace relaygate::fault
