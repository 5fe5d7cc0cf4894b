// socketmap_client.hpp: one socketmap lookup against relaygate-policy over
// loopback TCP (netstring request, netstring reply), for the watch tests that
// check where the policy daemon steers after a flip. Header-only, bounded by a
// 5 s receive timeout.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <string>

namespace relaygate::watch::test_support {

// One socketmap lookup ("transport KEY") over loopback TCP; "" on any failure.
inline std::string socketmap_lookup(std::uint16_t port, const std::string& payload) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string reply;
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0) {
        const std::string ns = std::to_string(payload.size()) + ":" + payload + ",";
        if (::send(fd, ns.data(), ns.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(ns.size())) {
            char buf[512];
            while (reply.empty() || reply.back() != ',') {
                const auto n = ::recv(fd, buf, sizeof buf, 0);
                if (n <= 0) break;
                reply.append(buf, static_cast<std::size_t>(n));
            }
        }
    }
    ::close(fd);
    const auto colon = reply.find(':');
    if (colon == std::string::npos || reply.empty() || reply.back() != ',') return "";
    return reply.substr(colon + 1, reply.size() - colon - 2);
}

}  // namespace relaygate::watch::test_support
