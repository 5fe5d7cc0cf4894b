// dkim_verifier_itest.cpp: every DKIM outcome against the real DNS fixture
// (tests/testdata/dns/verifier.conf, keys in tests/testdata/keys/), table-driven.
#include "relaygate/verify/dkim_verifier.hpp"

#include <gtest/gtest.h>

#include "relaygate/harness/dns_server.hpp"
#include "verifier_dns_suite.hpp"

namespace relaygate::registry {
namespace {

using namespace std::chrono_literals;

struct dkim_case {
    std::string name;    // test name
    std::string domain;  // under verify.test unless it has a dot-test suffix already
    std::string key_file;
    dkim_outcome expected;
    std::string detail_has;  // substring of the human text
};

class dkim_verifier_test : public verifier_dns_suite, public ::testing::WithParamInterface<dkim_case> {
protected:
    dkim_verifier verifier_{resolver(), 1024};
};

TEST_P(dkim_verifier_test, classifies) {
    const auto& c = GetParam();
    domain_entry e{.domain = verify_test_domain(c.domain), .selector = "s1", .key_path = test_key(c.key_file)};
    auto r = verifier_.check(e);
    EXPECT_EQ(to_string(r.outcome), to_string(c.expected)) << r.detail;
    EXPECT_EQ(r.record_name, "s1._domainkey." + e.domain);
    EXPECT_NE(r.detail.find(c.detail_has), std::string::npos) << r.detail;
}

INSTANTIATE_TEST_SUITE_P(
    cases, dkim_verifier_test,
    ::testing::Values(
        dkim_case{"rsa2048_split_in_255_byte_strings_matches", "good", "rsa2048.pem", dkim_outcome::match, "matches"},
        dkim_case{"pkcs1_pem_of_the_same_key_matches", "good", "rsa2048-pkcs1.pem", dkim_outcome::match, "2048-bit"},
        dkim_case{"rsa1024_matches", "rsa1024", "rsa1024.pem", dkim_outcome::match, "1024-bit"},
        dkim_case{"strings_split_mid_tag_are_joined", "oddsplit", "rsa2048.pem", dkim_outcome::match, "matches"},
        dkim_case{"cnamed_selector_is_followed", "cname", "rsa2048.pem", dkim_outcome::match, "matches"},
        dkim_case{"record_without_v_tag_matches", "nover", "rsa2048.pem", dkim_outcome::match, "matches"},
        dkim_case{"other_rsa_key_is_a_mismatch", "mismatch", "rsa2048.pem", dkim_outcome::key_mismatch,
                  "differs from the held key"},
        dkim_case{"published_rsa_for_held_ed25519_is_a_mismatch", "algmismatch", "ed25519.pem",
                  dkim_outcome::key_mismatch, "k=rsa"},
        dkim_case{"empty_p_is_revoked", "revoked", "rsa2048.pem", dkim_outcome::revoked, "revoked"},
        dkim_case{"plain_text_is_bad_syntax", "badsyntax", "rsa2048.pem", dkim_outcome::bad_syntax,
                  "not a DKIM key record"},
        dkim_case{"bad_base64_is_bad_syntax", "badbase64", "rsa2048.pem", dkim_outcome::bad_syntax, "base64"},
        dkim_case{"wrong_version_is_bad_syntax", "badversion", "rsa2048.pem", dkim_outcome::bad_syntax, "DKIM2"},
        dkim_case{"unknown_key_type_is_bad_syntax", "badkeytype", "rsa2048.pem", dkim_outcome::bad_syntax, "k=dsa"},
        dkim_case{"p_that_is_no_rsa_key_is_bad_syntax", "notrsa", "rsa2048.pem", dkim_outcome::bad_syntax,
                  "SubjectPublicKeyInfo"},
        dkim_case{"key_not_for_email_is_bad_syntax", "wrongservice", "rsa2048.pem", dkim_outcome::bad_syntax,
                  "s= does not include email"},
        dkim_case{"two_key_records_are_bad_syntax", "twokeys", "rsa2048.pem", dkim_outcome::bad_syntax,
                  "2 TXT records"},
        dkim_case{"rsa512_is_too_short", "short", "rsa512.pem", dkim_outcome::key_too_short, "512 bits"},
        dkim_case{"nxdomain_selector_is_no_record", "nokey", "rsa2048.pem", dkim_outcome::no_record,
                  "no DKIM key at s1._domainkey.nokey.verify.test"},
        dkim_case{"selector_without_txt_is_no_record", "nodatakey", "rsa2048.pem", dkim_outcome::no_record,
                  "no DKIM key"},
        dkim_case{"ed25519_matches", "ed", "ed25519.pem", dkim_outcome::match, "Ed25519"},
        dkim_case{"other_ed25519_key_is_a_mismatch", "edmismatch", "ed25519.pem", dkim_outcome::key_mismatch,
                  "differs"},
        dkim_case{"ed25519_p_of_16_bytes_is_bad_syntax", "edshort", "ed25519.pem", dkim_outcome::bad_syntax,
                  "16 bytes"},
        dkim_case{"servfail_is_temporary", "x.servfail.test", "rsa2048.pem", dkim_outcome::temporary, "servfail"},
        dkim_case{"timeout_is_temporary", "x.timeout.test", "rsa2048.pem", dkim_outcome::temporary, "timeout"},
        dkim_case{"missing_key_file_is_a_held_key_error", "good", "no-such.pem", dkim_outcome::held_key_error,
                  "cannot open"},
        dkim_case{"garbage_key_file_is_a_held_key_error", "good", "garbage.pem", dkim_outcome::held_key_error,
                  "cannot parse"}),
    [](const ::testing::TestParamInfo<dkim_case>& i) { return i.param.name; });

TEST_F(dkim_verifier_test, calls_an_unusable_selector_no_record_not_temporary) {
    auto r = verifier_.check(
        {.domain = "good.verify.test", .selector = "bad..selector", .key_path = test_key("rsa2048.pem")});
    EXPECT_EQ(r.outcome, dkim_outcome::no_record) << r.detail;
    EXPECT_NE(r.detail.find("not a valid DNS name"), std::string::npos) << r.detail;
}

TEST(dkim_record_for, gives_the_record_that_verifies) {
    auto held = load_held_key(test_key("rsa2048.pem"));
    ASSERT_TRUE(held) << held.error();
    auto record = dkim_record_for(*held);
    EXPECT_TRUE(record.starts_with("v=DKIM1; k=rsa; p=MIIB")) << record;
    auto zone = dkim_record_zone_text(*held);
    EXPECT_NE(zone.find("\" \""), std::string::npos) << "a 2048-bit record needs two strings: " << zone;
    harness::dns_server dns(
        {}, 0, {"local-zone: \"own.test.\" static", "local-data: 's1._domainkey.own.test. 300 IN TXT " + zone + "'"});
    dns::resolver resolver({.forwarders = {dns.forwarder()}, .timeout = 1000ms});
    dkim_verifier verifier(resolver, 1024);
    auto r = verifier.check({.domain = "own.test", .selector = "s1", .key_path = test_key("rsa2048.pem")});
    EXPECT_EQ(r.outcome, dkim_outcome::match) << r.detail;
}

TEST(dkim_record_for, gives_an_ed25519_record) {
    auto held = load_held_key(test_key("ed25519.pem"));
    ASSERT_TRUE(held) << held.error();
    EXPECT_TRUE(dkim_record_for(*held).starts_with("v=DKIM1; k=ed25519; p=")) << dkim_record_for(*held);
    EXPECT_EQ(held->bits, 256u);
}

}  // namespace
}  // namespace relaygate::registry
