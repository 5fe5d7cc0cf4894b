// dkim_key_record_test.cpp: the DKIM key-record parser and base64, table-driven,
// including hostile input (duplicates, overlong records, bytes after padding).
#include <gtest/gtest.h>

#include "relaygate/verify/dkim_verifier.hpp"

namespace relaygate::registry {
namespace {

struct record_case {
    std::string name;
    std::string text;
    bool ok;
    std::string key_type_or_error;  // k= when ok, a substring of the error otherwise
};

class dkim_key_record_parse : public ::testing::TestWithParam<record_case> {};

TEST_P(dkim_key_record_parse, reads) {
    const auto& c = GetParam();
    auto r = parse_dkim_key_record(c.text);
    ASSERT_EQ(r.has_value(), c.ok) << (r ? "parsed" : r.error());
    if (c.ok) {
        EXPECT_EQ(r->key_type, c.key_type_or_error);
    } else {
        EXPECT_NE(r.error().find(c.key_type_or_error), std::string::npos) << r.error();
    }
}

INSTANTIATE_TEST_SUITE_P(
    cases, dkim_key_record_parse,
    ::testing::Values(record_case{"minimal", "p=AAAA", true, "rsa"},
                      record_case{"full", "v=DKIM1; k=rsa; h=sha256; s=email; t=y:s; p=AAAA", true, "rsa"},
                      record_case{"ed25519_upper_case", "v=DKIM1; k=ED25519; p=AAAA", true, "ed25519"},
                      record_case{"whitespace_everywhere", " v = DKIM1 ;\tk = rsa ; p = AA AA ; ", true, "rsa"},
                      record_case{"double_semicolon_tolerated", "v=DKIM1;; p=AAAA", true, "rsa"},
                      record_case{"unknown_tag_ignored", "v=DKIM1; n=notes here; p=AAAA", true, "rsa"},
                      record_case{"star_service", "s=*; p=AAAA", true, "rsa"},
                      record_case{"revoked_is_still_a_record", "v=DKIM1; p=", true, "rsa"},
                      record_case{"no_p", "v=DKIM1; k=rsa", false, "no p="},
                      record_case{"v_not_first", "k=rsa; v=DKIM1; p=AAAA", false, "v= is not the first"},
                      record_case{"wrong_version", "v=DKIM2; p=AAAA", false, "DKIM2"},
                      record_case{"duplicate_tag", "p=AAAA; p=BBBB", false, "duplicate"},
                      record_case{"tag_without_equals", "v=DKIM1; garbage; p=AAAA", false, "without '='"},
                      record_case{"bad_tag_name", "v=DKIM1; 1x=y; p=AAAA", false, "bad tag name"},
                      record_case{"unknown_key_type", "k=dsa; p=AAAA", false, "k=dsa"},
                      record_case{"not_for_email", "s=other; p=AAAA", false, "s="},
                      record_case{"sha1_only", "h=sha1; p=AAAA", false, "sha256"},
                      record_case{"empty_text", "", false, "no p="},
                      record_case{"overlong", "p=" + std::string(9000, 'A'), false, "8192"}),
    [](const ::testing::TestParamInfo<record_case>& i) { return i.param.name; });

TEST(dkim_key_record, keeps_p_without_whitespace_and_lists_lower_case) {
    auto r = parse_dkim_key_record("v=DKIM1; h=SHA256:sha1; s=Email; t=Y; p=AB CD\r\n EF==");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->public_key_base64, "ABCDEF==");
    EXPECT_EQ(r->hashes, (std::vector<std::string>{"sha256", "sha1"}));
    EXPECT_EQ(r->services, (std::vector<std::string>{"email"}));
    EXPECT_EQ(r->flags, (std::vector<std::string>{"y"}));
}

TEST(dkim_base64, round_trips_every_length) {
    for (std::size_t n = 0; n < 40; ++n) {
        std::vector<unsigned char> data(n);
        for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<unsigned char>(i * 37 + 11);
        auto text = encode_base64(data);
        EXPECT_EQ(text.size() % 4, 0u);
        auto back = decode_base64(text);
        ASSERT_TRUE(back) << text;
        EXPECT_EQ(*back, data) << text;
    }
}

TEST(dkim_base64, rejects_hostile_text) {
    EXPECT_FALSE(decode_base64("AAA"));                         // not a multiple of 4
    EXPECT_FALSE(decode_base64("AA=A"));                        // data after padding
    EXPECT_FALSE(decode_base64("A==="));                        // too much padding
    EXPECT_FALSE(decode_base64("AA!A"));                        // bad byte
    EXPECT_FALSE(decode_base64(std::string_view("AA\0A", 4)));  // NUL
    EXPECT_TRUE(decode_base64("QU Jj\tZA=="));                  // whitespace is skipped
    EXPECT_EQ(decode_base64("QUJjZA==").value(), (std::vector<unsigned char>{'A', 'B', 'c', 'd'}));
}

TEST(held_key, loads_each_test_key_with_its_size) {
    std::string dir = std::string(RELAYGATE_SOURCE_DIR) + "/tests/testdata/keys/";
    struct expect_key {
        const char* file;
        key_algorithm alg;
        unsigned bits;
    };
    for (auto k :
         {expect_key{"rsa512.pem", key_algorithm::rsa, 512}, expect_key{"rsa1024.pem", key_algorithm::rsa, 1024},
          expect_key{"rsa2048.pem", key_algorithm::rsa, 2048},
          expect_key{"rsa2048-pkcs1.pem", key_algorithm::rsa, 2048},
          expect_key{"ed25519.pem", key_algorithm::ed25519, 256}}) {
        auto h = load_held_key(dir + k.file);
        ASSERT_TRUE(h) << k.file << ": " << h.error();
        EXPECT_EQ(h->algorithm, k.alg) << k.file;
        EXPECT_EQ(h->bits, k.bits) << k.file;
    }
    auto pkcs8 = load_held_key(dir + "rsa2048.pem"), pkcs1 = load_held_key(dir + "rsa2048-pkcs1.pem");
    EXPECT_EQ(pkcs8->public_key, pkcs1->public_key);
    EXPECT_FALSE(load_held_key(dir + "garbage.pem"));
    EXPECT_FALSE(load_held_key(dir + "absent.pem"));
}

}  // namespace
}  // namespace relaygate::registry
