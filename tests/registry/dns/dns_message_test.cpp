// dns_message_test.cpp: the pure wire helpers under dns::resolver, including
// hostile input (truncation, pointer loops, over-long names).
#include "relaygate/dns/dns_message.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace relaygate::dns::wire {
namespace {

using v = std::vector<unsigned char>;

TEST(dns_wire, reads_txt_character_strings_in_order) {
    v rd = {3, 'a', 'b', 'c', 0, 2, 'd', 'e'};
    auto s = txt_strings(rd);
    ASSERT_TRUE(s);
    EXPECT_EQ(*s, (std::vector<std::string>{"abc", "", "de"}));
}

TEST(dns_wire, rejects_a_truncated_txt_string) {
    v rd = {5, 'a', 'b'};
    EXPECT_FALSE(txt_strings(rd));
}

TEST(dns_wire, reads_mx_in_lower_case) {
    v rd = {0, 10, 2, 'M', 'X', 4, 't', 'e', 's', 't', 0};
    auto m = mx(rd);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->preference, 10);
    EXPECT_EQ(m->exchange, "mx.test");
}

TEST(dns_wire, reads_the_null_mx_as_an_empty_exchange) {
    v rd = {0, 0, 0};
    auto m = mx(rd);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->exchange, "");
}

TEST(dns_wire, rejects_trailing_bytes_after_a_name) {
    v rd = {1, 'a', 0, 7};
    EXPECT_FALSE(name(rd));
}

TEST(dns_wire, formats_addresses) {
    EXPECT_EQ(address(v{192, 0, 2, 1}).value(), "192.0.2.1");
    v six(16, 0);
    six[0] = 0x20, six[1] = 0x01, six[2] = 0x0d, six[3] = 0xb8, six[15] = 1;
    EXPECT_EQ(address(six).value(), "2001:db8::1");
    EXPECT_FALSE(address(v{1, 2, 3}));
}

TEST(dns_wire, follows_compression_pointers_but_not_loops) {
    v msg = {1, 'a', 0, 1, 'b', 0xC0, 0};  // "b" -> pointer to "a"
    std::size_t pos = 3;
    EXPECT_EQ(read_name(msg, pos).value(), "b.a");
    EXPECT_EQ(pos, 7u);
    v loop = {0xC0, 0};
    pos = 0;
    EXPECT_FALSE(read_name(loop, pos));
}

TEST(dns_wire, rejects_names_longer_than_255_bytes) {
    v msg;
    for (int i = 0; i < 5; ++i) {
        msg.push_back(63);
        msg.insert(msg.end(), 63, 'x');
    }
    msg.push_back(0);
    std::size_t pos = 0;
    EXPECT_FALSE(read_name(msg, pos));
}

TEST(dns_wire, builds_a_query_and_rejects_bad_names) {
    auto q = build_query("a.test.", rr_type::txt, 0x1234);
    v expect = {0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 4, 't', 'e', 's', 't', 0, 0, 16, 0, 1};
    EXPECT_EQ(q, expect);
    EXPECT_TRUE(build_query("a..test", rr_type::a, 1).empty());
    EXPECT_TRUE(build_query(std::string(64, 'x') + ".test", rr_type::a, 1).empty());
}

TEST(dns_wire, finds_the_negative_ttl_in_the_authority_soa) {
    // Header: 1 question, 0 answers, 1 authority; question "t" A; SOA t: ttl 3600, minimum 60.
    v p = {0, 1, 0x81, 0x83, 0, 1, 0, 0, 0, 1, 0, 0, 1, 't', 0, 0, 1, 0, 1};
    v soa_rr = {0xC0, 12,   0,    6, 0,  1, 0,
                0,    0x0E, 0x10, 0, 22, 0, 0};  // owner ptr, SOA, IN, ttl, rdlen 22, mname/rname root
    v fields = {0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 60};
    p.insert(p.end(), soa_rr.begin(), soa_rr.end());
    p.insert(p.end(), fields.begin(), fields.end());
    EXPECT_EQ(negative_ttl(p).value(), 60u);
    EXPECT_EQ(rcode(p).value(), 3);
    p.resize(p.size() - 3);  // truncated SOA
    EXPECT_FALSE(negative_ttl(p));
}

}  // namespace
}  // namespace relaygate::dns::wire
