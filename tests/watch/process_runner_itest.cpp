// process_runner_itest.cpp: the runner behind the alert hook and postsuper -r,
// on real programs: stdin delivered, exit codes, and a hung or stdin-ignoring
// child killed (with its process group) at the timeout.
#include "watch/process_runner.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <thread>

namespace relaygate::watch {
namespace {

using namespace std::chrono_literals;

TEST(process_runner, stdin_reaches_the_hook_and_exit_code_comes_back) {
    const auto r = run_process({"/bin/sh", "-c", "cat; exit 3"}, "{\"type\":\"alert\"}\n", 5s, true);
    EXPECT_TRUE(r.started);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_EQ(r.output, "{\"type\":\"alert\"}\n");
}

TEST(process_runner, a_hung_hook_and_its_children_are_killed_at_the_timeout) {
    const std::string pidfile = "/tmp/watch-runner-" + std::to_string(::getpid());
    const auto start = std::chrono::steady_clock::now();
    const auto r = run_process({"/bin/sh", "-c", "sleep 30 & echo $! > " + pidfile + "; wait"}, "", 300ms);
    EXPECT_TRUE(r.timed_out);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);  // bounded, not a timing assertion on speed
    std::ifstream in(pidfile);
    pid_t grandchild = 0;
    ASSERT_TRUE(in >> grandchild);
    std::remove(pidfile.c_str());
    // The background sleep was in the group: gone (allow the kernel a moment to reap).
    bool gone = false;
    for (int i = 0; i < 100 && !gone; ++i) {
        gone = ::kill(grandchild, 0) != 0;
        if (!gone) std::this_thread::sleep_for(20ms);
    }
    EXPECT_TRUE(gone);
}

TEST(process_runner, a_hook_that_never_reads_stdin_does_not_block) {
    const std::string big(4 << 20, 'x');  // far beyond a pipe buffer
    const auto r = run_process({"/bin/sh", "-c", "exec sleep 30"}, big, 300ms);
    EXPECT_TRUE(r.timed_out);
    const auto quick = run_process({"/bin/sh", "-c", "exit 0"}, big, 5s);
    EXPECT_EQ(quick.exit_code, 0);
}

TEST(process_runner, missing_program_is_exit_127) {
    const auto r = run_process({"/nonexistent/postsuper", "-r", "-"}, "ABC\n", 5s);
    EXPECT_EQ(r.exit_code, 127);
}

}  // namespace
}  // namespace relaygate::watch
