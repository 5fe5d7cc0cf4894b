// listener_setup.cpp: the process side of the milter's socket — permissions
// and owner of a unix socket, dropping to the run-as user, and waking
// libmilter's listener on stop. Called by run_milter() and the sigwait wrapper.
#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "milter_shell.hpp"
#include "relaygate/log/log.hpp"

namespace relaygate::milter {

std::optional<std::string> unix_socket_path(const std::string& spec) {
    for (const char* prefix : {"unix:", "local:"}) {
        if (spec.starts_with(prefix)) return spec.substr(std::strlen(prefix));
    }
    return std::nullopt;
}

bool secure_socket_and_drop(const milter_config& cfg) {
    auto path = unix_socket_path(cfg.socket);
    struct passwd* pw = nullptr;
    if (!cfg.user.empty() && (pw = getpwnam(cfg.user.c_str())) == nullptr) {
        log::error("- start_failed reason=unknown_user user=" + log::quote(cfg.user));
        return false;
    }
    if (path && chmod(path->c_str(), cfg.socket_mode) != 0) {
        log::error("- start_failed reason=chmod path=" + log::quote(*path) + " error=" + log::quote(strerror(errno)));
        return false;
    }
    if (pw == nullptr) return true;
    if (path && chown(path->c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        log::error("- start_failed reason=chown path=" + log::quote(*path) + " error=" + log::quote(strerror(errno)));
        return false;
    }
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
        log::error("- start_failed reason=setuid user=" + log::quote(cfg.user) +
                   " error=" + log::quote(strerror(errno)));
        return false;
    }
    return true;
}

void wake_listener() {
    for (int fd = 0; fd < 1024; ++fd) {
        int listening = 0;
        socklen_t len = sizeof listening;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening == 1) {
            shutdown(fd, SHUT_RDWR);
        }
    }
}

}  // namespace relaygate::milter
