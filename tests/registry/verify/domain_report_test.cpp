// domain_report_test.cpp: the verdict and the reason code/text of a domain
// report, built by hand (no DNS): what the milter and relaygate-admin show.
#include <gtest/gtest.h>

#include "relaygate/verify/domain_verifier.hpp"

namespace relaygate::registry {
namespace {

domain_report report(dkim_outcome dkim, std::vector<spf_outcome> spf) {
    domain_report r;
    r.domain = "example.com";
    r.dkim = {.outcome = dkim, .record_name = "s1._domainkey.example.com", .detail = "dkim detail"};
    const char* ips[] = {"192.0.2.7", "192.0.2.8", "2001:db8::7"};
    for (std::size_t i = 0; i < spf.size(); ++i) r.spf.push_back({.ip = ips[i], .outcome = spf[i], .detail = "why"});
    return r;
}

using d = dkim_outcome;
using s = spf_outcome;

TEST(domain_report, is_verified_only_with_a_dkim_match_and_spf_pass_everywhere) {
    EXPECT_TRUE(report(d::match, {s::pass, s::pass}).verified());
    EXPECT_FALSE(report(d::match, {s::pass, s::softfail}).verified());
    EXPECT_FALSE(report(d::revoked, {s::pass, s::pass}).verified());
    EXPECT_EQ(report(d::match, {s::pass}).reason_code(), "");
    EXPECT_EQ(report(d::match, {s::pass}).reason_text(), "");
}

TEST(domain_report, puts_dkim_first_in_the_reason) {
    auto r = report(d::no_record, {s::fail});
    EXPECT_EQ(r.reason_code(), "dkim_no_record");
    EXPECT_EQ(r.reason_text(), "dkim detail");
}

TEST(domain_report, names_a_definitive_failure_before_a_temporary_one) {
    auto r = report(d::temporary, {s::temperror, s::fail});
    EXPECT_EQ(r.reason_code(), "spf_fail");
    EXPECT_EQ(r.reason_text(), "SPF for example.com does not authorize 192.0.2.8 (fail) and 1 more IP(s)");
    EXPECT_EQ(report(d::temporary, {s::temperror}).reason_code(), "dkim_temporary");
    EXPECT_EQ(report(d::match, {s::pass, s::temperror}).reason_code(), "spf_temperror");
}

TEST(domain_report, names_the_first_unauthorized_ip_and_counts_the_rest) {
    auto r = report(d::match, {s::pass, s::softfail, s::fail});
    EXPECT_EQ(r.reason_code(), "spf_softfail");
    EXPECT_EQ(r.reason_text(), "SPF for example.com does not authorize 192.0.2.8 (softfail) and 1 more IP(s)");
    EXPECT_EQ(report(d::match, {s::neutral}).reason_text(),
              "SPF for example.com does not authorize 192.0.2.7 (neutral)");
}

TEST(domain_report, words_none_permerror_and_temperror_for_humans) {
    EXPECT_EQ(report(d::match, {s::none}).reason_text(), "no SPF record for example.com");
    EXPECT_EQ(report(d::match, {s::permerror}).reason_text(), "SPF for example.com is broken (permerror: why)");
    EXPECT_EQ(report(d::match, {s::temperror}).reason_text(),
              "SPF for example.com could not be checked for 192.0.2.7 (temperror: why)");
    EXPECT_EQ(report(d::match, {s::temperror}).reason_code(), "spf_temperror");
}

TEST(domain_report, is_temporary_only_when_nothing_failed_for_good) {
    EXPECT_TRUE(report(d::temporary, {s::pass, s::temperror}).temporary());
    EXPECT_TRUE(report(d::match, {s::temperror}).temporary());
    EXPECT_FALSE(report(d::key_mismatch, {s::temperror}).temporary());
    EXPECT_FALSE(report(d::temporary, {s::fail}).temporary());
    EXPECT_FALSE(report(d::match, {s::pass}).temporary());
}

TEST(domain_report, spells_every_outcome) {
    EXPECT_EQ(to_string(d::held_key_error), "held_key_error");
    EXPECT_EQ(to_string(d::key_too_short), "key_too_short");
    EXPECT_EQ(to_string(s::softfail), "softfail");
    EXPECT_EQ(to_string(s::permerror), "permerror");
}

}  // namespace
}  // namespace relaygate::registry
