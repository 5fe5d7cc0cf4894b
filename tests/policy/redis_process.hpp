// redis_process.hpp: a private redis-server for the policy integration tests,
// on a free loopback port, no persistence, stopped by PID in the destructor
// (also when a test fails). A missing redis-server binary fails loudly.
// (Replace with the shared harness fixture once it is on main.)
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

namespace relaygate::policy::testing {

// A port the kernel just handed out on 127.0.0.1 (closed again; tiny race accepted).
inline int free_loopback_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
        throw std::runtime_error("free_loopback_port failed");
    int port = ntohs(a.sin_port);
    ::close(fd);
    return port;
}

inline bool port_accepts(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

class redis_process {
public:
    explicit redis_process(int port = free_loopback_port()) : port_(port) {
        if (::access("/usr/bin/redis-server", X_OK) != 0) throw std::runtime_error("redis-server is not installed");
        pid_ = ::fork();
        if (pid_ == 0) {
            std::string port = std::to_string(port_);
            ::execl("/usr/bin/redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1", "--save",
                    "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning", nullptr);
            ::_exit(127);
        }
        for (int i = 0; i < 200; ++i) {
            if (port_accepts(port_)) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
        }
        stop();
        throw std::runtime_error("redis-server did not start on port " + std::to_string(port_));
    }
    ~redis_process() { stop(); }
    redis_process(const redis_process&) = delete;
    redis_process& operator=(const redis_process&) = delete;

    int port() const { return port_; }
    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

private:
    int port_;
    pid_t pid_ = -1;
};

}  // namespace relaygate::policy::testing
