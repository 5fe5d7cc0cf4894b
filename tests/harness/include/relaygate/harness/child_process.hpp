// child_process.hpp: one real program started by a test fixture (fork/exec with
// argv, extra environment, stdout/stderr to files). The destructor always stops
// it: SIGTERM to its process group, SIGKILL after a grace period, then reaped.
// Also: run_command (run to completion, bounded) and stop_pid for processes that
// are not our children (a daemonised Postfix master, a pid file from harness_ctl).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace relaygate::harness {

using namespace std::chrono_literals;

struct process_spec {
    std::vector<std::string> argv;            // argv[0] is looked up in PATH
    std::vector<std::string> env;             // "KEY=VALUE" added to (or replacing in) our environment
    std::filesystem::path stdout_path;        // empty: /dev/null; appended to
    std::filesystem::path stderr_path;        // empty: /dev/null; may equal stdout_path
    std::filesystem::path working_directory;  // empty: ours
    // SIGKILL the child when the thread that started it dies (PR_SET_PDEATHSIG), so a
    // crashed or killed test cannot leak it. Create fixtures on the test's main thread.
    bool die_with_parent = true;
};

// harness_ctl turns die_with_parent off for everything it starts: it exits right
// after starting a daemon that must keep running.
void set_die_with_parent_default(bool on);

// Exit status as a shell reports it: the exit code, or 128 + signal number.
using exit_status = int;

class child_process {
public:
    child_process() = default;
    // Starts the program; throws std::runtime_error naming the program when it
    // cannot be executed (missing tool = loud failure, never a skip).
    explicit child_process(process_spec spec);
    ~child_process();
    child_process(child_process&& other) noexcept;
    child_process& operator=(child_process&& other) noexcept;
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    pid_t pid() const { return pid_; }
    const process_spec& spec() const { return spec_; }
    // True while the process has not exited (reaps it if it has).
    bool running();
    // Waits at most `timeout` for the process to exit by itself.
    std::optional<exit_status> wait_for_exit(std::chrono::milliseconds timeout);
    // SIGTERM to the process group, SIGKILL after `grace`; always reaps. Idempotent.
    std::optional<exit_status> stop(std::chrono::milliseconds grace = 5s);
    // Gives up ownership (harness_ctl leaves daemons running between calls); returns the pid.
    pid_t release();
    // Exit status once known (after running() returned false, wait_for_exit or stop).
    std::optional<exit_status> status() const { return status_; }

private:
    bool reap(bool block);

    process_spec spec_;
    pid_t pid_ = -1;
    std::optional<exit_status> status_;
};

struct command_result {
    exit_status exit_code = -1;  // -1: did not finish within the timeout (it was killed)
    std::string output;          // stdout and stderr, interleaved
};

// Runs argv to completion (killed after `timeout`) and returns its exit code and output.
command_result run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = 60s,
                           const std::vector<std::string>& env = {});

// Is a process with this pid alive (a zombie counts as gone)?
bool pid_alive(pid_t pid);
// Stops a process that is not our child: SIGTERM, wait `grace`, SIGKILL, wait until gone.
// Returns true when it is gone.
bool stop_pid(pid_t pid, std::chrono::milliseconds grace = 5s);
// Every live process whose environment holds exactly `entry` (e.g. "MAIL_CONFIG=/tmp/x/etc").
std::vector<pid_t> pids_with_environment(const std::string& entry);

}  // namespace relaygate::harness
