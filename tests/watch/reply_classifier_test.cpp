// reply_classifier_test.cpp: the reply table of docs/watch.md, case by case,
// on Postfix's reply texts (as in tests/testdata/watch/postfix37.log).
#include "relaygate/watch/reply_classifier.hpp"

#include <gtest/gtest.h>

namespace relaygate::watch {
namespace {

struct reply_case {
    const char* name;
    delivery_status status;
    const char* dsn;
    const char* text;
    reply_class expect;
};

class reply_table : public ::testing::TestWithParam<reply_case> {};

TEST_P(reply_table, classifies) {
    const auto& c = GetParam();
    EXPECT_EQ(classify_reply(c.status, c.dsn, c.text), c.expect) << c.text;
}

#define SAID "host 127.0.0.1[127.0.0.1] said: "
using ds = delivery_status;
using rc = reply_class;

INSTANTIATE_TEST_SUITE_P(
    docs_watch_md, reply_table,
    ::testing::Values(
        reply_case{"sent", ds::sent, "2.0.0", "250 2.0.0 Ok", rc::delivered},
        reply_case{"s3140_filtered_to_4xx", ds::deferred, "4.7.1",
                   SAID "550 5.7.1 Unfortunately, messages from [127.0.0.2] weren't sent. (S3140). (in reply to MAIL "
                        "FROM command)",
                   rc::ip_blocklisted},
        reply_case{"s3150_bounced", ds::bounced, "5.7.1", SAID "550 5.7.1 Unfortunately ... block list (S3150)",
                   rc::ip_blocklisted},
        reply_case{"banned_606", ds::deferred, "4.7.606", SAID "550 5.7.606 Access denied, banned sending IP [x]",
                   rc::ip_banned},
        reply_case{"banned_649", ds::deferred, "4.7.649", SAID "550 5.7.649 Access denied", rc::ip_banned},
        reply_case{"banned_511", ds::deferred, "4.7.511", SAID "550 5.7.511 Access denied, banned sender",
                   rc::ip_banned},
        reply_case{"650_throttled", ds::deferred, "4.7.650",
                   SAID "451 4.7.650 The mail server [x] has been rate limited", rc::ip_reputation_throttled},
        reply_case{"651_throttled", ds::deferred, "4.7.651", SAID "451 4.7.651 temporarily rate limited",
                   rc::ip_reputation_throttled},
        reply_case{"652_connection_limit", ds::deferred, "4.7.652", SAID "451 4.7.652 exceeded the maximum connections",
                   rc::connection_limit},
        reply_case{"500_server_busy", ds::deferred, "4.7.500", SAID "451 4.7.500 Server busy. (S77719)",
                   rc::server_busy},
        reply_case{"699_server_busy", ds::deferred, "4.7.699", SAID "451 4.7.699 Access denied", rc::server_busy},
        reply_case{"850_server_busy", ds::deferred, "4.7.850", SAID "451 4.7.850 Access denied", rc::server_busy},
        reply_case{"900_is_other", ds::deferred, "4.7.900", SAID "451 4.7.900 x", rc::other_temporary},
        reply_case{"auth_515", ds::bounced, "5.7.515", SAID "550 5.7.515 Access denied, sending domain",
                   rc::authentication},
        reply_case{"auth_509_dmarc", ds::bounced, "5.7.509", SAID "550 5.7.509 does not pass DMARC",
                   rc::authentication},
        reply_case{"auth_23_spf", ds::bounced, "5.7.23", SAID "550 5.7.23 SPF violation", rc::authentication},
        reply_case{"auth_25_ipv6", ds::bounced, "5.7.25", SAID "550 5.7.25 IPv6 needs PTR", rc::authentication},
        reply_case{"auth_26_ipv6", ds::deferred, "4.7.26", SAID "450 4.7.26 IPv6 must pass SPF or DKIM",
                   rc::authentication},
        reply_case{"text_code_wins_over_filtered_dsn", ds::deferred, "4.7.606", SAID "550 5.7.607 banned",
                   rc::ip_banned},
        reply_case{"ip_in_host_is_not_a_code", ds::deferred, "4.7.650",
                   "host 4.7.606.1[4.7.606.1] said: 451 4.7.650 limited", rc::ip_reputation_throttled},
        reply_case{"unknown_user", ds::bounced, "5.1.1", SAID "550 5.1.1 RESOLVER.ADR.RecipNotFound",
                   rc::other_permanent},
        reply_case{"connection_refused_uses_dsn", ds::deferred, "4.4.1",
                   "connect to 127.0.0.1[127.0.0.1]:2792: Connection refused", rc::other_temporary},
        reply_case{"dsn_only_652", ds::deferred, "4.7.652", "lost connection", rc::connection_limit},
        reply_case{"expired", ds::expired, "", "returned to sender", rc::other_permanent},
        reply_case{"undeliverable_without_code", ds::undeliverable, "", "x", rc::unknown}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(reply_classifier, reputation_classes_are_the_failover_ones) {
    EXPECT_TRUE(is_reputation(rc::ip_blocklisted));
    EXPECT_TRUE(is_reputation(rc::ip_banned));
    EXPECT_TRUE(is_reputation(rc::ip_reputation_throttled));
    EXPECT_TRUE(is_reputation(rc::server_busy));
    EXPECT_FALSE(is_reputation(rc::connection_limit));
    EXPECT_FALSE(is_reputation(rc::authentication));
    EXPECT_FALSE(is_reputation(rc::other_temporary));
    EXPECT_FALSE(is_reputation(rc::delivered));
}

TEST(reply_classifier, enhanced_code_edges) {
    EXPECT_EQ(find_enhanced_code("said: 550 5.7.1 x").detail, 1);
    EXPECT_EQ(find_enhanced_code("said: 550 5.7.1").subject, 7);
    EXPECT_EQ(find_enhanced_code("said: 5.7.1234 x").cls, 0);  // 4-digit detail is not a code
    EXPECT_EQ(find_enhanced_code("said: 3.7.1 x").cls, 0);
    EXPECT_EQ(find_enhanced_code("said: 15.7.1 x").cls, 0);
    EXPECT_EQ(find_enhanced_code("").cls, 0);
    EXPECT_EQ(parse_enhanced_code("4.7.650").detail, 650);
    EXPECT_EQ(parse_enhanced_code("4.7").cls, 0);
}

}  // namespace
}  // namespace relaygate::watch
