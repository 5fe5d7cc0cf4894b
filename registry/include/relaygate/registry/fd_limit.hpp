// fd_limit.hpp: each daemon's descriptor limit. raise_fd_limit() lifts the
// soft RLIMIT_NOFILE to the hard limit (systemd hands services a soft 1024
// and a hard 524288), bounded by what the kernel lets one process open
// (/proc/sys/fs/nr_open), and reports the figures for the daemon's one start
// line (`fd_limit=N`). Called once by each daemon's main() before it listens.
#pragma once

#include <cstdint>
#include <string>

namespace relaygate::fd_limit {

struct figures {
    std::uint64_t before = 0;  // the soft limit inherited
    std::uint64_t soft = 0;    // the soft limit now
    std::uint64_t hard = 0;    // the hard limit (unchanged)
    std::string error;         // why it could not be raised; "" when it was (or already was) at the hard limit
};

figures raise_to_hard();

// "fd_limit=524288 fd_limit_was=1024 fd_limit_hard=524288" (+ " fd_limit_error=\"...\"").
std::string log_fields(const figures& f);

}  // namespace relaygate::fd_limit
