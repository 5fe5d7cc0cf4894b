// spf_record_test.cpp: the SPF record parser and macro expander (spf_record.hpp)
// at the edges of RFC 7208's ABNF, with hostile input: every record here is either
// accepted or refused with a reason, never crashes, and the limits hold.
#include "relaygate/verify/spf_record.hpp"

#include <gtest/gtest.h>

namespace relaygate::registry::spf {
namespace {

struct syntax_case {
    std::string name;
    std::string record;
    bool valid;
};

class spf_record_syntax : public ::testing::TestWithParam<syntax_case> {};

TEST_P(spf_record_syntax, is_accepted_or_refused) {
    auto r = parse_record(GetParam().record);
    EXPECT_EQ(r.has_value(), GetParam().valid) << GetParam().record << ": " << (r ? "accepted" : r.error());
}

INSTANTIATE_TEST_SUITE_P(
    cases, spf_record_syntax,
    ::testing::Values(
        syntax_case{"version_only", "v=spf1", true}, syntax_case{"version_upper_case", "V=SPF1 -ALL", true},
        syntax_case{"two_spaces_and_trailing_space", "v=spf1 a  -all ", true},
        syntax_case{"ip4_slash_0", "v=spf1 ip4:1.2.3.4/0", true},
        syntax_case{"ip4_slash_032_has_a_leading_zero", "v=spf1 ip4:1.2.3.4/032", false},
        syntax_case{"ip4_slash_33", "v=spf1 ip4:1.2.3.4/33", false},
        syntax_case{"ip4_leading_zero_octet", "v=spf1 ip4:01.2.3.4", false},
        syntax_case{"ip4_five_octets", "v=spf1 ip4:1.2.3.4.5", false}, syntax_case{"ip4_missing", "v=spf1 ip4", false},
        syntax_case{"ip6_slash_0", "v=spf1 ip6:::/0", true}, syntax_case{"ip6_slash_129", "v=spf1 ip6:::1/129", false},
        syntax_case{"ip6_garbage", "v=spf1 ip6:1.2.3.4", false},
        syntax_case{"a_dual_cidr", "v=spf1 a:example.com/24//64 mx/0//0", true},
        syntax_case{"a_only_ip6_cidr", "v=spf1 a//0", true}, syntax_case{"a_empty_domain", "v=spf1 a:", false},
        syntax_case{"a_numeric_toplabel", "v=spf1 a:111.222.33.44", false},
        syntax_case{"a_single_label", "v=spf1 a:foo", false},
        syntax_case{"a_hyphen_toplabel", "v=spf1 a:foo.1-2", true},
        syntax_case{"a_toplabel_ending_in_hyphen", "v=spf1 a:foo.com-", false},
        syntax_case{"a_trailing_dot", "v=spf1 a:example.com.", true},
        syntax_case{"a_nul_in_domain", std::string("v=spf1 a:exa\0mple.com", 21), false},
        syntax_case{"include_empty", "v=spf1 include: -all", false},
        syntax_case{"include_bare", "v=spf1 include -all", false},
        syntax_case{"include_cidr", "v=spf1 include:example.com/24", false},
        syntax_case{"exists_macro_end", "v=spf1 exists:%{i}.%{d2}", true},
        syntax_case{"redirect_with_colon", "v=spf1 redirect:example.com", false},
        syntax_case{"redirect_twice", "v=spf1 redirect=a.com redirect=b.com", false},
        syntax_case{"exp_twice", "v=spf1 exp=a.com exp=b.com", false},
        syntax_case{"exp_empty", "v=spf1 exp= -all", false},
        syntax_case{"dotted_modifier_name", "v=spf1 moo.cow-far_out=man:dog/cat ip4:1.2.3.4 -all", true},
        syntax_case{"modifier_name_starting_with_digit", "v=spf1 1up=foo", false},
        syntax_case{"empty_modifier_name", "v=spf1 =all", false},
        syntax_case{"unknown_modifier_bad_macro", "v=spf1 -all foo=%abc", false},
        syntax_case{"unknown_mechanism", "v=spf1 moo", false},
        syntax_case{"qualified_modifier", "v=spf1 -foo=bar", false},
        syntax_case{"macro_zero_digits", "v=spf1 exists:%{d0}.example.com", false},
        syntax_case{"macro_letter_c_outside_exp", "v=spf1 exists:%{c}.example.com", false},
        syntax_case{"macro_unterminated", "v=spf1 exists:%{d.example.com", false},
        syntax_case{"percent_at_end", "v=spf1 exists:example.com%", false},
        syntax_case{"escapes", "v=spf1 a:macro%%percent%_%_space%-url-space.example.com", true},
        syntax_case{"tab_separator", "v=spf1\t-all", false}, syntax_case{"carriage_return", "v=spf1 a\rptr", false},
        syntax_case{"non_ascii",
                    "v=spf1 \xc2\x80"
                    "a -all",
                    false},
        syntax_case{"all_with_argument", "v=spf1 all:x", false}, syntax_case{"not_spf1", "v=spf10 -all", false},
        syntax_case{"empty", "", false}),
    [](const ::testing::TestParamInfo<syntax_case>& i) { return i.param.name; });

TEST(spf_record_limits, a_record_over_4096_bytes_is_refused) {
    std::string r = "v=spf1";
    while (r.size() <= max_record_length) r += " ip4:192.0.2.1";
    EXPECT_FALSE(parse_record(r).has_value());
}

TEST(spf_record_limits, more_than_256_terms_are_refused) {
    std::string r = "v=spf1";
    for (int k = 0; k < 257; ++k) r += " a";
    ASSERT_LE(r.size(), max_record_length);
    EXPECT_FALSE(parse_record(r).has_value());
}

TEST(spf_record_limits, huge_transformer_digits_do_not_overflow) {
    EXPECT_FALSE(parse_record("v=spf1 exists:%{d99999999999999999999}.example.com").has_value());
    EXPECT_TRUE(parse_record("v=spf1 exists:%{d9999}.example.com").has_value());
}

TEST(spf_record_parse, reads_qualifiers_networks_and_modifiers) {
    auto r = parse_record("v=spf1 -ip4:192.0.2.0/24 ~a:%{d}.example.com//64 redirect=_spf.example.net");
    ASSERT_TRUE(r.has_value()) << r.error();
    ASSERT_EQ(r->mechanisms.size(), 2u);
    EXPECT_EQ(r->mechanisms[0].q, qualifier::fail);
    EXPECT_EQ(r->mechanisms[0].cidr4, 24);
    EXPECT_EQ(r->mechanisms[0].network[0], 192);
    EXPECT_EQ(r->mechanisms[1].q, qualifier::softfail);
    EXPECT_EQ(r->mechanisms[1].domain_spec, "%{d}.example.com");
    EXPECT_EQ(r->mechanisms[1].cidr6, 64);
    EXPECT_EQ(r->mechanisms[1].cidr4, 32);
    EXPECT_EQ(r->redirect, "_spf.example.net");
}

macro_context context(std::vector<std::uint8_t> ip) {
    return macro_context{.local_part = "strong-bad",
                         .sender_domain = "email.example.com",
                         .domain = "email.example.com",
                         .helo = "unknown",
                         .ip = std::move(ip)};
}

TEST(spf_macro, expands_rfc7208_examples) {
    auto c = context({192, 0, 2, 3});
    EXPECT_EQ(expand_domain("%{s}", c).value(), "strong-bad@email.example.com");
    EXPECT_EQ(expand_domain("%{d4}", c).value(), "email.example.com");
    EXPECT_EQ(expand_domain("%{d2}", c).value(), "example.com");
    EXPECT_EQ(expand_domain("%{dr}", c).value(), "com.example.email");
    EXPECT_EQ(expand_domain("%{d2r}", c).value(), "example.email");
    EXPECT_EQ(expand_domain("%{l-}", c).value(), "strong.bad");
    EXPECT_EQ(expand_domain("%{lr-}", c).value(), "bad.strong");
    EXPECT_EQ(expand_domain("%{l1r-}", c).value(), "strong");
    EXPECT_EQ(expand_domain("%{ir}.%{v}._spf.%{d2}", c).value(), "3.2.0.192.in-addr._spf.example.com");
    EXPECT_EQ(expand_domain("%{S}", c).value(), "strong-bad%40email.example.com");
    EXPECT_EQ(expand_domain("a%%b%_c%-d.example.com", c).value(), "a%b c%20d.example.com");
}

TEST(spf_macro, expands_ip6_as_nibbles) {
    std::vector<std::uint8_t> ip(16, 0);
    ip[0] = 0x20, ip[1] = 0x01, ip[2] = 0x0d, ip[3] = 0xb8, ip[15] = 0xcb;
    EXPECT_EQ(expand_domain("%{ir}.%{v}._spf.%{d2}", context(ip)).value(),
              "b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com");
}

TEST(spf_macro, truncates_names_over_253_from_the_left) {
    auto c = context({192, 0, 2, 3});
    c.domain = std::string(60, 'a') + ".example.com";
    std::string full;
    for (int k = 0; k < 5; ++k) full += c.domain + ".";
    full += "example.com";
    auto out = expand_domain("%{d}.%{d}.%{d}.%{d}.%{d}.example.com", c).value();
    EXPECT_LE(out.size(), 253u);
    EXPECT_GT(out.size(), 253u - 64u);  // only as many labels as needed went
    ASSERT_TRUE(full.ends_with(out));
    EXPECT_EQ(full[full.size() - out.size() - 1], '.');  // whole labels dropped
}

TEST(spf_domain, checks_initial_domain_names) {
    EXPECT_TRUE(is_valid_domain("example.com"));
    EXPECT_TRUE(is_valid_domain(std::string(63, 'a') + ".example.com"));
    EXPECT_FALSE(is_valid_domain(std::string(64, 'a') + ".example.com"));
    EXPECT_FALSE(is_valid_domain("a...example.com"));
    EXPECT_FALSE(is_valid_domain("localhost"));
    EXPECT_FALSE(is_valid_domain("[192.0.2.1]"));
    EXPECT_FALSE(is_valid_domain(""));
}

}  // namespace
}  // namespace relaygate::registry::spf
