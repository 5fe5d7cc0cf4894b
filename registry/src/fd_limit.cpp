// fd_limit.cpp: raising RLIMIT_NOFILE to the hard limit (see fd_limit.hpp).
#include "relaygate/registry/fd_limit.hpp"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "relaygate/log/log.hpp"

namespace relaygate::fd_limit {
namespace {

// The most descriptors the kernel gives one process (fs.nr_open); a hard limit of
// "unlimited" cannot be the soft limit.
std::uint64_t kernel_ceiling() {
    std::uint64_t n = 0;
    std::ifstream("/proc/sys/fs/nr_open") >> n;
    return n == 0 ? 1u << 20 : n;
}

}  // namespace

figures raise_to_hard() {
    figures f;
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        f.error = std::string("getrlimit: ") + std::strerror(errno);
        return f;
    }
    f.before = f.soft = rl.rlim_cur;
    f.hard = rl.rlim_max == RLIM_INFINITY ? kernel_ceiling() : rl.rlim_max;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= f.hard) return f;
    rlimit want = rl;
    want.rlim_cur = f.hard;
    if (setrlimit(RLIMIT_NOFILE, &want) != 0) {
        f.error = std::string("setrlimit: ") + std::strerror(errno);
        return f;
    }
    f.soft = f.hard;
    return f;
}

std::string log_fields(const figures& f) {
    std::string s = "fd_limit=" + std::to_string(f.soft) + " fd_limit_was=" + std::to_string(f.before) +
                    " fd_limit_hard=" + std::to_string(f.hard);
    if (!f.error.empty()) s += " fd_limit_error=" + log::quote(f.error);
    return s;
}

}  // namespace relaygate::fd_limit
