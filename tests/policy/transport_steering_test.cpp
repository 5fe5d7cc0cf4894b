// The socketmap transport_maps decision: what Postfix sends (original case,
// "*", senders, odd keys) and what relaygate answers, including the egress flip.
#include "relaygate/policy/transport_steering.hpp"

#include <gtest/gtest.h>

namespace relaygate::policy {
namespace {

class steering : public ::testing::Test {
protected:
    steering() : list_(*domain_list::parse("hotmail.*\noutlook.*\nmsn.com\n.tenant-sub.test\n", "t")) {}
    socketmap_step lookup(std::string_view payload, std::string_view active = "") {
        return socketmap_lookup(payload, cfg_, list_, cache_, active, now_);
    }
    steering_config cfg_;
    domain_list list_;
    mx_cache cache_{100};
    std::int64_t now_ = 1000;
};

TEST_F(steering, a_listed_domain_in_any_case_gets_the_designated_transport) {
    auto s = lookup("transport Bob@Hotmail.com");
    EXPECT_FALSE(s.need_mx);
    EXPECT_EQ(s.reply, "OK msft-out:");
    EXPECT_EQ(s.domain, "hotmail.com");
    EXPECT_EQ(s.reason, steering_reason::domain_list);
    EXPECT_EQ(lookup("transport carol+tag@OUTLOOK.CO.JP.").reply, "OK msft-out:");
    EXPECT_EQ(lookup("transport x@a.tenant-sub.test").reply, "OK msft-out:");
}

TEST_F(steering, the_wildcard_key_is_always_notfound) {
    EXPECT_EQ(lookup("transport *").reply, "NOTFOUND ");
    EXPECT_EQ(lookup("transport *").reason, steering_reason::wildcard);
}

TEST_F(steering, keys_that_are_not_domains_are_notfound_without_dns) {
    for (const char* p : {"transport postmaster", "transport user@[192.0.2.1]", "transport ", "transport",
                          "transport a@", "transport a@b..c", "transport a@b\xc3\xbc.example"}) {
        auto s = lookup(p);
        EXPECT_FALSE(s.need_mx) << p;
        EXPECT_EQ(s.reply, "NOTFOUND ") << p;
    }
}

TEST_F(steering, a_bare_dotted_key_is_taken_as_a_domain) {
    EXPECT_EQ(lookup("transport msn.com").reply, "OK msft-out:");
}

TEST_F(steering, an_unknown_map_name_is_a_perm_error) {
    auto s = lookup("relocated bob@hotmail.com");
    EXPECT_EQ(s.reply, "PERM unknown map name");
    EXPECT_EQ(s.reason, steering_reason::unknown_map);
}

TEST_F(steering, an_unlisted_domain_needs_its_mx_then_uses_the_cache) {
    auto s = lookup("transport carol@Tenant.Test");
    EXPECT_TRUE(s.need_mx);
    EXPECT_EQ(s.domain, "tenant.test");
    cache_.put("tenant.test", mx_verdict::microsoft, 60, now_);
    EXPECT_EQ(lookup("transport carol@tenant.test").reply, "OK msft-out:");
    cache_.put("gmail.test", mx_verdict::other, 60, now_);
    EXPECT_EQ(lookup("transport alice@gmail.test").reply, "NOTFOUND ");
    cache_.put("flaky.test", mx_verdict::temp, 5, now_);
    EXPECT_EQ(lookup("transport a@flaky.test").reply.rfind("TEMP ", 0), 0u);
}

TEST_F(steering, mx_detection_off_answers_notfound_for_unlisted_domains) {
    cfg_.mx_detection = false;
    auto s = lookup("transport alice@gmail.test");
    EXPECT_FALSE(s.need_mx);
    EXPECT_EQ(s.reply, "NOTFOUND ");
}

TEST_F(steering, the_active_spare_is_used_and_unknown_names_fall_back) {
    EXPECT_EQ(lookup("transport bob@hotmail.com", "msft-spare").reply, "OK msft-spare:");
    EXPECT_EQ(lookup("transport bob@hotmail.com", "msft-out").reply, "OK msft-out:");
    EXPECT_EQ(lookup("transport bob@hotmail.com", "no-such-transport").reply, "OK msft-out:");
}

TEST_F(steering, a_configured_nexthop_follows_the_transport) {
    cfg_.nexthop = "[127.0.0.1]:2627";
    EXPECT_EQ(lookup("transport bob@hotmail.com").reply, "OK msft-out:[127.0.0.1]:2627");
}

TEST(reply_for_verdict, maps_each_verdict) {
    steering_config cfg;
    EXPECT_EQ(reply_for_verdict(mx_verdict::microsoft, "t.test", cfg, "msft-spare"), "OK msft-spare:");
    EXPECT_EQ(reply_for_verdict(mx_verdict::other, "t.test", cfg, ""), "NOTFOUND ");
    EXPECT_EQ(reply_for_verdict(mx_verdict::temp, "t.test", cfg, ""), "TEMP MX lookup for t.test failed or timed out");
}

}  // namespace
}  // namespace relaygate::policy
