// dnsbl_test.cpp: query names, zone specs and codes, verdicts, and the sweep's
// deadline with a query function that answers some names and drops others
// (the real-DNS run is in dnsbl_itest.cpp).
#include "relaygate/watch/dnsbl.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace relaygate::watch {
namespace {

TEST(dnsbl, query_names) {
    EXPECT_EQ(dnsbl_query_name("127.0.0.2", "zen.spamhaus.org"), "2.0.0.127.zen.spamhaus.org");
    EXPECT_EQ(dnsbl_query_name("192.0.2.10", "z.test"), "10.2.0.192.z.test");
    EXPECT_EQ(dnsbl_query_name("2001:db8::1", "z.test"),
              "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.z.test");
    EXPECT_FALSE(dnsbl_query_name("300.1.1.1", "z.test"));
    EXPECT_FALSE(dnsbl_query_name("", "z.test"));
    EXPECT_FALSE(dnsbl_query_name("1.2.3", "z.test"));
}

TEST(dnsbl, zone_specs) {
    const auto zen = dnsbl_zone::parse("ZEN.Spamhaus.org.");
    ASSERT_TRUE(zen);
    EXPECT_EQ(zen->name, "zen.spamhaus.org");
    const auto custom = dnsbl_zone::parse("zen.dnsbl.test;listed=127.0.0.2-127.0.0.11;unknown=127.255.255.254");
    ASSERT_TRUE(custom);
    EXPECT_EQ(custom->listed.size(), 1u);
    EXPECT_EQ(custom->unknown.size(), 1u);
    for (const char* bad : {"", ";listed=127.0.0.2", "z.test;listed=", "z.test;listed=x", "z.test;foo=127.0.0.2",
                            "z.test;listed=127.0.0.9-127.0.0.2", "a b"}) {
        EXPECT_FALSE(dnsbl_zone::parse(bad)) << bad;
    }
    EXPECT_EQ(default_dnsbl_zones().size(), 3u);
}

dns::answer a_record(std::vector<std::string> addrs) {
    dns::answer a;
    a.result = dns::status::ok;
    a.addresses = std::move(addrs);
    return a;
}

dns::answer with_status(dns::status s) {
    dns::answer a;
    a.result = s;
    return a;
}

TEST(dnsbl, spamhaus_codes) {
    const auto zen = *dnsbl_zone::parse("zen.spamhaus.org");
    struct {
        dns::answer a;
        dnsbl_verdict expect;
        const char* detail;
    } cases[] = {
        {with_status(dns::status::nxdomain), dnsbl_verdict::clean, "nxdomain"},
        {a_record({"127.0.0.2"}), dnsbl_verdict::listed, "127.0.0.2"},
        {a_record({"127.0.0.4"}), dnsbl_verdict::listed, "127.0.0.4"},
        {a_record({"127.0.0.11"}), dnsbl_verdict::listed, "127.0.0.11"},
        {a_record({"127.0.0.8"}), dnsbl_verdict::unknown, "127.0.0.8"},
        {a_record({"127.255.255.254"}), dnsbl_verdict::unknown, "127.255.255.254"},  // open resolver: not listed
        {a_record({"127.255.255.255"}), dnsbl_verdict::unknown, "127.255.255.255"},  // excessive queries
        {a_record({"127.255.255.252"}), dnsbl_verdict::unknown, "127.255.255.252"},
        {a_record({"198.51.100.1"}), dnsbl_verdict::unknown, "198.51.100.1"},  // wildcarding resolver
        {a_record({"127.0.0.10", "127.0.0.4"}), dnsbl_verdict::listed, "127.0.0.10"},
        {with_status(dns::status::servfail), dnsbl_verdict::unknown, "servfail"},
        {with_status(dns::status::timeout), dnsbl_verdict::unknown, "timeout"},
        {with_status(dns::status::nodata), dnsbl_verdict::unknown, "nodata"},
    };
    for (const auto& c : cases) {
        const auto r = interpret(c.a, zen, "192.0.2.10");
        EXPECT_EQ(r.verdict, c.expect) << c.detail;
        EXPECT_EQ(r.detail, c.detail);
        EXPECT_EQ(r.zone, "zen.spamhaus.org");
    }
    const auto cop = *dnsbl_zone::parse("bl.spamcop.net");
    EXPECT_EQ(interpret(a_record({"127.0.0.2"}), cop, "x").verdict, dnsbl_verdict::listed);
    EXPECT_EQ(interpret(a_record({"127.0.0.3"}), cop, "x").verdict, dnsbl_verdict::unknown);
}

TEST(dnsbl, combine_over_zones) {
    std::vector<dnsbl_result> rs = {
        {"a", "z1", dnsbl_verdict::clean, "nxdomain"},   {"a", "z2", dnsbl_verdict::unknown, "timeout"},
        {"b", "z1", dnsbl_verdict::clean, "nxdomain"},   {"b", "z2", dnsbl_verdict::clean, "nxdomain"},
        {"c", "z1", dnsbl_verdict::unknown, "servfail"}, {"c", "z2", dnsbl_verdict::listed, "127.0.0.2"}};
    EXPECT_EQ(combine(rs, "a").verdict, dnsbl_verdict::unknown);
    EXPECT_EQ(combine(rs, "b").verdict, dnsbl_verdict::clean);
    EXPECT_EQ(combine(rs, "c").verdict, dnsbl_verdict::listed);
    EXPECT_EQ(combine(rs, "c").detail, "z2=127.0.0.2");
    EXPECT_EQ(combine(rs, "d").verdict, dnsbl_verdict::unknown);
}

TEST(dnsbl, sweep_ends_at_the_deadline_and_late_answers_are_ignored) {
    std::vector<std::thread> late;
    std::vector<std::string> asked;
    async_query q = [&](std::string name, std::function<void(const dns::answer&)> done) {
        asked.push_back(name);
        if (name.starts_with("2.0.0.127.")) {
            done(a_record({"127.0.0.2"}));
        } else if (name.starts_with("3.0.0.127.")) {
            done(with_status(dns::status::nxdomain));
        } else {  // answered long after the deadline, on another thread
            late.emplace_back([done] {
                std::this_thread::sleep_for(std::chrono::milliseconds(300));
                done(a_record({"127.0.0.2"}));
            });
        }
    };
    const auto zones = std::vector<dnsbl_zone>{*dnsbl_zone::parse("a.test"), *dnsbl_zone::parse("b.test")};
    const auto rs =
        dnsbl_sweep({"127.0.0.2", "127.0.0.3", "127.0.0.4", "bad"}, zones, q, std::chrono::milliseconds(50));
    ASSERT_EQ(rs.size(), 8u);
    EXPECT_EQ(asked.size(), 6u);  // "bad" is not asked
    EXPECT_EQ(rs[0].verdict, dnsbl_verdict::listed);
    EXPECT_EQ(rs[1].zone, "b.test");
    EXPECT_EQ(rs[2].verdict, dnsbl_verdict::clean);
    EXPECT_EQ(rs[4].verdict, dnsbl_verdict::unknown);
    EXPECT_EQ(rs[4].detail, "timeout");
    EXPECT_EQ(rs[6].detail, "bad_ip");
    for (auto& t : late) t.join();  // the late callbacks ran safely after the sweep returned
}

}  // namespace
}  // namespace relaygate::watch
