// listen_address.cpp: see listen_address.hpp.
#include "policy/listen_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace relaygate::policy {

std::string listen_address::text() const {
    if (is_unix) return "unix:" + path;
    if (host.find(':') != std::string::npos) return "inet:[" + host + "]:" + std::to_string(port);
    return "inet:" + host + ":" + std::to_string(port);
}

expected<listen_address, std::string> parse_listen_address(std::string_view spec) {
    listen_address a;
    auto bad = [&](std::string_view why) {
        return unexpected("listen address '" + std::string(spec) + "': " + std::string(why) +
                          " (want inet:HOST:PORT or unix:PATH)");
    };
    if (spec.starts_with("unix:")) {
        a.is_unix = true;
        a.path = std::string(spec.substr(5));
        if (a.path.empty() || a.path.size() >= sizeof(sockaddr_un{}.sun_path)) return bad("bad socket path");
        return a;
    }
    if (!spec.starts_with("inet:")) return bad("unknown type");
    std::string_view rest = spec.substr(5);
    std::size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) return bad("no port");
    std::string_view host = rest.substr(0, colon), port = rest.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    a.host = std::string(host);
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), a.port);
    if (ec != std::errc() || end != port.data() + port.size() || a.port < 0 || a.port > 65535) return bad("bad port");
    in6_addr v6{};
    in_addr v4{};
    if (inet_pton(AF_INET, a.host.c_str(), &v4) != 1 && inet_pton(AF_INET6, a.host.c_str(), &v6) != 1)
        return bad("host must be a numeric address");
    return a;
}

expected<int, std::string> open_listener(listen_address& addr, int backlog) {
    auto fail = [&](std::string_view what) {
        return unexpected(addr.text() + ": " + std::string(what) + ": " + std::strerror(errno));
    };
    if (addr.is_unix) {
        int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) return fail("socket");
        sockaddr_un sun{};
        sun.sun_family = AF_UNIX;
        std::memcpy(sun.sun_path, addr.path.c_str(), addr.path.size() + 1);
        struct stat st {};
        if (::lstat(addr.path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(addr.path.c_str());
        if (::bind(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0) {
            auto e = fail("bind");
            ::close(fd);
            return e;
        }
        ::chmod(addr.path.c_str(), 0666);
        if (::listen(fd, backlog) != 0) {
            auto e = fail("listen");
            ::close(fd);
            return e;
        }
        return fd;
    }
    bool v6 = addr.host.find(':') != std::string::npos;
    int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail("socket");
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (v6) {
        auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(static_cast<uint16_t>(addr.port));
        inet_pton(AF_INET6, addr.host.c_str(), &s6->sin6_addr);
        len = sizeof *s6;
    } else {
        auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
        s4->sin_family = AF_INET;
        s4->sin_port = htons(static_cast<uint16_t>(addr.port));
        inet_pton(AF_INET, addr.host.c_str(), &s4->sin_addr);
        len = sizeof *s4;
    }
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd, backlog) != 0) {
        auto e = fail("bind/listen");
        ::close(fd);
        return e;
    }
    if (addr.port == 0) {
        len = sizeof ss;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
        addr.port = v6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                       : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    }
    return fd;
}

}  // namespace relaygate::policy
