// service_notify.cpp: see service_notify.hpp. $NOTIFY_SOCKET is a path, or an
// abstract socket when it starts with '@' (sd_notify(3)).
#include "relaygate/registry/service_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace relaygate::service {

bool notify(std::string_view state) {
    const char* where = std::getenv("NOTIFY_SOCKET");
    if (where == nullptr || (where[0] != '/' && where[0] != '@')) return false;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::size_t len = std::strlen(where);
    if (len >= sizeof addr.sun_path) return false;
    std::memcpy(addr.sun_path, where, len);
    if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    const auto size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
    const ssize_t sent =
        ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), size);
    ::close(fd);
    return sent == static_cast<ssize_t>(state.size());
}

}  // namespace relaygate::service
