// netns.cpp: tells whether we run inside the private namespace that
// tests/harness/in-netns creates (net namespace differs from PID 1's, and
// /etc/resolv.conf names 127.0.0.1).
#include "relaygate/harness/netns.hpp"

#include <sys/stat.h>

#include <regex>

#include "relaygate/harness/temp_dir.hpp"

namespace relaygate::harness {

bool in_private_netns() {
    struct stat ours {};
    struct stat init {};
    if (::stat("/proc/self/ns/net", &ours) != 0) return false;
    if (::stat("/proc/1/ns/net", &init) != 0) return true;  // PID 1 not visible: not the host namespace
    return ours.st_ino != init.st_ino || ours.st_dev != init.st_dev;
}

std::string private_netns_problem() {
    if (!in_private_netns()) {
        return "not inside a private network namespace: run this e2e test through tests/harness/in-netns "
               "(ctest does that) as root";
    }
    static const std::regex first_ns(R"(^\s*nameserver\s+127\.0\.0\.1\s*$)", std::regex::multiline);
    if (!std::regex_search(read_file("/etc/resolv.conf"), first_ns)) {
        return "/etc/resolv.conf in this namespace does not say 'nameserver 127.0.0.1'";
    }
    return {};
}

}  // namespace relaygate::harness
