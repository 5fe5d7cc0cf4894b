// milter_pressure_itest: the real relaygate-milter under connection and input
// pressure, driven over its unix socket (milter_wire.hpp): beyond
// max-connections a connection is answered 451 4.3.2 at its connect step and
// the gate's changes are logged once each; a peer that stops mid-packet is
// closed after packet-timeout while one idle between packets is not; 1,000
// From headers of 60 KB get the 550 without being buffered; the soft
// descriptor limit is raised to the hard one, and max-connections follows a
// limit too low for it. docs/milter.md "Under pressure".
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "milter_fixture.hpp"
#include "milter_wire.hpp"
#include "relaygate/harness/wait.hpp"

namespace relaygate::milter::testing {
namespace {

using namespace std::chrono_literals;

constexpr std::uint32_t declined = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL | SMFIP_NODATA | SMFIP_NOEOH |
                                   SMFIP_NOBODY | SMFIP_NR_RCPT | SMFIP_NR_HDR;
const std::string accepted(1, SMFIR_ACCEPT);

std::string reply_text(std::string r) {
    while (!r.empty() && r.back() == '\0') r.pop_back();
    return r;
}

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

// A kB figure of /proc/PID/status ("VmHWM", "VmRSS").
long status_kb(pid_t pid, const std::string& key) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with(key + ":")) return std::stol(line.substr(key.size() + 1));
    }
    return -1;
}

// The soft "Max open files" of /proc/PID/limits.
std::string soft_nofile(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/limits");
    for (std::string line; std::getline(in, line);) {
        if (!line.starts_with("Max open files")) continue;
        std::istringstream fields(line.substr(14));
        std::string soft;
        fields >> soft;
        return soft;
    }
    return "";
}

std::unique_ptr<wire> negotiated(milter_process& m, std::uint32_t* steps = nullptr) {
    auto w = std::make_unique<wire>(m.socket_path());
    const std::uint32_t s = w->negotiate();
    if (steps != nullptr) *steps = s;
    return w;
}

TEST(milter_pressure, beyond_max_connections_the_connect_step_is_answered_451_and_each_change_logged_once) {
    milter_process m({"--signing", "false", "--max-connections", "2"}, "milter-cap");
    std::uint32_t steps = 0;
    auto a = negotiated(m, &steps);
    EXPECT_EQ(steps & declined, declined);
    auto b = negotiated(m);
    const std::string busy =
        std::string(1, SMFIR_REPLYCODE) + "451 4.3.2 relaygate-milter is at its connection limit, try again later";
    std::vector<std::unique_ptr<wire>> refused;
    for (int i = 0; i < 3; ++i) {
        refused.push_back(negotiated(m, &steps));
        EXPECT_EQ(steps & SMFIP_NOCONNECT, 0u) << "a refused connection must be asked for its connect step";
        refused.back()->send(packet(SMFIC_CONNECT, nul_joined({"client.example"}) + "U"));
        EXPECT_EQ(reply_text(refused.back()->receive()), busy);
    }
    // The admitted ones still get verdicts.
    a->send(message_stream("CAP1", "news@verified.example"));
    EXPECT_EQ(reply_text(a->receive()), accepted);
    EXPECT_EQ(count(m.log(), "connections_full"), 1u) << m.log();
    EXPECT_NE(m.log().find("connections_full max_connections=2 refused_total=1"), std::string::npos) << m.log();

    refused.clear();  // refused connections hold no slot
    a.reset();        // 1 of 2 active: open again
    ASSERT_TRUE(harness::wait_until([&] { return m.log().find("connections_open") != std::string::npos; }, 10s))
        << m.log();
    EXPECT_NE(m.log().find("connections_open max_connections=2 active=1 refused_total=3"), std::string::npos)
        << m.log();
    auto c = negotiated(m, &steps);
    EXPECT_EQ(steps & declined, declined);
    c->send(message_stream("CAP2", "x@unknown.example"));
    EXPECT_EQ(reply_text(c->receive()).substr(0, 10), std::string(1, SMFIR_REPLYCODE) + "550 5.7.1");
    EXPECT_EQ(count(m.log(), "connections_full"), 1u);
    EXPECT_EQ(count(m.log(), "connections_open"), 1u);
}

TEST(milter_pressure, a_peer_stopped_mid_packet_is_closed_after_packet_timeout_and_an_idle_one_is_not) {
    milter_process m({"--signing", "false", "--packet-timeout", "1"}, "milter-stuck");
    // 50 connections stopped inside a packet: each is closed by the milter (EOF), none holds on.
    std::vector<std::unique_ptr<wire>> stuck;
    for (int i = 0; i < 50; ++i) {
        stuck.push_back(negotiated(m));
        stuck.back()->send(message_stream("STUCK" + std::to_string(i), "news@verified.example").substr(0, 3 + i % 40));
    }
    for (auto& w : stuck) EXPECT_EQ(w->receive(), "") << "closed by the milter, within wire's 10 s bound";
    EXPECT_GE(count(m.log(), "packet_timeout seconds=1"), 50u) << m.log();

    // Idle between packets for longer than packet-timeout: milter-timeout (300 s) applies, not packet-timeout.
    auto idle = negotiated(m);
    idle->send(message_stream("IDLE1", "news@verified.example"));
    EXPECT_EQ(reply_text(idle->receive()), accepted);
    std::this_thread::sleep_for(2500ms);
    idle->send(message_stream("IDLE2", "news@verified.example"));
    EXPECT_EQ(reply_text(idle->receive()), accepted);
    EXPECT_TRUE(m.process().running());
}

TEST(milter_pressure, a_thousand_from_headers_of_60_kb_get_550_without_being_buffered) {
    milter_process m({"--signing", "false"}, "milter-headers");
    const long before = status_kb(m.process().pid(), "VmHWM");
    ASSERT_GT(before, 0);
    auto w = negotiated(m);
    const std::string value = "a@" + std::string(60 * 1024, 'x') + ".example";
    w->send(packet(SMFIC_MACRO, "R" + nul_joined({"i", "HDRS1", "{mail_addr}", "b@relay.example.net", "{client_addr}",
                                                  "192.0.2.9"})) +
            packet(SMFIC_RCPT, nul_joined({"<bob@example.net>"})));
    const std::string header = packet(SMFIC_HEADER, nul_joined({"From", value}));
    for (int i = 0; i < 1000; ++i) w->send(header);  // 60 MB in all; headers are not answered (SMFIP_NR_HDR)
    w->send(packet(SMFIC_MACRO, "E" + nul_joined({"i", "HDRS1"})) + packet(SMFIC_BODYEOB));
    const std::string r = reply_text(w->receive());
    EXPECT_EQ(r, std::string(1, SMFIR_REPLYCODE) + "550 5.7.1 Message has 1000 From headers; RFC 5322 allows one");
    const long after = status_kb(m.process().pid(), "VmHWM");
    EXPECT_LT(after - before, 20 * 1024) << "peak RSS grew from " << before << " to " << after << " kB";
}

TEST(milter_pressure, the_soft_descriptor_limit_is_raised_to_the_hard_one_and_a_low_one_lowers_max_connections) {
    milter_process m({"--signing", "false"}, "milter-fds");
    for (const auto& [limits, expect] : std::vector<std::pair<std::string, std::string>>{
             {"--nofile=256:2048", "fd_limit=2048 fd_limit_was=256 fd_limit_hard=2048 max_connections=1000"},
             {"--nofile=100:100",
              "fd_limit=100 fd_limit_was=100 fd_limit_hard=100 max_connections=50 "
              "configured_max_connections=1000 reason=fd_limit_too_low"}}) {
        const auto dir = m.dir() / ("fds" + std::to_string(limits.size()));
        std::filesystem::create_directories(dir);
        const auto log = dir / "milter.log";
        harness::child_process p(
            {.argv = {"prlimit", limits, milter_binary, "--config", (m.dir() / "milter.conf").string(), "--socket",
                      "unix:" + (dir / "m.sock").string()},
             .stdout_path = log,
             .stderr_path = log});
        ASSERT_TRUE(harness::wait_until(
            [&] { return harness::read_file(log).find("- started") != std::string::npos || !p.running(); }, 10s))
            << harness::read_file(log);
        EXPECT_NE(harness::read_file(log).find(expect), std::string::npos) << harness::read_file(log);
        EXPECT_EQ(soft_nofile(p.pid()), expect.substr(9, expect.find(' ') - 9)) << "as the kernel has it";
    }
}

}  // namespace
}  // namespace relaygate::milter::testing
