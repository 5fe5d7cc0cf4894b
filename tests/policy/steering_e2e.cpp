// End to end through a private Postfix (in its own network namespace):
// relaygate-policy answers transport_maps (socketmap) and check_policy_service.
// ONE message to alice@gmail.test, Bob@Hotmail.com and carol@tenant.test (MX
// tenant-test.mail.protection.outlook.com in the test DNS) is split: the two
// Microsoft-family recipients leave from 127.0.0.2 through msft-out, alice
// from 127.0.0.1; after a flip to the spare, new Microsoft mail leaves from
// 127.0.0.3. A sender over quota gets 4.7.1 at RCPT and gets through later.
#include <gtest/gtest.h>

#include <algorithm>

#include "policy_daemon.hpp"
#include "relaygate/egress/egress_state.hpp"
#include "relaygate/harness/dns_server.hpp"
#include "relaygate/harness/netns.hpp"
#include "relaygate/harness/postfix_instance.hpp"
#include "relaygate/harness/smtp_sink.hpp"
#include "relaygate/harness/swaks.hpp"
#include "relaygate/harness/wait.hpp"

namespace relaygate::policy::testing {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}

class steering_e2e : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_EQ(harness::private_netns_problem(), ""); }

    // Postfix wired to the daemon exactly as postfix-conf/policy.main.cf says.
    harness::postfix_options postfix_for(const policy_daemon& d, const harness::smtp_sink& plain) {
        harness::postfix_options o{.relayhost = plain.nexthop()};
        o.smtp_transport("msft-out", "127.0.0.2")
            .smtp_transport("msft-spare", "127.0.0.3")
            .main("transport_maps = socketmap:inet:127.0.0.1:" + std::to_string(d.socketmap_port()) + ":transport")
            .main("smtpd_recipient_restrictions = check_policy_service { inet:127.0.0.1:" +
                  std::to_string(d.policy_port()) + ", default_action=DUNNO, timeout=10s }, permit_mynetworks, reject")
            .main("msft-out_destination_concurrency_limit = 2")
            .main("msft-spare_destination_concurrency_limit = 2");
        return o;
    }
};

TEST_F(steering_e2e, one_message_is_split_by_recipient_and_a_flip_moves_microsoft_mail_to_the_spare_ip) {
    harness::dns_server dns({"policy.conf"});
    harness::smtp_sink plain;
    harness::smtp_sink microsoft;  // the "Microsoft MX"; the source address proves which transport was used
    policy_daemon daemon({.config = {"transport-nexthop = " + microsoft.nexthop()}, .dns_forwarder = dns.forwarder()});
    harness::postfix_instance postfix(postfix_for(daemon, plain));

    auto sent = harness::swaks_send({.port = postfix.smtp_port(),
                                     .from = "news@brand.test",
                                     .to = {"alice@gmail.test", "Bob@Hotmail.com", "carol@tenant.test"},
                                     .headers = {"Subject: split me"}});
    ASSERT_EQ(sent.exit_code, 0) << sent.transcript;

    ASSERT_TRUE(plain.wait_for_messages(1));
    ASSERT_TRUE(microsoft.wait_for_messages(1));
    auto others = plain.messages();
    ASSERT_EQ(others.size(), 1u);
    EXPECT_EQ(others[0].client_addr, "127.0.0.1");
    EXPECT_EQ(others[0].rcpts, std::vector<std::string>{"alice@gmail.test"});
    auto steered = microsoft.messages();
    ASSERT_EQ(steered.size(), 1u);  // both Microsoft recipients in one msft-out delivery
    EXPECT_EQ(steered[0].client_addr, "127.0.0.2");
    EXPECT_EQ(sorted(steered[0].rcpts), (std::vector<std::string>{"Bob@Hotmail.com", "carol@tenant.test"}));
    EXPECT_TRUE(postfix.wait_for_log("postfix/msft-out/smtp\\[[0-9]+\\]: " + sent.queue_id() +
                                     ": to=<carol@tenant.test>.*status=sent"));
    EXPECT_NE(
        daemon.log().find("domain=tenant.test reply=\"OK msft-out:" + microsoft.nexthop() + "\" reason=mx_microsoft"),
        std::string::npos);

    // The egress state flips to the spare (what relaygate-watch does on a blocklisting).
    auto store = egress::make_file_egress_store((daemon.dir() / "egress.json").string());
    ASSERT_TRUE(store->set_active({"microsoft", "msft-spare", "dnsbl_listed e2e", 1}));
    ASSERT_TRUE(harness::wait_until(
        [&] {
            return socketmap_query(daemon.socketmap_port(), "transport dave@outlook.jp") ==
                   "OK msft-spare:" + microsoft.nexthop();
        },
        5s));
    auto after = harness::swaks_send({.port = postfix.smtp_port(),
                                      .from = "news@brand.test",
                                      .to = {"dave@outlook.jp", "erin@tenant.test"},
                                      .headers = {"Subject: after the flip"}});
    ASSERT_EQ(after.exit_code, 0) << after.transcript;
    ASSERT_TRUE(microsoft.wait_for_messages(2));
    auto all = microsoft.messages();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[1].client_addr, "127.0.0.3");
    EXPECT_EQ(sorted(all[1].rcpts), (std::vector<std::string>{"dave@outlook.jp", "erin@tenant.test"}));
    EXPECT_TRUE(postfix.wait_for_log("postfix/msft-spare/smtp\\[[0-9]+\\]: " + after.queue_id() +
                                     ": to=<dave@outlook.jp>.*status=sent"));
}

TEST_F(steering_e2e, a_sender_over_quota_gets_4_7_1_at_rcpt_and_gets_through_once_the_window_passes) {
    harness::dns_server dns({"policy.conf"});
    harness::smtp_sink plain;
    policy_daemon daemon({.config = {"limit = sender_domain:recipients:2/3s", "mx-detection = false"},
                          .dns_forwarder = dns.forwarder()});
    harness::postfix_instance postfix(postfix_for(daemon, plain));

    auto flood = harness::swaks_send({.port = postfix.smtp_port(),
                                      .from = "flood@bulk.test",
                                      .to = {"a@gmail.test", "b@gmail.test", "c@gmail.test"},
                                      .extra_args = {"--quit-after", "RCPT"}});
    auto third = flood.reply_to("RCPT TO:<c@gmail.test>");
    ASSERT_TRUE(third.has_value()) << flood.transcript;
    EXPECT_EQ(third->rfind("450 4.7.1 ", 0), 0u) << *third;
    EXPECT_NE(third->find("Sender domain bulk.test is over its limit of 2 recipients per 3 s"), std::string::npos)
        << *third;
    EXPECT_EQ(flood.reply_to("RCPT TO:<a@gmail.test>")->rfind("250", 0), 0u);

    // Once the sliding window has passed, the same sender is accepted again.
    bool accepted = harness::wait_until(
        [&] {
            auto retry =
                harness::swaks_send({.port = postfix.smtp_port(), .from = "flood@bulk.test", .to = {"c@gmail.test"}});
            return retry.exit_code == 0;
        },
        20s, 1s);
    EXPECT_TRUE(accepted);
    EXPECT_TRUE(plain.wait_for_messages(1));
}

}  // namespace
}  // namespace relaygate::policy::testing
