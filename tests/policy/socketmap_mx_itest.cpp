// MX-based Microsoft detection through the real daemon and a real unbound
// (tests/testdata/dns/policy.conf): hosted tenants are steered, others not,
// DNS trouble answers TEMP after the bounded wait, a slow lookup never blocks
// other connections, and one connection's pipelined replies stay in order.
#include <gtest/gtest.h>

#include "policy_daemon.hpp"
#include "relaygate/harness/dns_server.hpp"

namespace relaygate::policy::testing {
namespace {

class socketmap_mx : public ::testing::Test {
protected:
    harness::dns_server dns_{{"policy.conf"}};
    policy_daemon daemon_{
        {.config = {"mx-wait-ms = 1500", "dns-timeout-ms = 5000"}, .dns_forwarder = dns_.forwarder()}};
    std::string lookup(const std::string& key) { return socketmap_query(daemon_.socketmap_port(), "transport " + key); }
};

TEST_F(socketmap_mx, microsoft_hosted_domains_are_found_by_their_mx) {
    EXPECT_EQ(lookup("carol@Tenant.Test"), "OK msft-out:");  // *.mail.protection.outlook.com
    EXPECT_EQ(lookup("x@consumer.test"), "OK msft-out:");    // *.olc.protection.outlook.com
    EXPECT_EQ(lookup("x@dane.test"), "OK msft-out:");        // *.mx.microsoft
    EXPECT_EQ(lookup("alice@gmail.test"), "NOTFOUND ");      // ordinary MX
    EXPECT_EQ(lookup("x@backup.test"), "NOTFOUND ");         // Microsoft only as a backup MX
    EXPECT_EQ(lookup("x@lookalike.test"), "NOTFOUND ");      // suffix only as a prefix
    EXPECT_EQ(lookup("x@nomx.test"), "NOTFOUND ");           // NODATA
    EXPECT_EQ(lookup("x@nonexistent.test"), "NOTFOUND ");    // NXDOMAIN
    // The second lookup is answered from the cache (one MX query per domain).
    EXPECT_EQ(lookup("dave@tenant.test"), "OK msft-out:");
    EXPECT_NE(daemon_.log().find("reason=mx_microsoft"), std::string::npos);
    EXPECT_NE(daemon_.log().find("domain=tenant.test reply=\"OK msft-out:\" reason=mx_microsoft status=ok "
                                 "transport=msft-out\n"),
              std::string::npos)
        << "the cached answer should say reason=mx_microsoft (then the status and transport) without an mx= field";
}

TEST_F(socketmap_mx, dns_trouble_answers_temp_so_postfix_retries) {
    EXPECT_EQ(lookup("x@a.servfail.test"), "TEMP MX lookup for a.servfail.test failed or timed out");
    EXPECT_EQ(lookup("x@a.timeout.test"), "TEMP MX lookup for a.timeout.test failed or timed out");
    EXPECT_NE(
        daemon_.log().find("domain=a.timeout.test reply=\"TEMP MX lookup for a.timeout.test failed or timed out\" "
                           "reason=mx_wait_expired"),
        std::string::npos);
}

TEST_F(socketmap_mx, a_slow_lookup_blocks_neither_other_connections_nor_listed_domains) {
    client slow(daemon_.socketmap_port());
    slow.send(netstring("transport x@b.timeout.test") + netstring("transport bob@hotmail.com") +
              netstring("transport *"));
    // Meanwhile another connection is served at once.
    client other(daemon_.socketmap_port());
    other.send(netstring("transport bob@hotmail.com"));
    EXPECT_EQ(other.read_netstring(), "OK msft-out:");
    other.send(netstring("transport alice@gmail.test"));
    EXPECT_EQ(other.read_netstring(), "NOTFOUND ");
    // The slow connection's replies are still held back (the first one is not
    // known yet, and the later ones must not overtake it)...
    EXPECT_EQ(slow.available(), "");
    // ...and arrive in request order once the bounded wait ends.
    EXPECT_EQ(slow.read_netstring(), "TEMP MX lookup for b.timeout.test failed or timed out");
    EXPECT_EQ(slow.read_netstring(), "OK msft-out:");
    EXPECT_EQ(slow.read_netstring(), "NOTFOUND ");
}

TEST_F(socketmap_mx, many_pipelined_lookups_of_one_domain_share_one_answer_in_order) {
    client c(daemon_.socketmap_port());
    std::string batch;
    for (int i = 0; i < 50; ++i)
        batch += netstring("transport u" + std::to_string(i) + "@tenant.test") +
                 netstring("transport u" + std::to_string(i) + "@gmail.test");
    c.send(batch);
    for (int i = 0; i < 50; ++i) {
        ASSERT_EQ(c.read_netstring(), "OK msft-out:") << i;
        ASSERT_EQ(c.read_netstring(), "NOTFOUND ") << i;
    }
}

}  // namespace
}  // namespace relaygate::policy::testing
