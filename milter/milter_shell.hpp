// milter_shell.hpp: the only libmilter code of relaygate-milter. Callbacks are
// trampolines: session from smfi_getpriv, C arguments to strings, the pure
// core (decide, message_log, dkim_signer), one apply() at end of message.
// Called by main() after configuration; returns smfi_main's result.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "relaygate/milter/connection_gate.hpp"
#include "relaygate/milter/dkim_signer.hpp"
#include "relaygate/milter/milter_config.hpp"
#include "relaygate/milter/rejection_log.hpp"
#include "relaygate/milter/url_checker.hpp"
#include "relaygate/registry/domain_registry.hpp"

namespace relaygate::milter {

struct milter_runtime {
    const milter_config* config = nullptr;
    registry::registry_handle* registry = nullptr;
    dkim_signer* signer = nullptr;  // nullptr when signing is off
    rejection_log* rejections = nullptr;
    connection_gate* gate = nullptr;      // max-connections
    const url_checker* urls = nullptr;    // nullptr when the URL check is off (no body step then)
    std::function<std::int64_t()> clock;  // unix seconds
    std::function<void()> on_sighup;      // reload the registry, reopen the rejection log
};

// Registers the callbacks, opens the socket (removing a stale one), applies
// socket permissions and the run-as user, and runs until SIGTERM/SIGINT.
// Returns 0 on a clean stop, 1 when the milter could not start.
int run_milter(milter_runtime& runtime);

// "/path" of a unix:/local: socket spec, nullopt for inet sockets.
std::optional<std::string> unix_socket_path(const std::string& spec);
// Socket permissions and owner, then the run-as user; false (logged) on failure.
bool secure_socket_and_drop(const milter_config& cfg);
// Runs the runtime's on_sighup hook (reload); logs instead of throwing. Called by the sigwait wrapper.
void reload_on_sighup() noexcept;
// The read buffer's mid-packet deadline (packet-timeout): a connection that stops inside a
// packet for this long is closed by libmilter as timed out (socket_buffer.cpp). 0 = none.
void set_packet_timeout_ms(int ms);
// Shuts down every listening socket of the process so libmilter's poll() wakes at once (on stop only).
void wake_listener();

}  // namespace relaygate::milter
