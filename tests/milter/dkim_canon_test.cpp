// dkim_canon: RFC 6376 §3.4 canonicalization tables (relaxed and simple, body
// and header), the streaming body canonicalizer cut at every byte, and header
// selection (h= and hashing order) including duplicates and oversigned From.
#include "relaygate/milter/dkim_canon.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#define _Bool bool
#include <opendkim/dkim.h>
#undef _Bool

namespace relaygate::milter {
namespace {

struct body_case {
    const char* name;
    std::string in;
    std::string relaxed;
    std::string simple;
};

std::ostream& operator<<(std::ostream& os, const body_case& c) { return os << c.name; }

class canonical_body_is : public testing::TestWithParam<body_case> {};

TEST_P(canonical_body_is, as_rfc_6376_says) {
    const auto& c = GetParam();
    EXPECT_EQ(canonical_body(dkim_canon::relaxed, c.in), c.relaxed);
    EXPECT_EQ(canonical_body(dkim_canon::simple, c.in), c.simple);
}

TEST_P(canonical_body_is, the_same_when_fed_one_byte_at_a_time) {
    const auto& c = GetParam();
    for (auto canon : {dkim_canon::relaxed, dkim_canon::simple}) {
        std::string out;
        body_canonicalizer b(canon);
        for (char ch : c.in) b.feed(std::string_view(&ch, 1), out);
        b.finish(out);
        EXPECT_EQ(out, canonical_body(canon, c.in)) << to_string(canon);
    }
}

INSTANTIATE_TEST_SUITE_P(
    dkim_canon, canonical_body_is,
    testing::Values(body_case{"empty", "", "", "\r\n"}, body_case{"only_crlf", "\r\n", "", "\r\n"},
                    body_case{"only_blank_lines", "\r\n\r\n\r\n", "", "\r\n"},
                    body_case{"one_line", "abc\r\n", "abc\r\n", "abc\r\n"},
                    body_case{"no_final_crlf", "abc", "abc\r\n", "abc\r\n"},
                    body_case{"trailing_blank_lines", "a\r\n\r\n\r\n", "a\r\n", "a\r\n"},
                    body_case{"blank_lines_inside_stay", "a\r\n\r\n\r\nb\r\n", "a\r\n\r\n\r\nb\r\n",
                              "a\r\n\r\n\r\nb\r\n"},
                    body_case{"wsp_only_trailing_lines", "a\r\n \r\n\t\r\n", "a\r\n", "a\r\n \r\n\t\r\n"},
                    body_case{"wsp_runs", "a \t b\t\tc\r\n", "a b c\r\n", "a \t b\t\tc\r\n"},
                    body_case{"leading_wsp_is_one_space", "  \tx\r\n", " x\r\n", "  \tx\r\n"},
                    body_case{"trailing_wsp_goes", "x \t \r\n", "x\r\n", "x \t \r\n"},
                    body_case{"wsp_line_inside_is_blank", "a\r\n \t\r\nb\r\n", "a\r\n\r\nb\r\n", "a\r\n \t\r\nb\r\n"},
                    body_case{"no_final_crlf_trailing_wsp", "a  ", "a\r\n", "a  \r\n"},
                    body_case{"bare_lf_is_a_line_end", "a\nb\n\n", "a\r\nb\r\n", "a\r\nb\r\n"},
                    body_case{"lone_cr_is_a_line_end", "a\rb\r\n", "a\r\nb\r\n", "a\r\nb\r\n"},
                    body_case{"crcrlf", "a\r\r\nb\r\n", "a\r\n\r\nb\r\n", "a\r\n\r\nb\r\n"},
                    body_case{"utf8_and_nbsp_are_not_wsp", "\xc2\xa0x\xc2\xa0 \r\n", "\xc2\xa0x\xc2\xa0\r\n",
                              "\xc2\xa0x\xc2\xa0 \r\n"},
                    body_case{"line_998", std::string(998, 'x') + "\r\n", std::string(998, 'x') + "\r\n",
                              std::string(998, 'x') + "\r\n"},
                    body_case{"line_of_998_spaces", std::string(998, ' ') + "\r\n", "", std::string(998, ' ') + "\r\n"},
                    body_case{"nul_bytes_pass", std::string("a\0b\r\n", 5), std::string("a\0b\r\n", 5),
                              std::string("a\0b\r\n", 5)}),
    [](const auto& info) { return std::string(info.param.name); });

struct header_case {
    const char* name;
    std::string field_name, value;
    std::string relaxed, simple;
};

std::ostream& operator<<(std::ostream& os, const header_case& c) { return os << c.name; }

class canonical_header_is : public testing::TestWithParam<header_case> {};

TEST_P(canonical_header_is, as_rfc_6376_says) {
    const auto& c = GetParam();
    std::string relaxed, simple;
    canonical_header(dkim_canon::relaxed, c.field_name, c.value, relaxed);
    canonical_header(dkim_canon::simple, c.field_name, c.value, simple);
    EXPECT_EQ(relaxed, c.relaxed);
    EXPECT_EQ(simple, c.simple);
}

INSTANTIATE_TEST_SUITE_P(
    dkim_canon, canonical_header_is,
    testing::Values(
        header_case{"plain", "Subject", "hello", "subject:hello\r\n", "Subject: hello\r\n"},
        header_case{"name_lower_cased", "SUBJECT", "Hi", "subject:Hi\r\n", "SUBJECT: Hi\r\n"},
        header_case{"wsp_runs_and_ends", "To", " \t a  \t b \t", "to:a b\r\n", "To:  \t a  \t b \t\r\n"},
        header_case{"folded_lf", "Subject", "one\n\ttwo", "subject:one two\r\n", "Subject: one\r\n\ttwo\r\n"},
        header_case{"folded_crlf", "Subject", "one\r\n two", "subject:one two\r\n", "Subject: one\r\n two\r\n"},
        header_case{"empty_value", "Cc", "", "cc:\r\n", "Cc: \r\n"},
        header_case{"line_breaks_in_a_name_are_dropped", "Sub\r\nject", "x", "subject:x\r\n", "Subject: x\r\n"},
        header_case{"only_wsp", "Cc", " \t ", "cc:\r\n", "Cc:  \t \r\n"},
        header_case{"utf8_kept", "Subject",
                    "Gr\xc3\xbc\xc3\x9f"
                    "e",
                    "subject:Gr\xc3\xbc\xc3\x9f"
                    "e\r\n",
                    "Subject: Gr\xc3\xbc\xc3\x9f"
                    "e\r\n"},
        header_case{"encoded_word_kept", "Subject",
                    "=?utf-8?q?a_b?=\n =?utf-8?b?Yw==?=", "subject:=?utf-8?q?a_b?= =?utf-8?b?Yw==?=\r\n",
                    "Subject: =?utf-8?q?a_b?=\r\n =?utf-8?b?Yw==?=\r\n"}),
    [](const auto& info) { return std::string(info.param.name); });

using header_list = std::vector<std::pair<std::string, std::string>>;

TEST(dkim_canon, signed_headers_are_libopendkims_should_sign_list) {
    std::size_t n = 0;
    for (; dkim_should_signhdrs[n] != nullptr; ++n) {
        EXPECT_TRUE(is_signed_header(reinterpret_cast<const char*>(dkim_should_signhdrs[n])))
            << dkim_should_signhdrs[n];
    }
    EXPECT_EQ(n, 20u);
    for (const char* not_signed : {"Received", "Return-Path", "Message-ID", "X-Mailer", "DKIM-Signature", "Fromx"}) {
        EXPECT_FALSE(is_signed_header(not_signed)) << not_signed;
    }
    EXPECT_TRUE(is_signed_header("SUBJECT"));
}

TEST(dkim_canon, h_lists_signed_headers_in_message_order_then_from_again) {
    header_list h{{"Received", "x"}, {"From", "a@b"}, {"Message-ID", "<1@b>"}, {"Subject", "s"}, {"To", "t"}};
    auto sel = select_headers(h);
    EXPECT_EQ(sel.h_tag, "From:Subject:To:From");
    EXPECT_EQ(sel.order, (std::vector<std::size_t>{1, 3, 4}));
}

TEST(dkim_canon, duplicates_are_hashed_from_the_bottom_up) {
    header_list h{{"From", "a"}, {"To", "1"}, {"Subject", "s1"}, {"to", "2"}, {"Subject", "s2"}, {"TO", "3"}};
    auto sel = select_headers(h);
    EXPECT_EQ(sel.h_tag, "From:To:Subject:to:Subject:TO:From") << "names as written";
    // For each name in h=, the last unused instance (RFC 6376 §5.4.2): To->3, Subject->s2, to->2, ...
    EXPECT_EQ(sel.order, (std::vector<std::size_t>{0, 5, 4, 3, 2, 1}));
}

TEST(dkim_canon, no_signed_header_still_oversigns_from) {
    EXPECT_EQ(select_headers({{"X-A", "1"}}).h_tag, "From");
    EXPECT_TRUE(select_headers({}).order.empty());
}

}  // namespace
}  // namespace relaygate::milter
