// service_notify.hpp: systemd's readiness protocol (sd_notify(3)) without
// libsystemd: one datagram to $NOTIFY_SOCKET. The daemons call ready() once
// their sockets accept connections, so `Type=notify` units order Postfix's
// first connection after it; reloading()/stopping() frame a SIGHUP and a stop.
// Without $NOTIFY_SOCKET (not under systemd) every call does nothing.
#pragma once

#include <string_view>

namespace relaygate::service {

// Sends `state` (e.g. "READY=1\nSTATUS=listening") to $NOTIFY_SOCKET;
// false when there is no socket or the send failed (never fatal).
bool notify(std::string_view state);
inline bool ready() { return notify("READY=1"); }
inline bool stopping() { return notify("STOPPING=1"); }

}  // namespace relaygate::service
