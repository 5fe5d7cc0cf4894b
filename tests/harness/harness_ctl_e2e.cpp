// harness_ctl_e2e.cpp: the command line the demo scripts use starts the same
// real parts detached, reports them, and stops every one by PID.
#include <gtest/gtest.h>

#include "relaygate/harness/child_process.hpp"
#include "relaygate/harness/netns.hpp"
#include "relaygate/harness/temp_dir.hpp"

namespace relaygate::harness {
namespace {

const std::string ctl = std::string(RELAYGATE_BINARY_DIR) + "/tests/harness/harness_ctl";

command_result harness_ctl(std::vector<std::string> args) {
    args.insert(args.begin(), ctl);
    return run_command(args, 60s);
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

class HarnessCtl : public testing::Test {
protected:
    void SetUp() override { ASSERT_EQ(private_netns_problem(), ""); }
    // Stop everything even when an assertion failed half-way.
    void TearDown() override {
        harness_ctl({"postfix", "stop", "--dir", (work / "postfix").string()});
        harness_ctl({"sink", "stop", "--dir", (work / "sink").string()});
        harness_ctl({"redis", "stop", "--dir", (work / "redis").string()});
    }
    temp_dir work{"ctl"};
};

TEST_F(HarnessCtl, StartsPostfixAndASinkSendsReportsAndStopsThemAll) {
    auto sink = harness_ctl({"sink", "start", "--dir", (work / "sink").string(), "--address", "127.0.0.2"});
    ASSERT_EQ(sink.exit_code, 0) << sink.output;
    const std::string sink_port = first_line(sink.output);
    const std::string dsn_filter = std::string(RELAYGATE_SOURCE_DIR) + "/postfix-conf/msft_dsn_filter";
    auto pf = harness_ctl({"postfix", "start", "--dir", (work / "postfix").string(), "--relayhost", "[127.0.0.1]:1",
                           "--transport", "msft-out=127.0.0.2", "--main",
                           "transport_maps = inline:{ outlook.test=msft-out:[127.0.0.2]:" + sink_port + " }", "--file",
                           "msft_dsn_filter=" + dsn_filter});
    ASSERT_EQ(pf.exit_code, 0) << pf.output;
    EXPECT_EQ(read_file(work / "postfix" / "etc" / "msft_dsn_filter"), read_file(dsn_filter));
    const std::string smtpd = first_line(pf.output);
    EXPECT_EQ(first_line(harness_ctl({"postfix", "port", "--dir", (work / "postfix").string()}).output), smtpd);

    auto sent = harness_ctl({"send", "--port", smtpd, "--from", "news@brand.test", "--to", "bob@outlook.test",
                             "--header", "Subject: via ctl"});
    ASSERT_EQ(sent.exit_code, 0) << sent.output;
    EXPECT_NE(sent.output.find("rcpt bob@outlook.test=250 2.1.5 Ok"), std::string::npos) << sent.output;
    EXPECT_NE(sent.output.find("data=250 2.0.0 Ok: queued as "), std::string::npos) << sent.output;

    auto waited = harness_ctl({"sink", "wait", "--dir", (work / "sink").string(), "--count", "1"});
    EXPECT_EQ(waited.exit_code, 0) << waited.output;
    auto listed = harness_ctl({"sink", "list", "--dir", (work / "sink").string()});
    EXPECT_NE(listed.output.find("client_addr=127.0.0.2 mail_from=news@brand.test rcpts=bob@outlook.test"),
              std::string::npos)
        << listed.output;
    EXPECT_NE(listed.output.find("subject=\"via ctl\""), std::string::npos) << listed.output;
    auto logged = harness_ctl({"postfix", "wait-log", "--dir", (work / "postfix").string(), "--regex",
                               "postfix/msft-out/smtp.*to=<bob@outlook.test>.*status=sent"});
    EXPECT_EQ(logged.exit_code, 0) << logged.output;
    EXPECT_EQ(harness_ctl({"postfix", "wait-queue-empty", "--dir", (work / "postfix").string()}).exit_code, 0);

    const pid_t sink_pid = std::stoi(read_file(work / "sink" / "smtp-sink.pid"));
    const pid_t master = std::stoi(read_file(work / "postfix" / "spool" / "pid" / "master.pid"));
    ASSERT_TRUE(pid_alive(sink_pid));
    ASSERT_TRUE(pid_alive(master));
    EXPECT_EQ(harness_ctl({"sink", "stop", "--dir", (work / "sink").string()}).exit_code, 0);
    EXPECT_EQ(harness_ctl({"postfix", "stop", "--dir", (work / "postfix").string()}).exit_code, 0);
    EXPECT_FALSE(pid_alive(sink_pid));
    EXPECT_FALSE(pid_alive(master));
    EXPECT_TRUE(pids_with_environment("MAIL_CONFIG=" + (work / "postfix" / "etc").string()).empty());
}

TEST_F(HarnessCtl, RedisStartsAndStops) {
    auto r = harness_ctl({"redis", "start", "--dir", (work / "redis").string()});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const pid_t pid = std::stoi(read_file(work / "redis" / "redis.pid"));
    EXPECT_TRUE(pid_alive(pid));
    EXPECT_EQ(harness_ctl({"redis", "stop", "--dir", (work / "redis").string()}).exit_code, 0);
    EXPECT_FALSE(pid_alive(pid));
}

TEST_F(HarnessCtl, UnknownCommandAndMissingDirFailLoudly) {
    auto unknown = harness_ctl({"sink", "explode"});
    EXPECT_EQ(unknown.exit_code, 2);
    EXPECT_NE(unknown.output.find("unknown command 'sink explode'"), std::string::npos) << unknown.output;
    auto nofile = harness_ctl({"postfix", "start", "--dir", (work / "postfix").string(), "--file", "x=/nonexistent"});
    EXPECT_EQ(nofile.exit_code, 1);
    EXPECT_NE(nofile.output.find("--file: no file /nonexistent"), std::string::npos) << nofile.output;
    auto nodir = harness_ctl({"sink", "start"});
    EXPECT_EQ(nodir.exit_code, 1);
    EXPECT_NE(nodir.output.find("--dir is required"), std::string::npos) << nodir.output;
}

}  // namespace
}  // namespace relaygate::harness
