// free_port.hpp: ports for fixtures. A port is free (TCP and UDP) on every local address
// when we hand it out, and reserved for this process's lifetime through a lock
// file under /tmp/relaygate-ports, so parallel ctest jobs on the host never get
// the same one. Ports come from 20000-32767, below Linux's ephemeral range.
#pragma once

#include <cstdint>

namespace relaygate::harness {

// Throws std::runtime_error when no port could be found.
std::uint16_t free_port();

}  // namespace relaygate::harness
