// socketmap_reply: each status has its wire text (socketmap_table(5)), and the
// value follows the status name after exactly one space, even when empty.
#include "relaygate/policy/socketmap_reply.hpp"

#include <gtest/gtest.h>

namespace relaygate::policy {
namespace {

struct wire_case {
    std::string name;
    socketmap_reply reply;
    std::string wire;
};

void PrintTo(const wire_case& c, std::ostream* os) { *os << c.name; }

class socketmap_wire : public ::testing::TestWithParam<wire_case> {};

TEST_P(socketmap_wire, is_the_status_a_space_and_the_value) { EXPECT_EQ(GetParam().reply.to_wire(), GetParam().wire); }

INSTANTIATE_TEST_SUITE_P(
    reply, socketmap_wire,
    ::testing::Values(wire_case{"ok_carries_the_transport", socketmap_reply::ok({"msft-out", ":"}), "OK msft-out:"},
                      wire_case{"ok_with_a_nexthop", socketmap_reply::ok({"msft-spare:[127.0.0.1]:2525"}),
                                "OK msft-spare:[127.0.0.1]:2525"},
                      wire_case{"notfound_keeps_its_trailing_space", socketmap_reply::notfound(), "NOTFOUND "},
                      wire_case{"temp_carries_the_reason", socketmap_reply::temp("MX lookup for a.test failed"),
                                "TEMP MX lookup for a.test failed"},
                      wire_case{"perm_carries_the_reason", socketmap_reply::perm("unknown map name"),
                                "PERM unknown map name"},
                      wire_case{"a_default_reply_is_notfound", socketmap_reply{}, "NOTFOUND "}),
    [](const auto& info) { return info.param.name; });

TEST(socketmap_reply, status_and_value_read_back_what_was_made) {
    auto ok = socketmap_reply::ok({"msft-spare", ":", "[127.0.0.1]:2525"});
    EXPECT_EQ(ok.status(), socketmap_status::ok);
    EXPECT_EQ(ok.value(), "msft-spare:[127.0.0.1]:2525");
    EXPECT_EQ(socketmap_reply::notfound().value(), "");
    EXPECT_EQ(socketmap_reply::temp("why").status(), socketmap_status::temp);
    EXPECT_EQ(socketmap_reply::temp("why").value(), "why");
}

TEST(socketmap_status, names_are_the_protocol_words) {
    EXPECT_EQ(to_string(socketmap_status::ok), "OK");
    EXPECT_EQ(to_string(socketmap_status::notfound), "NOTFOUND");
    EXPECT_EQ(to_string(socketmap_status::temp), "TEMP");
    EXPECT_EQ(to_string(socketmap_status::perm), "PERM");
}

}  // namespace
}  // namespace relaygate::policy
