// last_good_route: the steering route for every store outcome × what was
// known before (the table of docs/policy.md "Faults"), and the TEMP guard.
#include "relaygate/policy/last_good_route.hpp"

#include <gtest/gtest.h>

namespace relaygate::policy {
namespace {

using opt = std::optional<std::string>;

struct route_case {
    const char* name;
    store_status status;
    const char* store_transport;
    opt last_good;
    route_decision want;
};

class route_table : public ::testing::TestWithParam<route_case> {};

TEST_P(route_table, decides) {
    const auto& c = GetParam();
    EXPECT_EQ(decide_route(c.status, c.store_transport, c.last_good), c.want);
}

INSTANTIATE_TEST_SUITE_P(cases, route_table,
                         ::testing::Values(route_case{"found_first_time_is_used_and_remembered",
                                                      store_status::found,
                                                      "msft-spare",
                                                      std::nullopt,
                                                      {route_source::store, "msft-spare", true}},
                                           route_case{"found_same_as_known_is_used_not_rewritten",
                                                      store_status::found,
                                                      "msft-spare",
                                                      opt("msft-spare"),
                                                      {route_source::store, "msft-spare", false}},
                                           route_case{"found_back_to_designated_is_used_and_remembered",
                                                      store_status::found,
                                                      "msft-out",
                                                      opt("msft-spare"),
                                                      {route_source::store, "msft-out", true}},
                                           route_case{"unset_with_nothing_known_is_designated_and_remembered",
                                                      store_status::unset,
                                                      "",
                                                      std::nullopt,
                                                      {route_source::store, "", true}},
                                           route_case{"unset_after_designated_stays_designated",
                                                      store_status::unset,
                                                      "",
                                                      opt(""),
                                                      {route_source::store, "", false}},
                                           route_case{"unset_after_a_failover_keeps_the_failover",
                                                      store_status::unset,
                                                      "",
                                                      opt("msft-spare"),
                                                      {route_source::last_good, "msft-spare", false}},
                                           route_case{"unavailable_after_a_failover_keeps_the_failover",
                                                      store_status::unavailable,
                                                      "",
                                                      opt("msft-spare"),
                                                      {route_source::last_good, "msft-spare", false}},
                                           route_case{"unavailable_after_designated_keeps_designated",
                                                      store_status::unavailable,
                                                      "",
                                                      opt(""),
                                                      {route_source::last_good, "", false}},
                                           route_case{"unavailable_with_nothing_known_is_unknown",
                                                      store_status::unavailable,
                                                      "",
                                                      std::nullopt,
                                                      {route_source::unknown, "", false}}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(guard_steering, an_ok_reply_with_an_unknown_route_becomes_temp) {
    auto r = guard_steering(socketmap_reply::ok({"msft-out", ":"}), route_source::unknown);
    EXPECT_EQ(r.status(), socketmap_status::temp);
    EXPECT_EQ(r.to_wire(), "TEMP egress state unavailable and no last known route");
}

TEST(guard_steering, a_known_route_or_a_reply_that_steers_nothing_is_unchanged) {
    auto ok = socketmap_reply::ok({"msft-spare", ":"});
    EXPECT_EQ(guard_steering(ok, route_source::last_good), ok);
    EXPECT_EQ(guard_steering(ok, route_source::store), ok);
    EXPECT_EQ(guard_steering(socketmap_reply::notfound(), route_source::unknown), socketmap_reply::notfound());
    auto temp = socketmap_reply::temp("MX lookup for a.test failed or timed out");
    EXPECT_EQ(guard_steering(temp, route_source::unknown), temp);
}

TEST(route_source_names, are_log_words) {
    EXPECT_EQ(to_string(route_source::store), "store");
    EXPECT_EQ(to_string(route_source::last_good), "last_good");
    EXPECT_EQ(to_string(route_source::unknown), "unknown");
}

}  // namespace
}  // namespace relaygate::policy
