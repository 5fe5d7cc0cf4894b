// metrics_server.cpp: see metrics_server.hpp. poll() with a 200 ms timeout
// lets the accept loop notice stop() without signals.
#include "watch/metrics_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "relaygate/log/log.hpp"

namespace relaygate::watch {
namespace {

bool send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

}  // namespace

expected<std::unique_ptr<metrics_server>, std::string> metrics_server::start(const std::string& listen,
                                                                             const metrics& m) {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) return unexpected{"--metrics-listen: '" + listen + "' is not HOST:PORT"};
    std::string host = listen.substr(0, colon);
    const std::string port_text = listen.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    char* end = nullptr;
    const long port = std::strtol(port_text.c_str(), &end, 10);
    if (port_text.empty() || *end != '\0' || port < 0 || port > 65535) {
        return unexpected{"--metrics-listen: bad port in '" + listen + "'"};
    }
    sockaddr_storage ss{};
    socklen_t len = 0;
    int family = AF_INET;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        if ((ntohl(v4->sin_addr.s_addr) >> 24) != 127)
            return unexpected{"--metrics-listen: " + host + " is not loopback"};
        v4->sin_family = AF_INET;
        v4->sin_port = htons(static_cast<std::uint16_t>(port));
        len = sizeof *v4;
    } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        if (!IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)) return unexpected{"--metrics-listen: " + host + " is not loopback"};
        family = AF_INET6;
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(static_cast<std::uint16_t>(port));
        len = sizeof *v6;
    } else {
        return unexpected{"--metrics-listen: '" + host + "' is not an IP address"};
    }
    const int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return unexpected{std::string("socket: ") + std::strerror(errno)};
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd, 16) != 0) {
        const std::string err = std::strerror(errno);
        ::close(fd);
        return unexpected{"--metrics-listen " + listen + ": " + err};
    }
    sockaddr_storage bound{};
    socklen_t blen = sizeof bound;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &blen);
    const std::uint16_t actual = family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port)
                                                   : ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
    return std::unique_ptr<metrics_server>(new metrics_server(fd, actual, m));
}

metrics_server::metrics_server(int fd, std::uint16_t port, const metrics& m) : fd_(fd), port_(port), metrics_(m) {
    thread_ = std::thread([this] { run(); });
}

metrics_server::~metrics_server() { stop(); }

void metrics_server::stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

void metrics_server::run() {
    while (!stopping_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 200) <= 0) continue;
        const int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (client < 0) continue;
        serve(client);
        ::close(client);
    }
}

// Reads the request head (up to 8 KiB, 2 s), answers, closes.
void metrics_server::serve(int client) {
    std::string req;
    char buf[2048];
    while (req.find("\r\n\r\n") == std::string::npos && req.find("\n\n") == std::string::npos && req.size() < 8192) {
        pollfd p{client, POLLIN, 0};
        if (::poll(&p, 1, 2000) <= 0) return;
        const ssize_t n = ::recv(client, buf, sizeof buf, 0);
        if (n <= 0) break;
        req.append(buf, static_cast<std::size_t>(n));
    }
    const auto line_end = req.find_first_of("\r\n");
    const std::string first = req.substr(0, line_end);
    std::string status = "404 Not Found", body = "not found\n", type = "text/plain";
    if (first.starts_with("GET /metrics ") || first == "GET /metrics") {
        status = "200 OK";
        body = metrics_.render();
        type = "text/plain; version=0.0.4; charset=utf-8";
    } else if (!first.starts_with("GET ")) {
        status = "405 Method Not Allowed";
        body = "only GET\n";
    }
    send_all(client, "HTTP/1.0 " + status + "\r\nContent-Type: " + type +
                         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
}

}  // namespace relaygate::watch
