// The socketmap netstring codec at its edges: partial frames, pipelining,
// the strict length rules (no leading zeros, digits only) and the limit.
#include "relaygate/policy/netstring.hpp"

#include <gtest/gtest.h>

namespace relaygate::policy {
namespace {

struct decode_case {
    const char* name;
    std::string input;
    netstring_status status;
    std::string payload;
    std::size_t consumed;
};

class netstring_decode : public ::testing::TestWithParam<decode_case> {};

TEST_P(netstring_decode, gives_the_expected_frame) {
    const auto& c = GetParam();
    auto f = decode_netstring(c.input, 16);
    EXPECT_EQ(f.status, c.status) << to_string(f.status);
    EXPECT_EQ(f.payload, c.payload);
    EXPECT_EQ(f.consumed, c.consumed);
}

INSTANTIATE_TEST_SUITE_P(
    cases, netstring_decode,
    ::testing::Values(decode_case{"simple", "5:hello,", netstring_status::ok, "hello", 8},
                      decode_case{"empty_payload", "0:,", netstring_status::ok, "", 3},
                      decode_case{"pipelined_takes_first", "1:a,1:b,", netstring_status::ok, "a", 4},
                      decode_case{"payload_with_colon_and_comma", "3:a,:,", netstring_status::ok, "a,:", 6},
                      decode_case{"nothing_yet", "", netstring_status::incomplete, "", 0},
                      decode_case{"digits_only", "12", netstring_status::incomplete, "", 0},
                      decode_case{"partial_payload", "5:hel", netstring_status::incomplete, "", 0},
                      decode_case{"no_comma_yet", "5:hello", netstring_status::incomplete, "", 0},
                      decode_case{"leading_zero", "05:hello,", netstring_status::bad_length, "", 0},
                      decode_case{"double_zero", "00:,", netstring_status::bad_length, "", 0},
                      decode_case{"empty_length", ":x,", netstring_status::bad_length, "", 0},
                      decode_case{"sign", "+1:a,", netstring_status::bad_length, "", 0},
                      decode_case{"space", " 1:a,", netstring_status::bad_length, "", 0},
                      decode_case{"letter", "1a:x,", netstring_status::bad_length, "", 0},
                      decode_case{"over_limit", "17:", netstring_status::too_long, "", 0},
                      decode_case{"huge_digits_no_colon", "99999999999999999999", netstring_status::too_long, "", 0},
                      decode_case{"wrong_terminator", "1:ab", netstring_status::missing_comma, "", 0},
                      decode_case{"binary_payload", std::string("3:\0\xff\n,", 6), netstring_status::ok,
                                  std::string("\0\xff\n", 3), 6}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(netstring_encode, round_trips_through_the_decoder) {
    std::string payload = "OK msft-out:";
    std::string wire = encode_netstring(payload);
    EXPECT_EQ(wire, "12:OK msft-out:,");
    auto f = decode_netstring(wire, socketmap_max_reply);
    ASSERT_EQ(f.status, netstring_status::ok);
    EXPECT_EQ(f.payload, payload);
}

TEST(netstring_encode, appends_after_existing_output) {
    std::string out = "9:NOTFOUND ,";
    append_netstring(out, "");
    EXPECT_EQ(out, "9:NOTFOUND ,0:,");
}

TEST(netstring_decode_limits, the_largest_allowed_frame_is_accepted) {
    std::string wire = encode_netstring(std::string(socketmap_max_request, 'x'));
    EXPECT_EQ(decode_netstring(wire, socketmap_max_request).status, netstring_status::ok);
    std::string over = encode_netstring(std::string(socketmap_max_request + 1, 'x'));
    EXPECT_EQ(decode_netstring(over, socketmap_max_request).status, netstring_status::too_long);
}

}  // namespace
}  // namespace relaygate::policy
