// process_runner.cpp: fork/exec with pipes, poll()-driven so that a child that
// never reads its stdin or never exits cannot block the caller past timeout.
#include "watch/process_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace relaygate::watch {

run_result run_process(const std::vector<std::string>& argv, const std::string& stdin_data,
                       std::chrono::milliseconds timeout, bool capture_output) {
    run_result res;
    if (argv.empty()) return res;
    // A child that exits without reading its stdin must give EPIPE, not kill us.
    static const bool sigpipe_ignored = (::signal(SIGPIPE, SIG_IGN), true);
    (void)sigpipe_ignored;
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0) return res;
    if (::pipe2(out, O_CLOEXEC) != 0) {
        ::close(in[0]);
        ::close(in[1]);
        return res;
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        for (int fd : {in[0], in[1], out[0], out[1]}) ::close(fd);
        return res;
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
    res.started = true;
    ::fcntl(in[1], F_SETFL, O_NONBLOCK);
    ::fcntl(out[0], F_SETFL, O_NONBLOCK);  // a grandchild may keep the pipe open after the child exits
    std::size_t written = 0;
    int wfd = in[1];
    if (stdin_data.empty()) {
        ::close(wfd);
        wfd = -1;
    }
    int rfd = out[0];
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    bool exited = false;
    while (!exited) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) {
            res.timed_out = true;
            ::kill(-pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            break;
        }
        pollfd fds[2];
        nfds_t n = 0;
        if (wfd >= 0) fds[n++] = {wfd, POLLOUT, 0};
        if (rfd >= 0) fds[n++] = {rfd, POLLIN, 0};
        ::poll(fds, n, static_cast<int>(std::min<long>(left, 50)));
        for (nfds_t i = 0; i < n; ++i) {
            if (fds[i].fd == wfd && (fds[i].revents & (POLLOUT | POLLERR | POLLHUP))) {
                const ssize_t w = ::write(wfd, stdin_data.data() + written, stdin_data.size() - written);
                if (w > 0) written += static_cast<std::size_t>(w);
                if ((w < 0 && errno != EAGAIN) || written == stdin_data.size()) {
                    ::close(wfd);
                    wfd = -1;
                }
            } else if (fds[i].fd == rfd && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
                char buf[4096];
                const ssize_t r = ::read(rfd, buf, sizeof buf);
                if (r <= 0) {
                    ::close(rfd);
                    rfd = -1;
                } else if (res.output.size() < 65536) {
                    res.output.append(buf, static_cast<std::size_t>(r));
                }
            }
        }
        const pid_t w = ::waitpid(pid, &status, WNOHANG);
        if (w == pid) exited = true;
    }
    if (wfd >= 0) ::close(wfd);
    if (rfd >= 0) {
        // Drain what the child left behind (it has exited).
        char buf[4096];
        ssize_t r;
        while (res.output.size() < 65536 && (r = ::read(rfd, buf, sizeof buf)) > 0) res.output.append(buf, r);
        ::close(rfd);
    }
    if (!res.timed_out && WIFEXITED(status)) res.exit_code = WEXITSTATUS(status);
    return res;
}

}  // namespace relaygate::watch
