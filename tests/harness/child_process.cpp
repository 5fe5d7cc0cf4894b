// child_process.cpp: fork/exec, bounded waits and stop-by-PID for fixtures.
// The child gets its own process group so stop() also reaches its helpers;
// exec failures come back through a close-on-exec pipe as an exception.
#include "relaygate/harness/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "relaygate/harness/temp_dir.hpp"
#include "relaygate/harness/wait.hpp"

extern char** environ;

namespace relaygate::harness {
namespace {

std::atomic<bool> die_with_parent_default{true};

exit_status decode(int wstatus) {
    if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
    return -1;
}

std::vector<std::string> merged_environment(const std::vector<std::string>& extra) {
    std::map<std::string, std::string> vars;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string entry(*e);
        vars[entry.substr(0, entry.find('='))] = entry;
    }
    for (const auto& entry : extra) vars[entry.substr(0, entry.find('='))] = entry;
    std::vector<std::string> out;
    for (auto& [key, entry] : vars) out.push_back(entry);
    return out;
}

int open_output(const std::filesystem::path& path) {
    if (path.empty()) return ::open("/dev/null", O_WRONLY);
    return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
}

}  // namespace

void set_die_with_parent_default(bool on) { die_with_parent_default = on; }

child_process::child_process(process_spec spec) : spec_(std::move(spec)) {
    if (spec_.argv.empty()) throw std::runtime_error("child_process: empty argv");
    // Everything the child needs is prepared before fork: no allocation after it.
    std::vector<std::string> env = merged_environment(spec_.env);
    std::vector<char*> argv_c;
    for (auto& a : spec_.argv) argv_c.push_back(a.data());
    argv_c.push_back(nullptr);
    std::vector<char*> env_c;
    for (auto& e : env) env_c.push_back(e.data());
    env_c.push_back(nullptr);
    int out_fd = open_output(spec_.stdout_path);
    int err_fd = spec_.stderr_path == spec_.stdout_path ? ::dup(out_fd) : open_output(spec_.stderr_path);
    if (out_fd < 0 || err_fd < 0) {
        throw std::runtime_error("child_process: cannot open output files for " + spec_.argv[0] + ": " +
                                 std::strerror(errno));
    }
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0) throw std::runtime_error("child_process: pipe2 failed");
    const char* cwd = spec_.working_directory.empty() ? nullptr : spec_.working_directory.c_str();
    const bool die_with_parent = spec_.die_with_parent && die_with_parent_default.load();
    const pid_t parent = ::getpid();

    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("child_process: fork failed");
    if (pid == 0) {
        if (die_with_parent) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
        }
        ::setpgid(0, 0);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::signal(SIGPIPE, SIG_DFL);
        int in_fd = ::open("/dev/null", O_RDONLY);
        ::dup2(in_fd, 0);
        ::dup2(out_fd, 1);
        ::dup2(err_fd, 2);
        // Nothing else of the test leaks into the child (sockets, gtest's death-test pipe),
        // except the exec-error pipe, which is close-on-exec anyway.
        if (report[1] > 3) ::close_range(3, static_cast<unsigned>(report[1]) - 1, 0);
        ::close_range(static_cast<unsigned>(report[1]) + 1, ~0U, 0);
        if (cwd != nullptr && ::chdir(cwd) != 0) {
            int e = errno;
            [[maybe_unused]] auto n = ::write(report[1], &e, sizeof e);
            ::_exit(127);
        }
        ::execvpe(argv_c[0], argv_c.data(), env_c.data());
        int e = errno;
        [[maybe_unused]] auto n = ::write(report[1], &e, sizeof e);
        ::_exit(127);
    }
    ::close(report[1]);
    ::close(out_fd);
    ::close(err_fd);
    ::setpgid(pid, pid);  // also from the parent, so stop() right after start reaches the group
    int child_errno = 0;
    ssize_t got = 0;
    do {
        got = ::read(report[0], &child_errno, sizeof child_errno);
    } while (got < 0 && errno == EINTR);
    ::close(report[0]);
    if (got > 0) {
        int ws = 0;
        ::waitpid(pid, &ws, 0);
        throw std::runtime_error("cannot execute '" + spec_.argv[0] + "': " + std::strerror(child_errno) +
                                 " (is its Debian package installed? scripts/install-deps installs it)");
    }
    pid_ = pid;
}

child_process::~child_process() { stop(); }

child_process::child_process(child_process&& other) noexcept
    : spec_(std::move(other.spec_)), pid_(other.pid_), status_(other.status_) {
    other.pid_ = -1;
}

child_process& child_process::operator=(child_process&& other) noexcept {
    if (this != &other) {
        stop();
        spec_ = std::move(other.spec_);
        pid_ = other.pid_;
        status_ = other.status_;
        other.pid_ = -1;
    }
    return *this;
}

// Reaps the child once it has exited. Before reaping, whatever is left in its
// process group is killed: the zombie still pins the group id, so no unrelated
// process can be hit. Returns true once reaped.
bool child_process::reap(bool block) {
    if (pid_ <= 0 || status_) return status_.has_value();
    siginfo_t info{};
    int flags = WEXITED | WNOWAIT | (block ? 0 : WNOHANG);
    int rc = 0;
    do {
        rc = ::waitid(P_PID, static_cast<id_t>(pid_), &info, flags);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0 || info.si_pid == 0) return false;
    ::kill(-pid_, SIGKILL);
    int ws = 0;
    if (::waitpid(pid_, &ws, 0) == pid_) status_ = decode(ws);
    return true;
}

bool child_process::running() { return pid_ > 0 && !reap(false); }

std::optional<exit_status> child_process::wait_for_exit(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return status_;
    wait_until([this] { return reap(false); }, timeout, 5ms);
    return status_;
}

std::optional<exit_status> child_process::stop(std::chrono::milliseconds grace) {
    if (pid_ <= 0) return status_;
    if (!reap(false)) {
        ::kill(-pid_, SIGTERM);
        ::kill(pid_, SIGTERM);
        if (!wait_until([this] { return reap(false); }, grace, 5ms)) {
            ::kill(-pid_, SIGKILL);
            ::kill(pid_, SIGKILL);
            reap(true);
        }
    }
    pid_ = -1;
    return status_;
}

pid_t child_process::release() {
    pid_t p = pid_;
    pid_ = -1;
    return p;
}

command_result run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                           const std::vector<std::string>& env) {
    char name[] = "/tmp/relaygate-cmd.XXXXXX";
    int fd = ::mkstemp(name);
    if (fd < 0) throw std::runtime_error("run_command: mkstemp failed");
    ::close(fd);
    command_result result;
    {
        child_process child(process_spec{.argv = argv, .env = env, .stdout_path = name, .stderr_path = name});
        auto status = child.wait_for_exit(timeout);
        if (!status) child.stop(1s);
        result.exit_code = status.value_or(-1);
    }
    result.output = read_file(name);
    ::unlink(name);
    return result;
}

bool pid_alive(pid_t pid) {
    if (pid <= 0) return false;
    if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return false;
    auto close_paren = line.rfind(')');
    return close_paren == std::string::npos || close_paren + 2 >= line.size() || line[close_paren + 2] != 'Z';
}

bool stop_pid(pid_t pid, std::chrono::milliseconds grace) {
    if (!pid_alive(pid)) return true;
    ::kill(pid, SIGTERM);
    if (wait_until([pid] { return !pid_alive(pid); }, grace, 10ms)) return true;
    ::kill(pid, SIGKILL);
    return wait_until([pid] { return !pid_alive(pid); }, 5s, 10ms);
}

std::vector<pid_t> pids_with_environment(const std::string& entry) {
    std::vector<pid_t> out;
    std::error_code ec;
    for (const auto& d : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string name = d.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream in(d.path() / "environ", std::ios::binary);
        std::string var;
        while (std::getline(in, var, '\0')) {
            if (var == entry) {
                pid_t pid = std::stoi(name);
                if (pid != ::getpid() && pid_alive(pid)) out.push_back(pid);
                break;
            }
        }
    }
    return out;
}

}  // namespace relaygate::harness
