// child_process_itest.cpp: child_process really stops what it starts (including
// a child that ignores SIGTERM and grandchildren in its group), waits are
// bounded, a missing program is a loud error; free_port hands out distinct ports.
#include <signal.h>

#include <set>

#include <gtest/gtest.h>

#include "relaygate/harness/child_process.hpp"
#include "relaygate/harness/free_port.hpp"
#include "relaygate/harness/temp_dir.hpp"
#include "relaygate/harness/wait.hpp"

namespace relaygate::harness {
namespace {

TEST(ChildProcess, DestructorStopsARunningChild) {
    pid_t pid = -1;
    {
        child_process sleeper(process_spec{.argv = {"sleep", "300"}});
        pid = sleeper.pid();
        ASSERT_TRUE(pid_alive(pid));
    }
    EXPECT_FALSE(pid_alive(pid));
}

TEST(ChildProcess, StopEscalatesToSigkillWhenSigtermIsIgnored) {
    temp_dir dir("cp");
    child_process stubborn(process_spec{
        .argv = {"bash", "-c", "trap '' TERM; touch " + (dir / "ready").string() + "; while :; do sleep 0.1; done"}});
    ASSERT_TRUE(wait_until([&] { return std::filesystem::exists(dir / "ready"); }, 10s));
    const pid_t pid = stubborn.pid();
    auto status = stubborn.stop(300ms);
    ASSERT_TRUE(status);
    EXPECT_EQ(*status, 128 + SIGKILL);
    EXPECT_FALSE(pid_alive(pid));
}

TEST(ChildProcess, StopAlsoEndsGrandchildrenInItsProcessGroup) {
    temp_dir dir("cp");
    const auto pidfile = dir / "grandchild.pid";
    child_process parent(process_spec{.argv = {"bash", "-c", "sleep 300 & echo $! > " + pidfile.string() + "; wait"}});
    ASSERT_TRUE(wait_until([&] { return !read_file(pidfile).empty(); }, 10s));
    pid_t grandchild = std::stoi(read_file(pidfile));
    ASSERT_TRUE(pid_alive(grandchild));
    parent.stop();
    EXPECT_TRUE(wait_until([&] { return !pid_alive(grandchild); }, 5s));
}

TEST(ChildProcess, ChildrenDieWithATestProcessThatIsKilled) {
    temp_dir dir("cp");
    const auto pidfile = dir / "sleeper.pid";
    // The death-test child stands in for a crashing test: it starts a child_process and is
    // SIGKILLed, so no destructor runs. PR_SET_PDEATHSIG must still take the sleeper down.
    EXPECT_EXIT(
        {
            child_process sleeper(process_spec{.argv = {"sleep", "300"}});
            write_file(pidfile, std::to_string(sleeper.pid()));
            ::raise(SIGKILL);
        },
        testing::KilledBySignal(SIGKILL), "");
    const std::string text = read_file(pidfile);
    ASSERT_FALSE(text.empty());
    const pid_t sleeper = std::stoi(text);
    EXPECT_TRUE(wait_until([&] { return !pid_alive(sleeper); }, 5s));
}

TEST(ChildProcess, WaitForExitIsBoundedAndReportsTheExitCode) {
    child_process slow(process_spec{.argv = {"sleep", "300"}});
    EXPECT_FALSE(slow.wait_for_exit(100ms));
    child_process quick(process_spec{.argv = {"sh", "-c", "exit 7"}});
    EXPECT_EQ(quick.wait_for_exit(10s), 7);
}

TEST(ChildProcess, OutputGoesToTheGivenFilesAndEnvironmentIsPassed) {
    temp_dir dir("cp");
    child_process p(process_spec{.argv = {"sh", "-c", "echo out=$RG_VALUE; echo err >&2"},
                                 .env = {"RG_VALUE=42"},
                                 .stdout_path = dir / "out",
                                 .stderr_path = dir / "err"});
    ASSERT_EQ(p.wait_for_exit(10s), 0);
    EXPECT_EQ(read_file(dir / "out"), "out=42\n");
    EXPECT_EQ(read_file(dir / "err"), "err\n");
}

TEST(ChildProcess, AMissingProgramThrowsNamingIt) {
    try {
        child_process p(process_spec{.argv = {"relaygate-no-such-tool"}});
        FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("relaygate-no-such-tool"), std::string::npos) << e.what();
    }
}

TEST(RunCommand, ReturnsExitCodeAndOutputAndKillsAtTheBound) {
    auto ok = run_command({"sh", "-c", "echo hi; exit 3"});
    EXPECT_EQ(ok.exit_code, 3);
    EXPECT_EQ(ok.output, "hi\n");
    auto hung = run_command({"sleep", "300"}, 200ms);
    EXPECT_EQ(hung.exit_code, -1);
}

TEST(StopPid, StopsAProcessThatIsNotOurChild) {
    temp_dir dir("cp");
    const auto pidfile = dir / "daemon.pid";
    // A daemon in its own session (pid file written after setsid); its parent shell exits.
    const std::string pf = pidfile.string();
    ASSERT_EQ(run_command({"sh", "-c",
                           "setsid sh -c 'echo $$ > " + pf +
                               "; exec sleep 300' >/dev/null 2>&1 & "
                               "while [ ! -s " +
                               pf + " ]; do sleep 0.01; done"})
                  .exit_code,
              0);
    pid_t daemon = std::stoi(read_file(pidfile));
    ASSERT_TRUE(pid_alive(daemon));
    EXPECT_TRUE(stop_pid(daemon, 2s));
    EXPECT_FALSE(pid_alive(daemon));
}

TEST(FreePort, HandsOutDistinctPortsThatAreNotListenedOn) {
    std::set<std::uint16_t> ports;
    for (int i = 0; i < 50; ++i) {
        auto p = free_port();
        EXPECT_GE(p, 20000);
        EXPECT_LE(p, 32767);
        EXPECT_FALSE(tcp_connects("127.0.0.1", p));
        ports.insert(p);
    }
    EXPECT_EQ(ports.size(), 50u);
}

}  // namespace
}  // namespace relaygate::harness
