// netns_itest.cpp: tests/harness/in-netns gives a private namespace: its
// resolv.conf says nameserver 127.0.0.1, lo carries 127.0.0.2, a port bound
// inside is invisible outside, and the host's /etc/resolv.conf is untouched.
// (This binary itself runs in the host namespace.)
#include <gtest/gtest.h>

#include "relaygate/harness/child_process.hpp"
#include "relaygate/harness/free_port.hpp"
#include "relaygate/harness/netns.hpp"
#include "relaygate/harness/temp_dir.hpp"
#include "relaygate/harness/wait.hpp"

namespace relaygate::harness {
namespace {

const std::string in_netns = std::string(RELAYGATE_SOURCE_DIR) + "/tests/harness/in-netns";

TEST(InNetns, ResolvConfInsideNamesLocalhostAndTheHostFileIsUntouched) {
    const std::string host_before = read_file("/etc/resolv.conf");
    auto inside = run_command({in_netns, "cat", "/etc/resolv.conf"}, 30s);
    ASSERT_EQ(inside.exit_code, 0) << inside.output;
    EXPECT_EQ(inside.output, "nameserver 127.0.0.1\n");
    EXPECT_EQ(read_file("/etc/resolv.conf"), host_before);
    EXPECT_NE(host_before, "nameserver 127.0.0.1\n");
}

TEST(InNetns, HasItsOwnNetworkNamespaceWithLoopbackUp) {
    EXPECT_FALSE(in_private_netns());  // we are the host side
    EXPECT_NE(private_netns_problem(), "");
    auto inside = run_command({in_netns, "sh", "-c", "readlink /proc/self/ns/net; ip -o addr show dev lo"}, 30s);
    ASSERT_EQ(inside.exit_code, 0) << inside.output;
    auto host = run_command({"readlink", "/proc/self/ns/net"});
    EXPECT_EQ(inside.output.find(host.output), std::string::npos) << inside.output;
    EXPECT_NE(inside.output.find("inet 127.0.0.1/8"), std::string::npos) << inside.output;
    // 127.0.0.2 is on lo as part of 127.0.0.0/8: bind and connect to it.
    auto bound = run_command({in_netns, "bash", "-c", "exec 3<>/dev/tcp/127.0.0.2/9 2>/dev/null; echo rc=$?"}, 30s);
    EXPECT_NE(bound.output.find("rc=1"), std::string::npos)
        << "connection must be refused, not unreachable: " << bound.output;
}

TEST(InNetns, AListenerInsideIsInvisibleOutside) {
    temp_dir dir("netns");
    const auto port = std::to_string(free_port());
    const auto ready = dir / "ready";
    // smtp-sink inside the namespace; once it answers there, the script marks `ready` and waits.
    child_process inside(
        process_spec{.argv = {in_netns, "bash", "-c",
                              "smtp-sink -u nobody 127.0.0.1:" + port + " 10 & for i in $(seq 200); do " +
                                  "(exec 3<>/dev/tcp/127.0.0.1/" + port + ") 2>/dev/null && touch " + ready.string() +
                                  " && break; sleep 0.05; done; wait"}});
    ASSERT_TRUE(wait_until([&] { return std::filesystem::exists(ready); }, 20s));
    EXPECT_FALSE(tcp_connects("127.0.0.1", std::stoi(port)));
    inside.stop();
}

TEST(InNetns, PassesTheExitCodeThrough) {
    EXPECT_EQ(run_command({in_netns, "sh", "-c", "exit 9"}, 30s).exit_code, 9);
    EXPECT_EQ(run_command({in_netns}, 30s).exit_code, 2);
}

}  // namespace
}  // namespace relaygate::harness
