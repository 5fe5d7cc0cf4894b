// redis_server.cpp: starts redis-server without persistence and talks RESP over
// a plain socket (no client library needed to check it answers).
#include "relaygate/harness/redis_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <stdexcept>

#include "relaygate/harness/free_port.hpp"
#include "relaygate/harness/wait.hpp"

namespace relaygate::harness {

redis_server::redis_server(std::uint16_t port, std::filesystem::path dir) : port_(port == 0 ? free_port() : port) {
    if (dir.empty()) {
        own_dir_.emplace("redis");
        dir_ = own_dir_->path();
    } else {
        dir_ = std::move(dir);
        std::filesystem::create_directories(dir_);
    }
    const auto log = dir_ / "redis.log";
    process_ = child_process(process_spec{
        .argv = {"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                 "no", "--daemonize", "no", "--dir", dir_.string(), "--protected-mode", "no"},
        .stdout_path = log,
        .stderr_path = log});
    bool up = wait_until(
        [&] {
            if (!process_.running()) return true;
            try {
                return command({"PING"}) == "+PONG\r\n";
            } catch (const std::exception&) {
                return false;
            }
        },
        10s, 20ms);
    if (!up || !process_.running()) {
        process_.stop();
        throw std::runtime_error("redis-server on 127.0.0.1:" + std::to_string(port_) +
                                 " did not answer PING: " + read_file(log));
    }
}

redis_server::~redis_server() { stop(); }

std::string redis_server::command(const std::vector<std::string>& args) const {
    std::string req = "*" + std::to_string(args.size()) + "\r\n";
    for (const auto& a : args) req += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("redis_server: socket failed");
    timeval tv{.tv_sec = 5, .tv_usec = 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port_);
    ::inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
        ::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
        ::close(fd);
        throw std::runtime_error("redis_server: cannot reach 127.0.0.1:" + std::to_string(port_));
    }
    ::shutdown(fd, SHUT_WR);  // redis answers, then closes on EOF
    std::string reply;
    char buf[4096];
    ssize_t n = 0;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0 && reply.size() < (1u << 20)) reply.append(buf, n);
    ::close(fd);
    return reply;
}

void redis_server::stop() { process_.stop(); }

pid_t redis_server::release() { return process_.release(); }

}  // namespace relaygate::harness
