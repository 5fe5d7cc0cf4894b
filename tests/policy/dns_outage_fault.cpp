// Fault suite (label fault): relaygate-policy's memory while DNS is hung. The
// forwarder is a UDP socket that never answers (a dead server: every query
// runs into its timeout); 100,000 socketmap lookups of unique domains — what
// any SMTP client can cause through RCPT TO. The bound is asserted in numbers,
// not time: the MX lookups in flight the daemon reports never exceed its cap,
// and the peak RSS (VmHWM) stays under the ceiling docs/policy.md states.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <string>

#include "policy_daemon.hpp"
#include "relaygate/harness/free_port.hpp"

namespace relaygate::policy::testing {
namespace {

constexpr std::size_t lookups = 100000;
constexpr std::size_t batch = 1000;              // pipelined on one connection, then read
constexpr std::size_t mx_in_flight_cap = 10000;  // service_config::max_mx_in_flight
constexpr std::size_t mx_cache_cap = 100000;     // mx-cache-size default
constexpr long ceiling_kb = 160 * 1024;          // docs/policy.md "Faults": RSS ceiling under a DNS outage

// A DNS server that is up but never answers: a bound UDP socket nobody reads.
class hung_dns {
public:
    hung_dns() : port_(harness::free_port()) {
        fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port_);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
            throw std::runtime_error("hung_dns: bind failed");
    }
    ~hung_dns() { ::close(fd_); }
    std::string forwarder() const { return "127.0.0.1@" + std::to_string(port_); }

private:
    std::uint16_t port_;
    int fd_ = -1;
};

long status_kb(pid_t pid, const std::string& field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
    }
    throw std::runtime_error("no " + field + " in /proc/" + std::to_string(pid) + "/status");
}

TEST(dns_outage_fault, unique_lookups_while_dns_hangs_stay_under_the_in_flight_cap_and_the_memory_ceiling) {
    hung_dns dns;
    // Short timeouts, so the run spans many of them: abandoned queries pile up unless bounded.
    policy_daemon d({.config = {"mx-wait-ms = 100", "dns-timeout-ms = 500"}, .dns_forwarder = dns.forwarder()});
    const long start_kb = status_kb(d.pid(), "VmRSS");
    client c(d.socketmap_port(), std::chrono::milliseconds(10000));
    std::size_t temp = 0;
    for (std::size_t done = 0; done < lookups; done += batch) {
        std::string out;
        for (std::size_t i = 0; i < batch; ++i)
            out += netstring("transport u@d" + std::to_string(done + i) + ".outage.example");
        c.send(out);
        for (std::size_t i = 0; i < batch; ++i) {
            auto r = c.read_netstring();
            ASSERT_TRUE(r) << "lookup " << done + i << " got no reply";
            if (r->rfind("TEMP ", 0) == 0) ++temp;
        }
    }
    EXPECT_EQ(temp, lookups) << "DNS is dead: every unique domain is TEMP (never NOTFOUND, never steered)";
    const long peak_kb = status_kb(d.pid(), "VmHWM");
    const long now_kb = status_kb(d.pid(), "VmRSS");
    std::cout << "dns_outage: lookups=" << lookups << " rss_start_kb=" << start_kb << " rss_peak_kb=" << peak_kb
              << " rss_end_kb=" << now_kb << " ceiling_kb=" << ceiling_kb << "\n";
    // The daemon's own reports: each time the cap is reached, and every 10 s of lookups.
    const std::string log = d.log();
    const std::regex report(
        "(mx_in_flight_limit state=full|mx_summary) in_flight=([0-9]+) limit=([0-9]+) mx_cache=([0-9]+)");
    std::size_t reports = 0;
    for (std::sregex_iterator it(log.begin(), log.end(), report), end; it != end; ++it) {
        ++reports;
        EXPECT_LE(std::stoul((*it)[2]), mx_in_flight_cap) << (*it)[0];
        EXPECT_EQ(std::stoul((*it)[3]), mx_in_flight_cap) << (*it)[0];
        EXPECT_LE(std::stoul((*it)[4]), mx_cache_cap) << (*it)[0];
    }
    EXPECT_GE(reports, 1u) << "the daemon reported its in-flight lookups";
    EXPECT_LE(peak_kb, ceiling_kb);
}

}  // namespace
}  // namespace relaygate::policy::testing
