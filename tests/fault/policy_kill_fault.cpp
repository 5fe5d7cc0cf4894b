// policy_kill_fault.cpp: kill -9 relaygate-policy (transport_maps socketmap)
// in the middle of 2,000 messages, half of them to a Microsoft-family domain,
// while the failover is active (egress state: microsoft -> msft-spare), and
// restart it 5 s later. Proves: every accepted message arrives exactly once,
// and no Microsoft-family message leaves through the default IP (127.0.0.1)
// or the failed-over designated IP (127.0.0.2): all of them from the spare
// (127.0.0.3). While the socketmap is down Postfix defers (a lookup failure
// is temporary), it never falls back to the default transport.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "fault_fixture.hpp"
#include "relaygate/harness/free_port.hpp"
#include "relaygate/harness/netns.hpp"
#include "relaygate/harness/postfix_instance.hpp"
#include "relaygate/harness/smtp_sink.hpp"
#include "relaygate/harness/temp_dir.hpp"
#include "relaygate/harness/wait.hpp"

namespace relaygate::fault {
namespace {

using namespace std::chrono_literals;
using namespace relaygate::harness;

class policy_fault : public netns_test {};

TEST_F(policy_fault, kill9_mid_run_never_steers_microsoft_mail_off_the_spare) {
    temp_dir dir("fault-policy");
    smtp_sink sink;  // every transport delivers here; the client address tells which IP sent it
    const auto egress = dir / "egress.json";
    write_file(egress,
               nlohmann::json{
                   {"families",
                    {{"microsoft",
                      {{"active_transport", "msft-spare"}, {"reason", "fault suite: failover active"}, {"since", 1}}}}}}
                   .dump());
    write_file(dir / "microsoft-domains", "outlook.test\n");
    const auto map_port = free_port();
    auto start_policy = [&] {
        return child_process({.argv = {binary_dir + "/policy/relaygate-policy", "--policy-listen", "",
                                       "--socketmap-listen=inet:127.0.0.1:" + std::to_string(map_port),
                                       "--microsoft-domains=" + (dir / "microsoft-domains").string(),
                                       "--transport-nexthop=" + sink.nexthop(), "--mx-detection=0",
                                       "--egress-file=" + egress.string(), "--log-sink=stderr"},
                              .stderr_path = dir / "policy.err"});
    };
    auto policy = start_policy();
    ASSERT_TRUE(wait_until([&] { return tcp_connects("127.0.0.1", map_port); }, 10s)) << read_file(dir / "policy.err");

    postfix_options o{.dir = dir / "pf", .relayhost = sink.nexthop()};
    o.smtp_transport("msft-out", "127.0.0.2").smtp_transport("msft-spare", "127.0.0.3");
    o.main("transport_maps = socketmap:inet:127.0.0.1:" + std::to_string(map_port) + ":transport")
        .main("minimal_backoff_time = 2s")
        .main("maximal_backoff_time = 4s")
        .main("queue_run_delay = 2s");
    postfix_instance postfix(o);

    fault_sender sender(
        {.port = postfix.smtp_port(), .prefix = "policy", .recipients = {"bob@outlook.test", "ann@gmail.test"}},
        dir.path());
    ASSERT_TRUE(wait_until([&] { return files_in(sink.dir()) >= 300; }, 60s)) << "no traffic reached the sink";
    ASSERT_EQ(::kill(policy.pid(), SIGKILL), 0);
    policy.stop();
    std::this_thread::sleep_for(5s);  // the outage
    policy = start_policy();
    ASSERT_TRUE(wait_until([&] { return tcp_connects("127.0.0.1", map_port); }, 10s)) << read_file(dir / "policy.err");
    const auto sent = sender.wait();
    ASSERT_TRUE(postfix.wait_queue_empty(120s)) << postfix.queue_listing();
    ASSERT_TRUE(wait_until([&] { return files_in(sink.dir()) >= static_cast<std::size_t>(sent.accepted); }, 30s));

    const auto got = read_smtp_sink(sink.dir());
    const auto t = count(sent, got);
    report("policy_kill9", sent, t);
    EXPECT_EQ(sent.accepted, 2000) << sent.output;
    EXPECT_EQ(t.delivered, 2000);
    EXPECT_EQ(t.lost, 0);
    EXPECT_EQ(t.duplicated, 0);
    std::map<std::string, int> microsoft_by_client, other_by_client;
    for (const auto& m : read_sink_dir(sink.dir(), 0)) {
        const bool microsoft = !m.rcpts.empty() && m.rcpts.front().ends_with("@outlook.test");
        ++(microsoft ? microsoft_by_client : other_by_client)[m.client_addr];
    }
    EXPECT_EQ(microsoft_by_client, (std::map<std::string, int>{{"127.0.0.3", 1000}}))
        << "Microsoft-family mail left through another IP than the spare";
    EXPECT_EQ(other_by_client, (std::map<std::string, int>{{"127.0.0.1", 1000}}));
    EXPECT_FALSE(postfix.log_lines("(Temporary lookup failure|transport_maps|socketmap)").empty())
        << "Postfix never noticed the socketmap was gone";
}

}  // namespace
}  // namespace relaygate::fault
