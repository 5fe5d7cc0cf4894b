// listen_address.hpp: Postfix-style listener endpoints, "inet:HOST:PORT"
// ("inet:127.0.0.1:10040", "inet:[::1]:10040") or "unix:PATH". Only loopback
// or explicitly given addresses; port 0 picks a free port (tests). A unix
// socket replaces a stale one and is made mode 0666 (Postfix's rewrite and
// smtpd processes run as postfix). Used by main.cpp and the tests.
#pragma once

#include <string>
#include <string_view>

#include "relaygate/registry/expected.hpp"

namespace relaygate::policy {

struct listen_address {
    bool is_unix = false;
    std::string host;  // inet: numeric address
    int port = 0;
    std::string path;  // unix:
    std::string text() const;
};

expected<listen_address, std::string> parse_listen_address(std::string_view spec);

// Binds and listens (non-blocking, close-on-exec); the error says why. For
// port 0 the chosen port is written back into addr.
expected<int, std::string> open_listener(listen_address& addr, int backlog = 1024);

}  // namespace relaygate::policy
