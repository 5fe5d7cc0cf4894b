// listener_setup.cpp: the process side of the milter's socket — permissions
// and group of a unix socket, dropping to the run-as user (registry's
// privilege_drop), and waking libmilter's listener on stop. Called by
// run_milter() and the sigwait wrapper.
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "milter_shell.hpp"
#include "relaygate/log/log.hpp"
#include "relaygate/registry/privilege_drop.hpp"

namespace relaygate::milter {

std::optional<std::string> unix_socket_path(const std::string& spec) {
    for (const char* prefix : {"unix:", "local:"}) {
        if (spec.starts_with(prefix)) return spec.substr(std::strlen(prefix));
    }
    return std::nullopt;
}

bool secure_socket_and_drop(const milter_config& cfg) {
    if (auto who = cfg.user.empty() ? privilege::run_as{} : privilege::lookup_user(cfg.user); !who) {
        log::error("- start_failed reason=user error=" + log::quote(who.error()));
        return false;
    }
    if (auto path = unix_socket_path(cfg.socket)) {
        if (auto ok = privilege::secure_socket(*path, cfg.socket_mode, cfg.socket_group); !ok) {
            log::error("- start_failed reason=socket_permissions error=" + log::quote(ok.error()));
            return false;
        }
        if (!cfg.user.empty() && ::geteuid() == 0) {  // the run-as user owns its socket (removes it at stop)
            auto who = privilege::lookup_user(cfg.user);
            if (!who || ::chown(path->c_str(), who->uid, static_cast<gid_t>(-1)) != 0) {
                log::error("- start_failed reason=chown path=" + log::quote(*path) + " user=" + log::quote(cfg.user));
                return false;
            }
        }
    }
    if (auto ok = privilege::drop_to(cfg.user); !ok) {
        log::error("- start_failed reason=user error=" + log::quote(ok.error()));
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
