// The policy delegation request parser: a request exactly as Postfix 3.7
// sends it (29 attributes), pipelined and partial input, and every limit.
#include "relaygate/policy/policy_request.hpp"

#include <gtest/gtest.h>

namespace relaygate::policy {
namespace {

const std::string postfix37_rcpt =
    "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nclient_address=203.0.113.203\n"
    "client_name=mail203.client31.example.net\nclient_port=19852\nreverse_client_name=mail203.client31.example.net\n"
    "server_address=10.0.0.25\nserver_port=587\nhelo_name=mail203.client31.example.net\n"
    "sender=news@corp0000.example.jp\nrecipient=Bob@Hotmail.com\nrecipient_count=0\nqueue_id=\n"
    "instance=20da3.6500000d.5063e.0\nsize=657308\netrn_domain=\nstress=\nsasl_method=PLAIN\nsasl_username=cust95\n"
    "sasl_sender=\nccert_subject=\nccert_issuer=\nccert_fingerprint=\nccert_pubkey_fingerprint=\n"
    "encryption_protocol=TLSv1.3\nencryption_cipher=TLS_AES_256_GCM_SHA384\nencryption_keysize=256\n"
    "policy_context=\n\n";

TEST(policy_request, parses_a_postfix_3_7_rcpt_request) {
    auto r = parse_policy_request(postfix37_rcpt);
    ASSERT_EQ(r.status, policy_parse_status::ok) << to_string(r.status);
    EXPECT_EQ(r.consumed, postfix37_rcpt.size());
    EXPECT_EQ(r.request.attributes, 29u);
    EXPECT_EQ(r.request.protocol_state, "RCPT");
    EXPECT_EQ(r.request.sender, "news@corp0000.example.jp");
    EXPECT_EQ(r.request.recipient, "Bob@Hotmail.com");
    EXPECT_EQ(r.request.client_address, "203.0.113.203");
    EXPECT_EQ(r.request.sasl_username, "cust95");
    EXPECT_EQ(r.request.queue_id, "");
    EXPECT_EQ(r.request.size, 657308u);
    EXPECT_EQ(r.request.recipient_count, 0u);
}

TEST(policy_request, takes_one_request_of_a_pipelined_buffer) {
    std::string two = postfix37_rcpt + postfix37_rcpt;
    auto r = parse_policy_request(two);
    ASSERT_EQ(r.status, policy_parse_status::ok);
    EXPECT_EQ(r.consumed, postfix37_rcpt.size());
}

TEST(policy_request, every_prefix_of_a_request_is_incomplete) {
    for (std::size_t n = 0; n < postfix37_rcpt.size(); ++n) {
        auto r = parse_policy_request(std::string_view(postfix37_rcpt).substr(0, n));
        ASSERT_EQ(r.status, policy_parse_status::incomplete) << "prefix " << n;
        ASSERT_EQ(r.consumed, 0u);
    }
}

TEST(policy_request, tolerates_crlf_and_unknown_attributes) {
    auto r = parse_policy_request(
        "request=smtpd_access_policy\r\nprotocol_state=END-OF-MESSAGE\r\nmail_version=3.8.1\r\n"
        "size=12\r\nrecipient_count=3\r\n\r\n");
    ASSERT_EQ(r.status, policy_parse_status::ok);
    EXPECT_EQ(r.request.protocol_state, "END-OF-MESSAGE");
    EXPECT_EQ(r.request.size, 12u);
    EXPECT_EQ(r.request.recipient_count, 3u);
}

TEST(policy_request, a_value_may_contain_equals_signs) {
    auto r = parse_policy_request("request=smtpd_access_policy\nsasl_username=a=b\n\n");
    ASSERT_EQ(r.status, policy_parse_status::ok);
    EXPECT_EQ(r.request.sasl_username, "a=b");
}

struct bad_case {
    const char* name;
    std::string input;
    policy_parse_status status;
};

class policy_request_rejects : public ::testing::TestWithParam<bad_case> {};

TEST_P(policy_request_rejects, with_the_expected_reason) {
    policy_request_limits limits{.max_line = 64, .max_request = 256, .max_attributes = 5};
    auto r = parse_policy_request(GetParam().input, limits);
    EXPECT_EQ(r.status, GetParam().status) << to_string(r.status);
    EXPECT_EQ(r.consumed, 0u);
}

INSTANTIATE_TEST_SUITE_P(
    cases, policy_request_rejects,
    ::testing::Values(
        bad_case{"line_without_equals", "request=smtpd_access_policy\ngarbage\n\n", policy_parse_status::bad_line},
        bad_case{"empty_name", "=x\n\n", policy_parse_status::bad_line},
        bad_case{"upper_case_name", "Request=smtpd_access_policy\n\n", policy_parse_status::bad_line},
        bad_case{"nul_byte", std::string("request=smtpd\0access\n\n", 23), policy_parse_status::bad_line},
        bad_case{"binary_name", "\xff\xfe=1\n\n", policy_parse_status::bad_line},
        bad_case{"bad_size", "request=smtpd_access_policy\nsize=12k\n\n", policy_parse_status::bad_number},
        bad_case{"negative_count", "request=smtpd_access_policy\nrecipient_count=-1\n\n",
                 policy_parse_status::bad_number},
        bad_case{"no_request_attribute", "protocol_state=RCPT\n\n", policy_parse_status::not_a_policy_request},
        bad_case{"wrong_request", "request=junk\n\n", policy_parse_status::not_a_policy_request},
        bad_case{"just_an_empty_line", "\n", policy_parse_status::not_a_policy_request},
        bad_case{"long_line_complete", "sender=" + std::string(100, 'a') + "\n\n", policy_parse_status::line_too_long},
        bad_case{"long_line_without_newline", std::string(100, 'a'), policy_parse_status::line_too_long},
        bad_case{"too_many_attributes", "a=1\nb=2\nc=3\nd=4\ne=5\nf=6\n\n", policy_parse_status::too_many_attributes},
        bad_case{"request_too_long_without_end",
                 [] {
                     std::string s;
                     for (int i = 0; i < 5; ++i) s += "sender=" + std::string(50, 'x') + "\n";
                     return s;
                 }(),
                 policy_parse_status::request_too_long}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace relaygate::policy
