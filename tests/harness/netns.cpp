// netns.cpp: tells whether we run inside the private namespace that
// tests/harness/in-netns creates (net namespace differs from the host's, and
// /etc/resolv.conf names 127.0.0.1).
#include "relaygate/harness/netns.hpp"

#include <cstdlib>
#include <filesystem>
#include <regex>

#include "relaygate/harness/temp_dir.hpp"

namespace relaygate::harness {

namespace {

// The namespace link of a process, e.g. "net:[4026531833]"; "" when unreadable.
std::string netns_of(const char* proc_link) {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(proc_link, ec);
    return ec ? std::string() : target.string();
}

}  // namespace

bool in_private_netns() {
    const std::string ours = netns_of("/proc/self/ns/net");
    if (ours.empty()) return false;
    // PID 1's namespace is the host's; some VMs hide it, so in-netns also records
    // the namespace it started from in RELAYGATE_HOST_NETNS.
    std::string host = netns_of("/proc/1/ns/net");
    if (host.empty()) {
        const char* recorded = std::getenv("RELAYGATE_HOST_NETNS");
        host = recorded != nullptr ? recorded : "";
    }
    return !host.empty() && host != ours;
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
