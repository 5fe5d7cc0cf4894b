// from_header: table-driven cases for the From/Sender address-list parser —
// the forms real mail uses, the obsolete forms, and hostile headers. Each case
// names what it proves; a failure reads as that sentence.
#include "relaygate/milter/from_header.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace relaygate::milter {
namespace {

struct parse_case {
    std::string name;
    std::string value;
    std::vector<std::string> domains;      // expected normalised domains, in order
    std::vector<std::string> locals = {};  // expected local parts when given
    std::vector<std::string> names = {};   // expected display names when given
};

void PrintTo(const parse_case& c, std::ostream* os) { *os << c.name; }

class parses : public ::testing::TestWithParam<parse_case> {};

TEST_P(parses, to_the_expected_mailboxes) {
    const auto& c = GetParam();
    auto r = parse_address_list(c.value);
    ASSERT_TRUE(r.has_value()) << "error: " << r.error().detail << " at " << r.error().offset;
    std::vector<std::string> domains, locals, names;
    for (const auto& m : *r) {
        domains.push_back(m.domain);
        locals.push_back(m.local_part);
        names.push_back(m.display_name);
    }
    EXPECT_EQ(domains, c.domains);
    if (!c.locals.empty()) {
        EXPECT_EQ(locals, c.locals);
    }
    if (!c.names.empty()) {
        EXPECT_EQ(names, c.names);
    }
}

const std::string nul_in_comment = std::string("a@b.example (x\0y)", 18);

INSTANTIATE_TEST_SUITE_P(
    from_header, parses,
    ::testing::Values(
        parse_case{"bare_addr_spec", "user@example.com", {"example.com"}, {"user"}, {""}},
        parse_case{
            "display_name_and_angle_addr", "News Desk <news@example.com>", {"example.com"}, {"news"}, {"News Desk"}},
        parse_case{"angle_addr_without_name", "<news@example.com>", {"example.com"}},
        parse_case{"domain_is_lower_cased", "User@EXAMPLE.Com", {"example.com"}, {"User"}},
        parse_case{"trailing_dot_on_domain_is_removed", "a@example.com.", {"example.com"}},
        parse_case{"trailing_dot_inside_angle_addr", "A <a@example.com.>", {"example.com"}},
        parse_case{"quoted_display_name_with_at_and_angle",
                   "\"boss@good.example <x>\" <a@evil.example>",
                   {"evil.example"},
                   {"a"},
                   {"boss@good.example <x>"}},
        parse_case{
            "quoted_local_part_with_at", "\"a@good.example\"@evil.example", {"evil.example"}, {"a@good.example"}},
        parse_case{"quoted_pair_in_display_name",
                   "\"say \\\"hi\\\"\" <a@example.com>",
                   {"example.com"},
                   {"a"},
                   {"say \"hi\""}},
        parse_case{"comment_after_address", "a@example.com (Alice)", {"example.com"}},
        parse_case{"comments_everywhere", "(c)A(c) <(c)a(c)@(c)example.com(c)> (c)", {"example.com"}},
        parse_case{"nested_comments_with_at", "a@example.com (x (y@good.example) z)", {"example.com"}},
        parse_case{"encoded_word_display_name_is_not_decoded",
                   "=?utf-8?b?Ym9zc0Bnb29kLmV4YW1wbGU=?= <a@evil.example>",
                   {"evil.example"},
                   {"a"},
                   {"=?utf-8?b?Ym9zc0Bnb29kLmV4YW1wbGU=?="}},
        parse_case{
            "encoded_word_q_display_name", "=?ISO-8859-1?Q?Andr=E9?= Pirard <pirard@example.be>", {"example.be"}},
        parse_case{"address_list",
                   "a@one.example, B <b@two.example>,c@three.example",
                   {"one.example", "two.example", "three.example"}},
        parse_case{"empty_list_elements_obs", ", a@one.example, , b@two.example,", {"one.example", "two.example"}},
        parse_case{"empty_group", "undisclosed-recipients:;", {}},
        parse_case{"group_with_members", "Team: a@one.example, B <b@two.example>;", {"one.example", "two.example"}},
        parse_case{"group_then_mailbox", "Team: a@one.example; , c@three.example", {"one.example", "three.example"}},
        parse_case{"folded_crlf", "News\r\n <news@example.com>", {"example.com"}},
        parse_case{"folded_lf_tab", "News\n\t<news@example.com>", {"example.com"}},
        parse_case{
            "folded_inside_quoted_string", "\"News\r\n Desk\" <n@example.com>", {"example.com"}, {"n"}, {"News Desk"}},
        parse_case{"trailing_newline", "a@example.com\r\n", {"example.com"}},
        parse_case{"obs_route", "<@relay1.example,@relay2.example:a@example.com>", {"example.com"}, {"a"}},
        parse_case{
            "obs_route_with_empty_elements", "<,@relay1.example,,@relay2.example:a@example.com>", {"example.com"}},
        parse_case{"obs_local_part_with_spaces", "john . smith @ example.com", {"example.com"}, {"john.smith"}},
        parse_case{"obs_local_part_mixed_words", "\"john\".smith@example.com", {"example.com"}, {"john.smith"}},
        parse_case{
            "obs_phrase_with_dot", "John Q. Public <jqp@example.com>", {"example.com"}, {"jqp"}, {"John Q. Public"}},
        parse_case{"obs_domain_with_spaces", "a@ example . com", {"example.com"}},
        parse_case{"domain_literal", "a@[192.0.2.1]", {"[192.0.2.1]"}},
        parse_case{"ipv6_domain_literal", "a@[IPv6:2001:DB8::1]", {"[ipv6:2001:db8::1]"}},
        parse_case{"idn_u_label_becomes_a_label",
                   "a@b\xc3\xbc"
                   "cher.example",
                   {"xn--bcher-kva.example"}},
        parse_case{"idn_upper_case_u_label",
                   "a@B\xc3\x9c"
                   "CHER.example",
                   {"xn--bcher-kva.example"}},
        parse_case{"a_label_stays", "a@XN--BCHER-KVA.example", {"xn--bcher-kva.example"}},
        parse_case{"utf8_display_name_rfc6532", "\xe5\xb1\xb1\xe7\x94\xb0 <y@example.jp>", {"example.jp"}},
        parse_case{"utf8_local_part_rfc6532", "\xe5\xb1\xb1\xe7\x94\xb0@example.jp", {"example.jp"}},
        parse_case{"atext_specials_in_local_part", "a!#$%&'*+/=?^_`{|}~-@example.com", {"example.com"}}),
    [](const auto& info) { return info.param.name; });

struct reject_case {
    std::string name;
    std::string value;
    from_error code;
};

void PrintTo(const reject_case& c, std::ostream* os) { *os << c.name; }

class rejects : public ::testing::TestWithParam<reject_case> {};

TEST_P(rejects, with_the_expected_error) {
    const auto& c = GetParam();
    auto r = parse_address_list(c.value);
    ASSERT_FALSE(r.has_value()) << "parsed " << r->size() << " mailboxes, first domain "
                                << (r->empty() ? std::string("-") : r->front().domain);
    EXPECT_EQ(to_string(r.error().code), to_string(c.code)) << r.error().detail;
    EXPECT_FALSE(r.error().detail.empty());
    EXPECT_LE(r.error().offset, c.value.size());
}

std::string nested(int depth) { return "a@b.example " + std::string(depth, '(') + std::string(depth, ')'); }
std::string many_mailboxes(int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += (i ? "," : "") + std::string("a@b.example");
    return s;
}

INSTANTIATE_TEST_SUITE_P(
    from_header, rejects,
    ::testing::Values(
        reject_case{"empty_value", "", from_error::empty},
        reject_case{"only_white_space_and_comment", "  \t (nobody)", from_error::empty},
        reject_case{"no_at_sign", "news", from_error::unterminated},
        reject_case{"missing_domain", "a@", from_error::unterminated},
        reject_case{"missing_local_part", "@example.com", from_error::syntax},
        reject_case{"empty_angle_addr", "<>", from_error::syntax},
        reject_case{"unclosed_angle_addr", "A <a@example.com", from_error::unterminated},
        reject_case{"two_addresses_without_comma", "a@one.example <b@two.example>", from_error::syntax},
        reject_case{"unquoted_words_before_at", "John Smith@example.com", from_error::syntax},
        reject_case{"double_dot_in_domain", "a@example..com", from_error::syntax},
        reject_case{"two_trailing_dots", "a@example.com..", from_error::syntax},
        reject_case{"leading_dot_in_local_part", ".a@example.com", from_error::syntax},
        reject_case{"unterminated_quoted_string", "\"News <a@example.com>", from_error::unterminated},
        reject_case{"unterminated_comment", "a@example.com (oops", from_error::unterminated},
        reject_case{"unbalanced_close_paren", "a@example.com )", from_error::syntax},
        reject_case{"unterminated_domain_literal", "a@[192.0.2.1", from_error::unterminated},
        reject_case{"group_without_semicolon", "Team: a@one.example", from_error::unterminated},
        reject_case{"group_inside_group", "A: B: a@one.example;;", from_error::syntax},
        reject_case{"route_without_colon", "<@relay.example a@example.com>", from_error::syntax},
        reject_case{"nul_byte", std::string("a@exam\0ple.com", 14), from_error::nul_byte},
        reject_case{"nul_byte_in_quoted_string", std::string("\"a\0b\" <a@example.com>", 22), from_error::nul_byte},
        reject_case{"nul_byte_in_comment", nul_in_comment, from_error::nul_byte},
        reject_case{"control_byte", "a@example.com\x01", from_error::control_byte},
        reject_case{"delete_byte", "a\x7f@example.com", from_error::control_byte},
        reject_case{"bare_lf_starts_new_header", "a@good.example\nFrom: b@evil.example", from_error::bad_folding},
        reject_case{"bare_cr_not_folding", "a@good.example\rX", from_error::bad_folding},
        reject_case{"backslash_outside_quotes", "a\\@example.com", from_error::syntax},
        reject_case{"bang_in_domain", "a@exa!mple.com", from_error::bad_domain},
        reject_case{"underscore_in_domain", "a@mail_out.example.com", from_error::bad_domain},
        reject_case{"label_ends_with_hyphen", "a@example-.com", from_error::bad_domain},
        reject_case{"label_too_long", "a@" + std::string(64, 'x') + ".example", from_error::bad_domain},
        reject_case{
            "domain_too_long",
            "a@" + std::string(250, 'x').replace(60, 1, ".").replace(120, 1, ".").replace(180, 1, ".") + ".example",
            from_error::bad_domain},
        reject_case{"invalid_utf8_domain", "a@\xff\xfe.example", from_error::bad_domain},
        reject_case{"disallowed_idn_code_point", "a@\xe2\x98\x83.example", from_error::bad_domain},
        reject_case{"comments_too_deep", nested(17), from_error::comment_too_deep},
        reject_case{"header_too_long", "a@b.example (" + std::string(16 * 1024, 'x') + ")", from_error::too_long},
        reject_case{"too_many_mailboxes", many_mailboxes(101), from_error::too_many_mailboxes}),
    [](const auto& info) { return info.param.name; });

TEST(from_header, accepts_exactly_the_limits) {
    EXPECT_TRUE(parse_address_list(nested(16)).has_value()) << "16 nested comments are within the limit";
    EXPECT_EQ(parse_address_list(many_mailboxes(100))->size(), 100u);
    std::string at_limit = "a@b.example (" + std::string(16 * 1024 - 14, 'x') + ")";
    ASSERT_EQ(at_limit.size(), 16u * 1024u);
    EXPECT_TRUE(parse_address_list(at_limit).has_value());
}

TEST(from_header, limits_are_configurable) {
    from_header_limits small{.max_bytes = 64, .max_mailboxes = 2, .max_comment_depth = 1};
    EXPECT_FALSE(parse_address_list("a@b.example, c@d.example, e@f.example", small).has_value());
    EXPECT_FALSE(parse_address_list("a@b.example ((x))", small).has_value());
    EXPECT_TRUE(parse_address_list("a@b.example (x)", small).has_value());
}

TEST(from_header, deep_nesting_far_beyond_the_limit_fails_without_recursion) {
    auto r = parse_address_list(nested(8000));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, from_error::comment_too_deep);
}

TEST(from_header, domain_literal_is_flagged) {
    auto r = parse_address_list("a@[192.0.2.1], b@example.com");
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE((*r)[0].domain_literal);
    EXPECT_FALSE((*r)[1].domain_literal);
}

}  // namespace
}  // namespace relaygate::milter
