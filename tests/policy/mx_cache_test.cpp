// MX-based Microsoft detection and the verdict cache: which MX decides, how
// TTLs are clamped, negative and temporary answers, LRU bounds, expiry.
#include "relaygate/policy/mx_cache.hpp"

#include <gtest/gtest.h>

namespace relaygate::policy {
namespace {

dns::answer mx_answer(std::vector<dns::mx_record> mx, std::uint32_t ttl = 3600) {
    dns::answer a;
    a.result = dns::status::ok;
    a.ttl = ttl;
    a.mx = std::move(mx);
    return a;
}

const auto& suffixes = default_microsoft_mx_suffixes();

TEST(classify_mx, a_microsoft_365_tenant_is_microsoft) {
    auto c = classify_mx(mx_answer({{0, "tenant-test.mail.protection.outlook.com"}}), suffixes);
    EXPECT_EQ(c.verdict, mx_verdict::microsoft);
    EXPECT_EQ(c.ttl, 3600u);
    EXPECT_EQ(c.evidence, "tenant-test.mail.protection.outlook.com");
}

TEST(classify_mx, consumer_and_dane_hosts_are_microsoft) {
    EXPECT_EQ(classify_mx(mx_answer({{2, "hotmail-com.olc.protection.outlook.com"}}), suffixes).verdict,
              mx_verdict::microsoft);
    EXPECT_EQ(classify_mx(mx_answer({{0, "contoso-com.a-v1.mx.microsoft"}}), suffixes).verdict, mx_verdict::microsoft);
}

TEST(classify_mx, lookalike_hosts_are_not_microsoft) {
    EXPECT_EQ(classify_mx(mx_answer({{0, "evilmail.protection.outlook.com.example"}}), suffixes).verdict,
              mx_verdict::other);
    EXPECT_EQ(classify_mx(mx_answer({{0, "xmail.protection.outlook.com"}}), suffixes).verdict, mx_verdict::other);
    EXPECT_EQ(classify_mx(mx_answer({{0, "mx.microsoft.example"}}), suffixes).verdict, mx_verdict::other);
}

TEST(classify_mx, only_the_most_preferred_hosts_decide) {
    // Microsoft only as a backup MX: Postfix delivers to the primary, so not ours.
    auto backup =
        classify_mx(mx_answer({{10, "mx1.example.net"}, {20, "t-example.mail.protection.outlook.com"}}), suffixes);
    EXPECT_EQ(backup.verdict, mx_verdict::other);
    auto tie =
        classify_mx(mx_answer({{10, "mx1.example.net"}, {10, "t-example.mail.protection.outlook.com"}}), suffixes);
    EXPECT_EQ(tie.verdict, mx_verdict::microsoft);
}

TEST(classify_mx, ttls_are_clamped) {
    EXPECT_EQ(classify_mx(mx_answer({{0, "a.example"}}, 5), suffixes).ttl, 60u);
    EXPECT_EQ(classify_mx(mx_answer({{0, "a.example"}}, 999999), suffixes).ttl, 86400u);
}

TEST(classify_mx, negative_answers_are_other_with_the_negative_ttl) {
    dns::answer nx;
    nx.result = dns::status::nxdomain;
    nx.ttl = 120;
    auto c = classify_mx(nx, suffixes);
    EXPECT_EQ(c.verdict, mx_verdict::other);
    EXPECT_EQ(c.ttl, 120u);
    nx.result = dns::status::nodata;
    nx.ttl = 999999;
    EXPECT_EQ(classify_mx(nx, suffixes).ttl, 3600u);
    EXPECT_EQ(classify_mx(mx_answer({}), suffixes).verdict, mx_verdict::other);
    EXPECT_EQ(classify_mx(mx_answer({{0, ""}}), suffixes).verdict, mx_verdict::other);  // null MX
}

TEST(classify_mx, dns_trouble_is_temporary_and_cached_briefly) {
    for (auto s : {dns::status::servfail, dns::status::timeout, dns::status::error}) {
        dns::answer a;
        a.result = s;
        a.ttl = 3600;
        auto c = classify_mx(a, suffixes);
        EXPECT_EQ(c.verdict, mx_verdict::temp);
        EXPECT_EQ(c.ttl, 5u);
    }
}

TEST(mx_cache, returns_a_verdict_until_it_expires) {
    mx_cache cache(10);
    cache.put("tenant.test", mx_verdict::microsoft, 60, 1000);
    EXPECT_EQ(cache.get("tenant.test", 1000), mx_verdict::microsoft);
    EXPECT_EQ(cache.get("tenant.test", 60999), mx_verdict::microsoft);
    EXPECT_FALSE(cache.get("tenant.test", 61000).has_value());
    EXPECT_EQ(cache.size(), 0u);
}

TEST(mx_cache, evicts_the_least_recently_used_entry) {
    mx_cache cache(2);
    cache.put("a.test", mx_verdict::other, 60, 0);
    cache.put("b.test", mx_verdict::other, 60, 0);
    EXPECT_TRUE(cache.get("a.test", 1).has_value());  // a is now the most recent
    cache.put("c.test", mx_verdict::microsoft, 60, 1);
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_EQ(cache.evictions(), 1u);
    EXPECT_TRUE(cache.get("a.test", 2).has_value());
    EXPECT_FALSE(cache.get("b.test", 2).has_value());
    EXPECT_TRUE(cache.get("c.test", 2).has_value());
}

TEST(mx_cache, a_second_put_replaces_the_verdict) {
    mx_cache cache(4);
    cache.put("a.test", mx_verdict::temp, 5, 0);
    cache.put("a.test", mx_verdict::microsoft, 60, 1);
    EXPECT_EQ(cache.get("a.test", 10000), mx_verdict::microsoft);
    EXPECT_EQ(cache.size(), 1u);
}

}  // namespace
}  // namespace relaygate::policy
