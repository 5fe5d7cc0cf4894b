// Table tests of ip_network::parse and contains() at their edges.
#include "relaygate/registry/ip_network.hpp"

#include <gtest/gtest.h>

namespace relaygate::registry {
namespace {

struct contains_case {
    const char* name;
    const char* network;
    const char* ip;
    bool expected;
};

class ip_network_contains : public testing::TestWithParam<contains_case> {};

TEST_P(ip_network_contains, answers_as_the_prefix_says) {
    auto net = ip_network::parse(GetParam().network);
    ASSERT_TRUE(net.has_value()) << GetParam().network;
    EXPECT_EQ(net->contains(GetParam().ip), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(table, ip_network_contains,
                         testing::Values(contains_case{"v4_inside_24", "192.0.2.0/24", "192.0.2.200", true},
                                         contains_case{"v4_outside_24", "192.0.2.0/24", "192.0.3.1", false},
                                         contains_case{"v4_host_route", "192.0.2.7", "192.0.2.7", true},
                                         contains_case{"v4_host_route_other", "192.0.2.7", "192.0.2.8", false},
                                         contains_case{"v4_odd_prefix_inside", "10.0.0.0/13", "10.7.255.255", true},
                                         contains_case{"v4_odd_prefix_outside", "10.0.0.0/13", "10.8.0.0", false},
                                         contains_case{"v4_zero_prefix_all", "0.0.0.0/0", "203.0.113.9", true},
                                         contains_case{"v6_inside", "2001:db8::/32", "2001:db8:1::5", true},
                                         contains_case{"v6_outside", "2001:db8::/32", "2001:db9::1", false},
                                         contains_case{"family_mismatch", "192.0.2.0/24", "::ffff:192.0.2.1", false},
                                         contains_case{"garbage_ip", "192.0.2.0/24", "not-an-ip", false}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ip_network_parse, rejects_bad_text) {
    for (const char* bad : {"", "/", "192.0.2.0/", "192.0.2.0/33", "192.0.2.0/-1", "192.0.2.0/2x", "::/129",
                            "256.0.0.1", "1.2.3", "example.com", "192.0.2.0/24 "}) {
        EXPECT_FALSE(ip_network::parse(bad).has_value()) << bad;
    }
}

TEST(ip_network_parse, round_trips_to_text) {
    EXPECT_EQ(ip_network::parse("192.0.2.0/24")->to_string(), "192.0.2.0/24");
    EXPECT_EQ(ip_network::parse("2001:db8::1")->to_string(), "2001:db8::1/128");
}

}  // namespace
}  // namespace relaygate::registry
