// milter_kill_fault.cpp: kill -9 relaygate-milter in the middle of 2,000
// messages through a real Postfix (milter_default_action = tempfail, as
// postfix-conf ships), restart it 5 s later. Proves: the clients' 4xx during
// the outage are retried and end delivered; every accepted message arrives
// exactly once; none passed without the gate (every one carries the milter's
// DKIM-Signature: the milter signs all mail of verified.example).
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "fault_fixture.hpp"
#include "milter_fixture.hpp"
#include "relaygate/harness/netns.hpp"
#include "relaygate/harness/postfix_instance.hpp"
#include "relaygate/harness/smtp_sink.hpp"
#include "relaygate/harness/temp_dir.hpp"
#include "relaygate/harness/wait.hpp"

namespace relaygate::fault {
namespace {

using namespace std::chrono_literals;
using namespace relaygate::harness;

class milter_fault : public netns_test {};

TEST_F(milter_fault, kill9_mid_run_loses_nothing_and_lets_nothing_pass_ungated) {
    temp_dir dir("fault-milter");
    smtp_sink sink;
    milter::testing::milter_process milter({"--log-level", "info", "--socket-mode", "0666"}, "fault-milter-daemon");
    postfix_options o{.dir = dir / "pf", .relayhost = sink.nexthop()};
    o.main("smtpd_milters = " + milter.socket_spec()).main("milter_default_action = tempfail");
    postfix_instance postfix(o);

    fault_sender sender({.port = postfix.smtp_port(), .prefix = "milter"}, dir.path());
    ASSERT_TRUE(wait_until([&] { return files_in(sink.dir()) >= 300; }, 60s)) << "no traffic reached the sink";
    ASSERT_EQ(::kill(milter.process().pid(), SIGKILL), 0);
    std::this_thread::sleep_for(5s);  // the outage (the fault's length, not an assertion)
    milter.start();
    const auto sent = sender.wait();
    ASSERT_TRUE(postfix.wait_queue_empty(120s)) << postfix.queue_listing();
    ASSERT_TRUE(wait_until([&] { return files_in(sink.dir()) >= static_cast<std::size_t>(sent.accepted); }, 30s));
    const auto got = read_smtp_sink(sink.dir());
    const auto t = count(sent, got);
    report("milter_kill9", sent, t);
    EXPECT_EQ(sent.accepted, 2000) << sent.output;
    EXPECT_GT(sent.retries, 0) << "the outage must have been seen by the clients";
    EXPECT_EQ(t.delivered, 2000);
    EXPECT_EQ(t.lost, 0);
    EXPECT_EQ(t.duplicated, 0);
    int unsigned_messages = 0;
    for (const auto& m : harness::read_sink_dir(sink.dir(), 0)) {
        if (!m.header("DKIM-Signature")) ++unsigned_messages;
    }
    EXPECT_EQ(unsigned_messages, 0) << "mail accepted without the milter";
}

}  // namespace
}  // namespace relaygate::fault
