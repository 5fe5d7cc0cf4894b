// process_runner.cpp: fork/exec with pipes, poll()-driven so that a child that
// never reads its stdin or never exits cannot block the caller past timeout.
#include "watch/process_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

namespace relaygate::watch {
namespace {

constexpr std::size_t max_output = 65536;  // bytes of the child's output kept

struct child {
    pid_t pid = -1;
    int wfd = -1;  // the child's stdin; -1 once closed
    int rfd = -1;  // the child's stdout and stderr; -1 once closed
};

void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

// Forks and execs argv (in its own process group) with stdin and output on
// non-blocking pipes; nullopt when a pipe or the fork fails.
std::optional<child> spawn(const std::vector<std::string>& argv, bool capture_output) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0) return std::nullopt;
    if (::pipe2(out, O_CLOEXEC) != 0) {
        ::close(in[0]);
        ::close(in[1]);
        return std::nullopt;
    }
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        for (int fd : {in[0], in[1], out[0], out[1]}) ::close(fd);
        return std::nullopt;
    }
    if (pid == 0) {
        ::setpgid(0, 0);
        ::dup2(in[0], 0);
        const int devnull = ::open("/dev/null", O_WRONLY);
        ::dup2(capture_output ? out[1] : devnull, 1);
        ::dup2(capture_output ? out[1] : devnull, 2);
        ::signal(SIGPIPE, SIG_DFL);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::setpgid(pid, pid);  // both sides, so the group exists before any kill
    ::close(in[0]);
    ::close(out[1]);
    ::fcntl(in[1], F_SETFL, O_NONBLOCK);
    ::fcntl(out[0], F_SETFL, O_NONBLOCK);  // a grandchild may keep the pipe open after the child exits
    return child{pid, in[1], out[0]};
}

// One poll turn of at most wait_ms: feeds stdin what it takes, keeps what the child wrote.
void pump(child& c, const std::string& stdin_data, std::size_t& written, std::string& output, int wait_ms) {
    pollfd fds[2];
    nfds_t n = 0;
    if (c.wfd >= 0) fds[n++] = {c.wfd, POLLOUT, 0};
    if (c.rfd >= 0) fds[n++] = {c.rfd, POLLIN, 0};
    ::poll(fds, n, wait_ms);
    for (nfds_t i = 0; i < n; ++i) {
        if (fds[i].fd == c.wfd && (fds[i].revents & (POLLOUT | POLLERR | POLLHUP))) {
            const ssize_t w = ::write(c.wfd, stdin_data.data() + written, stdin_data.size() - written);
            if (w > 0) written += static_cast<std::size_t>(w);
            if ((w < 0 && errno != EAGAIN) || written == stdin_data.size()) close_fd(c.wfd);
        } else if (fds[i].fd == c.rfd && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
            char buf[4096];
            const ssize_t r = ::read(c.rfd, buf, sizeof buf);
            if (r <= 0) {
                close_fd(c.rfd);
            } else if (output.size() < max_output) {
                output.append(buf, static_cast<std::size_t>(r));
            }
        }
    }
}

}  // namespace

run_result run_process(const std::vector<std::string>& argv, const std::string& stdin_data,
                       std::chrono::milliseconds timeout, bool capture_output) {
    run_result res;
    if (argv.empty()) return res;
    // A child that exits without reading its stdin must give EPIPE, not kill us.
    static const bool sigpipe_ignored = (::signal(SIGPIPE, SIG_IGN), true);
    (void)sigpipe_ignored;
    auto c = spawn(argv, capture_output);
    if (!c) return res;
    res.started = true;
    if (stdin_data.empty()) close_fd(c->wfd);
    std::size_t written = 0;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (true) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) {
            res.timed_out = true;
            ::kill(-c->pid, SIGKILL);
            ::waitpid(c->pid, &status, 0);
            break;
        }
        pump(*c, stdin_data, written, res.output, static_cast<int>(std::min<long>(left, 50)));
        if (::waitpid(c->pid, &status, WNOHANG) == c->pid) break;
    }
    close_fd(c->wfd);
    if (c->rfd >= 0) {
        // Drain what the child left behind (it has exited).
        char buf[4096];
        ssize_t r;
        while (res.output.size() < max_output && (r = ::read(c->rfd, buf, sizeof buf)) > 0) res.output.append(buf, r);
        close_fd(c->rfd);
    }
    if (!res.timed_out && WIFEXITED(status)) res.exit_code = WEXITSTATUS(status);
    return res;
}

}  // namespace relaygate::watch
