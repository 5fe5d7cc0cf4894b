// domain_verifier_itest.cpp: whole-domain verification against the real DNS
// fixture: verdict, reason code/text, DMARC, and verify_all over many domains
// at once (tests/testdata/dns/verifier.conf, keys in tests/testdata/keys/).
#include "relaygate/verify/domain_verifier.hpp"

#include <gtest/gtest.h>

#include <tuple>

#include "relaygate/harness/dns_server.hpp"
#include "verifier_dns_suite.hpp"

namespace relaygate::registry {
namespace {

using namespace std::chrono_literals;

domain_entry entry(const std::string& domain, const std::string& key_file = "rsa2048.pem") {
    return {.domain = verify_test_domain(domain), .selector = "s1", .key_path = test_key(key_file)};
}

class domain_verifier_test : public verifier_dns_suite {
protected:
    domain_verifier verifier_{resolver(), {"192.0.2.10", "192.0.2.11", "2001:db8::10"}, 1024};
};

TEST_F(domain_verifier_test, verifies_a_domain_with_matching_dkim_and_spf_for_every_ip) {
    auto r = verifier_.verify(entry("good"));
    EXPECT_TRUE(r.verified()) << r.reason_text();
    EXPECT_FALSE(r.temporary());
    EXPECT_EQ(r.reason_code(), "");
    EXPECT_EQ(r.reason_text(), "");
    ASSERT_EQ(r.spf.size(), 3u);
    EXPECT_EQ(r.spf[2].ip, "2001:db8::10");
    EXPECT_TRUE(r.dmarc.present);
    EXPECT_EQ(r.dmarc.policy, "reject");
    EXPECT_NE(r.dmarc.record.find("rua=mailto:"), std::string::npos);
}

TEST_F(domain_verifier_test, names_the_missing_dkim_key) {
    auto r = verifier_.verify(entry("nokey"));
    EXPECT_FALSE(r.verified());
    EXPECT_FALSE(r.temporary());
    EXPECT_EQ(r.reason_code(), "dkim_no_record");
    EXPECT_EQ(r.reason_text(), "no DKIM key at s1._domainkey.nokey.verify.test");
}

TEST_F(domain_verifier_test, names_the_first_ip_spf_does_not_authorize) {
    auto r = verifier_.verify(entry("softspf"));
    EXPECT_EQ(r.dkim.outcome, dkim_outcome::match) << r.dkim.detail;
    EXPECT_EQ(r.reason_code(), "spf_softfail");
    EXPECT_EQ(r.reason_text(), "SPF for softspf.verify.test does not authorize 192.0.2.11 (softfail) and 1 more IP(s)");
    EXPECT_EQ(r.spf[0].outcome, spf_outcome::pass);
    EXPECT_FALSE(r.dmarc.present);
}

TEST_F(domain_verifier_test, calls_a_dns_failure_temporary) {
    auto r = verifier_.verify(entry("x.servfail.test"));
    EXPECT_FALSE(r.verified());
    EXPECT_TRUE(r.temporary());
    EXPECT_EQ(r.reason_code(), "dkim_temporary");
    EXPECT_TRUE(r.dmarc.temporary);
    for (const auto& s : r.spf) EXPECT_EQ(s.outcome, spf_outcome::temperror) << s.ip;
}

TEST_F(domain_verifier_test, does_not_call_a_definite_failure_temporary) {
    auto r = verifier_.verify(entry("mismatch"));
    EXPECT_EQ(r.reason_code(), "dkim_key_mismatch");
    EXPECT_FALSE(r.temporary());
}

TEST_F(domain_verifier_test, reports_dmarc_policies) {
    EXPECT_EQ(verifier_.verify(entry("dmarc-none")).dmarc.policy, "none");
    auto q = verifier_.verify(entry("dmarc-quarantine")).dmarc;
    EXPECT_TRUE(q.present);
    EXPECT_EQ(q.policy, "quarantine");
    auto nop = verifier_.verify(entry("dmarc-nop")).dmarc;
    EXPECT_TRUE(nop.present);
    EXPECT_EQ(nop.policy, "");
    auto other = verifier_.verify(entry("dmarc-other")).dmarc;
    EXPECT_FALSE(other.present);
    EXPECT_FALSE(other.temporary);
}

TEST_F(domain_verifier_test, verify_all_returns_reports_in_order_for_many_domains_at_once) {
    const std::vector<std::pair<std::string, std::string>> kinds = {
        {"good", ""},
        {"mismatch", "dkim_key_mismatch"},
        {"x.timeout.test", "dkim_temporary"},
        {"softspf", "spf_softfail"},
        {"revoked", "dkim_revoked"},
        {"ed", "dkim_key_mismatch"},  // held key rsa2048, published ed25519
    };
    std::vector<domain_entry> entries;
    std::vector<std::string> expected;
    for (int i = 0; i < 60; ++i) {
        entries.push_back(entry(kinds[i % kinds.size()].first));
        expected.push_back(kinds[i % kinds.size()].second);
    }
    auto reports = verifier_.verify_all(entries, 16);
    ASSERT_EQ(reports.size(), entries.size());
    for (std::size_t i = 0; i < reports.size(); ++i) {
        EXPECT_EQ(reports[i].domain, entries[i].domain) << i;
        EXPECT_EQ(reports[i].reason_code(), expected[i]) << i << " " << reports[i].reason_text();
    }
}

TEST_F(domain_verifier_test, verify_all_of_nothing_is_nothing) { EXPECT_TRUE(verifier_.verify_all({}).empty()); }

TEST(registry_zone, example_domains_verify_as_their_comments_say) {
    harness::dns_server dns({"registry.conf"});
    dns::resolver resolver({.forwarders = {dns.forwarder()}, .timeout = 1000ms});
    domain_verifier verifier(resolver, {"127.0.0.1", "127.0.0.2", "127.0.0.3"}, 1024);
    const std::vector<std::tuple<std::string, std::string, std::string>> expect = {
        {"good.example.test", "rsa2048.pem", ""},
        {"ed.example.test", "ed25519.pem", ""},
        {"esp.example.test", "rsa1024.pem", ""},
        {"nodkim.example.test", "rsa2048.pem", "dkim_no_record"},
        {"wrongkey.example.test", "rsa2048.pem", "dkim_key_mismatch"},
        {"softspf.example.test", "rsa2048.pem", "spf_softfail"},
    };
    for (const auto& [domain, key_file, code] : expect) {
        auto r = verifier.verify({.domain = domain, .selector = "s1", .key_path = test_key(key_file)});
        EXPECT_EQ(r.reason_code(), code) << domain << ": " << r.reason_text();
    }
}

}  // namespace
}  // namespace relaygate::registry
