// listener_setup.cpp: the process side of the milter's socket — permissions
// and group of a unix socket, dropping to the run-as user (registry's
// privilege_drop), waking libmilter's listener on stop, and the sigwait wrapper
// that turns SIGHUP into a reload. Called by run_milter() and libmilter's signal thread.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
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

// libmilter's own signal thread sigwait()s for SIGHUP, SIGTERM and SIGINT and
// stops the milter on each (postfix-tech.md §3). We link libmilter statically
// with -Wl,--wrap=sigwait so that thread waits here: SIGHUP runs the reload hook
// and keeps waiting; SIGTERM/SIGINT go back to libmilter, which stops cleanly.
// Being the only waiter, this thread gets every such signal (no race).
// On stop, the listening socket is also shut down: libmilter's listener sits in
// poll() with a 5 s timeout and would otherwise notice the stop only then.
extern "C" int __real_sigwait(const sigset_t* set, int* sig);
extern "C" int __wrap_sigwait(const sigset_t* set, int* sig) {
    while (true) {
        int rc = __real_sigwait(set, sig);
        if (rc == 0 && *sig != SIGHUP) relaygate::milter::wake_listener();
        if (rc != 0 || *sig != SIGHUP) return rc;
        relaygate::milter::reload_on_sighup();
    }
}
