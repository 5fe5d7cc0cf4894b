// domain_name: normalisation edge cases (case, trailing dot, IDN, LDH rules, lengths).
#include "relaygate/registry/domain_name.hpp"

#include <gtest/gtest.h>

namespace relaygate::registry {
namespace {

struct good_case {
    const char* name;
    std::string input;
    std::string expected;
};
void PrintTo(const good_case& c, std::ostream* os) { *os << c.name; }

class normalises : public testing::TestWithParam<good_case> {};

TEST_P(normalises, to_the_expected_a_label_form) {
    auto result = normalise_domain(GetParam().input);
    ASSERT_TRUE(result) << result.error();
    EXPECT_EQ(*result, GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    domain_name, normalises,
    testing::Values(good_case{"lower_case_stays", "example.com", "example.com"},
                    good_case{"upper_case_is_lowered", "ExAmPle.COM", "example.com"},
                    good_case{"one_trailing_dot_is_dropped", "example.com.", "example.com"},
                    good_case{"u_label_becomes_a_label",
                              "b\xc3\xbc"
                              "cher.example",
                              "xn--bcher-kva.example"},
                    good_case{"upper_u_label_is_folded",
                              "B\xc3\x9c"
                              "CHER.example",
                              "xn--bcher-kva.example"},
                    good_case{"japanese_label", "\xe6\x97\xa5\xe6\x9c\xac.example", "xn--wgv71a.example"},
                    good_case{"a_label_stays", "xn--bcher-kva.example", "xn--bcher-kva.example"},
                    good_case{"upper_a_label_is_lowered", "XN--BCHER-KVA.Example", "xn--bcher-kva.example"},
                    good_case{"digits_and_hyphens", "a-1.b2.example", "a-1.b2.example"},
                    good_case{"single_label", "localhost", "localhost"},
                    good_case{"label_of_63", std::string(63, 'a') + ".example", std::string(63, 'a') + ".example"}),
    [](const auto& info) { return std::string(info.param.name); });

struct bad_case {
    const char* name;
    std::string input;
    std::string message_part;
};
void PrintTo(const bad_case& c, std::ostream* os) { *os << c.name; }

class refuses : public testing::TestWithParam<bad_case> {};

TEST_P(refuses, with_a_message_saying_why) {
    auto result = normalise_domain(GetParam().input);
    ASSERT_FALSE(result) << "accepted as " << *result;
    EXPECT_NE(result.error().find(GetParam().message_part), std::string::npos) << result.error();
}

INSTANTIATE_TEST_SUITE_P(
    domain_name, refuses,
    testing::Values(
        bad_case{"empty", "", "empty"}, bad_case{"only_a_dot", ".", "empty"},
        bad_case{"two_trailing_dots", "example.com..", "empty label"},
        bad_case{"leading_dot", ".example.com", "empty label"}, bad_case{"double_dot", "a..example", "empty label"},
        bad_case{"label_of_64", std::string(64, 'a') + ".example", "63"},
        bad_case{"name_past_253",
                 std::string(60, 'a') + "." + std::string(60, 'b') + "." + std::string(60, 'c') + "." +
                     std::string(60, 'd') + "." + std::string(20, 'e'),
                 "253"},
        bad_case{"underscore", "a_b.example", "not allowed"}, bad_case{"space", "a b.example", "not allowed"},
        bad_case{"at_sign", "user@example.com", "not allowed"}, bad_case{"leading_hyphen", "-a.example", "'-'"},
        bad_case{"trailing_hyphen", "a-.example", "'-'"}, bad_case{"bogus_a_label", "xn--zzzzzzzz-.example", "IDN"},
        bad_case{"invalid_utf8", "\xff\xfe.example", "IDN"},
        bad_case{"nul_byte", std::string("a\0b.example", 11), "NUL"},
        bad_case{"huge_input", std::string(5000, 'a'), "1024"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace relaygate::registry
