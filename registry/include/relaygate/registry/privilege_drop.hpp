// privilege_drop.hpp: how a relaygate daemon started as root becomes its
// unprivileged run-as user (the `user` key), and how it hands a unix socket to
// Postfix's group (`socket-group`, `socket-mode`). Called by each daemon's
// main() after it has bound its sockets and before it reads any untrusted
// input (network, maillog). docs/packaging.md explains the whole design.
#pragma once

#include <sys/types.h>

#include <string>

#include "relaygate/registry/expected.hpp"

namespace relaygate::privilege {

struct run_as {
    std::string name;  // user name, for messages
    uid_t uid = 0;
    gid_t gid = 0;  // the user's primary group
};

// Looks the user up in the password database; the error names it.
expected<run_as, std::string> lookup_user(const std::string& name);
// Looks a group up by name; the error names it.
expected<gid_t, std::string> lookup_group(const std::string& name);

// chmod's a unix socket to `mode`, and chgrp's it to `group` when that is not
// empty (a non-root process may only pick one of its own groups, or keep the
// group a set-group-id directory gave the socket).
expected<bool, std::string> secure_socket(const std::string& path, unsigned mode, const std::string& group);

// Becomes `user` for good: supplementary groups from the group database,
// primary gid, uid; empties the capability bounding set first and sets
// no_new_privs, so nothing (not even a set-uid program the alert hook runs)
// gives root back. Checks afterwards that uid 0 cannot be regained. A process
// that already runs as that user (systemd's User=) is left as it is. An empty
// `user` is a no-op.
expected<bool, std::string> drop_to(const std::string& user);

}  // namespace relaygate::privilege
