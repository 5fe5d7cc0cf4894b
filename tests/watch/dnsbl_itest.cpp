// dnsbl_itest.cpp: the DNSBL sweep through the project resolver against the
// real DNS fixture (unbound serving tests/testdata/dns/dnsbl.conf): a listing
// of 2.0.0.127, Spamhaus' open-resolver code, a wildcarding zone, IPv6
// nibbles, SERVFAIL and a dropped query all end as documented.
#include <gtest/gtest.h>

#include "relaygate/dns/dns_resolver.hpp"
#include "relaygate/harness/dns_server.hpp"
#include "relaygate/watch/dnsbl.hpp"

namespace relaygate::watch {
namespace {

TEST(dnsbl_fixture, sweep_interprets_each_zone_as_documented) {
    harness::dns_server dns({"dnsbl.conf"});
    dns::resolver r({.forwarders = {dns.forwarder()}, .timeout = std::chrono::milliseconds(800)});
    async_query q = [&](std::string name, std::function<void(const dns::answer&)> done) {
        r.resolve_async(std::move(name), dns::rr_type::a, std::move(done));
    };
    const std::vector<dnsbl_zone> zones = {
        *dnsbl_zone::parse("zen.dnsbl.test;listed=127.0.0.2-127.0.0.11;unknown=127.255.255.252,127.255.255.254,"
                           "127.255.255.255"),
        *dnsbl_zone::parse("cop.dnsbl.test;listed=127.0.0.2"),
        *dnsbl_zone::parse("wild.dnsbl.test"),
        *dnsbl_zone::parse("bl.servfail.test"),
        *dnsbl_zone::parse("bl.timeout.test"),
    };
    const auto rs =
        dnsbl_sweep({"127.0.0.2", "127.0.0.3", "127.0.0.9", "2001:db8::2"}, zones, q, std::chrono::milliseconds(3000));
    ASSERT_EQ(rs.size(), 20u);
    auto at = [&](std::size_t ip, std::size_t zone) { return rs[ip * zones.size() + zone]; };
    // 127.0.0.2: listed on ZEN (127.0.0.2 or .4) and on the SpamCop stand-in.
    EXPECT_EQ(at(0, 0).verdict, dnsbl_verdict::listed);
    EXPECT_TRUE(at(0, 0).detail == "127.0.0.2" || at(0, 0).detail == "127.0.0.4") << at(0, 0).detail;
    EXPECT_EQ(at(0, 1).verdict, dnsbl_verdict::listed);
    EXPECT_EQ(at(0, 2).verdict, dnsbl_verdict::unknown);  // wildcard answer outside 127/8
    EXPECT_EQ(at(0, 2).detail, "198.51.100.1");
    EXPECT_EQ(at(0, 3).verdict, dnsbl_verdict::unknown);
    EXPECT_EQ(at(0, 3).detail, "servfail");
    EXPECT_EQ(at(0, 4).verdict, dnsbl_verdict::unknown);
    EXPECT_EQ(at(0, 4).detail, "timeout");
    // 127.0.0.3: NXDOMAIN everywhere that answers = clean there.
    EXPECT_EQ(at(1, 0).verdict, dnsbl_verdict::clean);
    EXPECT_EQ(at(1, 1).verdict, dnsbl_verdict::clean);
    // 127.0.0.9: the "open resolver" code is not a listing.
    EXPECT_EQ(at(2, 0).verdict, dnsbl_verdict::unknown);
    EXPECT_EQ(at(2, 0).detail, "127.255.255.254");
    // IPv6 in nibble form.
    EXPECT_EQ(at(3, 0).verdict, dnsbl_verdict::listed);
    EXPECT_EQ(at(3, 1).verdict, dnsbl_verdict::clean);

    EXPECT_EQ(combine(rs, "127.0.0.2").verdict, dnsbl_verdict::listed);
    EXPECT_EQ(combine(rs, "127.0.0.3").verdict, dnsbl_verdict::unknown);  // servfail/timeout zones cannot tell
    const auto clean_only = dnsbl_sweep({"127.0.0.3"}, {zones[0], zones[1]}, q, std::chrono::milliseconds(3000));
    EXPECT_EQ(combine(clean_only, "127.0.0.3").verdict, dnsbl_verdict::clean);
}

}  // namespace
}  // namespace relaygate::watch
