// spf_verifier_itest.cpp: spf_verifier on dns::resolver against the real DNS fixture —
// every SPF result, include/redirect chains, macros, the 10-lookup and void-lookup
// limits, and SERVFAIL/timeout as temperror (tests/testdata/dns/verifier.conf).
#include "relaygate/verify/spf_verifier.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "relaygate/verify/spf_include_cache.hpp"
#include "verifier_dns_suite.hpp"

namespace relaygate::registry {
namespace {

using namespace std::chrono_literals;

struct spf_case {
    std::string name;
    std::string domain;  // under verify.test unless it ends in .test
    std::string ip;
    spf_outcome expected;
    std::string detail_has = "";
};

class spf_verifier_test : public verifier_dns_suite, public ::testing::WithParamInterface<spf_case> {
protected:
    spf_verifier verifier_{resolver()};
};

TEST_P(spf_verifier_test, gives) {
    const auto& c = GetParam();
    auto r = verifier_.check(verify_test_domain(c.domain), c.ip);
    EXPECT_EQ(to_string(r.outcome), to_string(c.expected)) << r.detail;
    EXPECT_EQ(r.ip, c.ip);
    EXPECT_NE(r.detail.find(c.detail_has), std::string::npos) << r.detail;
}

constexpr auto pass = spf_outcome::pass;
const char* v4a = "192.0.2.10";
const char* v4b = "192.0.2.11";
const char* v6 = "2001:db8::10";

INSTANTIATE_TEST_SUITE_P(
    cases, spf_verifier_test,
    ::testing::Values(
        spf_case{"ip4_listed_passes", "good", v4a, pass}, spf_case{"second_ip4_passes", "good", v4b, pass},
        spf_case{"ip6_listed_passes", "good", v6, pass},
        spf_case{"unlisted_ip_fails", "spf-partial", v4b, spf_outcome::fail,
                 "domain of spf-partial.verify.test does not designate 192.0.2.11 as permitted sender"},
        spf_case{"loopback_gets_no_free_ride", "spf-partial", "127.0.0.2", spf_outcome::fail},
        spf_case{"ip6_loopback_gets_no_free_ride", "spf-partial", "::1", spf_outcome::fail},
        spf_case{"tilde_all_softfails", "spf-softfail", v4b, spf_outcome::softfail},
        spf_case{"question_all_is_neutral", "spf-neutral", v4a, spf_outcome::neutral},
        spf_case{"no_txt_is_none", "spf-none", v4a, spf_outcome::none},
        spf_case{"non_spf_txt_is_none", "spf-notspf", v4a, spf_outcome::none},
        spf_case{"nxdomain_is_none", "absent", v4a, spf_outcome::none},
        spf_case{"bad_ip4_literal_is_permerror", "spf-syntax", v4a, spf_outcome::permerror},
        spf_case{"unknown_mechanism_is_permerror", "spf-unknown-mech", v4a, spf_outcome::permerror},
        spf_case{"two_spf_records_are_permerror", "spf-two", v4a, spf_outcome::permerror},
        spf_case{"include_of_a_missing_record_is_permerror", "spf-include-none", v4a, spf_outcome::permerror},
        spf_case{"eleven_lookup_terms_are_permerror", "spf-11terms", v4a, spf_outcome::permerror},
        spf_case{"ten_lookup_terms_are_allowed", "spf-10terms", v4a, pass},
        spf_case{"twelve_lookups_across_includes_are_permerror", "spf-limit-across", v4a, spf_outcome::permerror},
        spf_case{"two_void_lookups_are_allowed", "spf-void2", v4a, pass},
        spf_case{"three_void_lookups_are_permerror", "spf-void3", v4a, spf_outcome::permerror, "void"},
        spf_case{"void_lookups_count_over_mx_a_and_exists", "spf-void3-mx", v4a, spf_outcome::permerror, "void"},
        spf_case{"nested_include_chain_passes_ip4", "spf-include", v4a, pass},
        spf_case{"nested_include_chain_passes_inner_ip4", "spf-include", v4b, pass},
        spf_case{"nested_include_chain_passes_ip6", "spf-include", v6, pass},
        spf_case{"nested_include_chain_fails_others", "spf-include", "192.0.2.99", spf_outcome::fail},
        spf_case{"redirect_passes", "spf-redirect", v4b, pass},
        spf_case{"redirect_passes_ip6", "spf-redirect", v6, pass},
        spf_case{"redirect_fails_outside", "spf-redirect", "198.51.100.1", spf_outcome::fail},
        spf_case{"macro_i_in_exists_passes_ip4", "spf-macro", v4b, pass},
        spf_case{"macro_i_in_exists_passes_ip6_nibbles", "spf-macro", v6, pass},
        spf_case{"macro_i_in_exists_fails_others", "spf-macro", "192.0.2.99", spf_outcome::fail},
        spf_case{"macro_d_in_include_passes", "spf-macro-include", v4a, pass},
        spf_case{"mx_mechanism_passes_first_mx", "spf-mx", v4a, pass},
        spf_case{"mx_mechanism_passes_second_mx_ip6", "spf-mx", v6, pass},
        spf_case{"a_mechanism_follows_cname", "spf-a-cname", v4a, pass},
        spf_case{"include_of_servfail_is_temperror", "spf-servfail", v4a, spf_outcome::temperror, "servfail"},
        spf_case{"a_term_timing_out_is_temperror", "spf-timeout", v4a, spf_outcome::temperror, "timeout"},
        spf_case{"servfail_on_the_domain_is_temperror", "x.servfail.test", v4a, spf_outcome::temperror},
        spf_case{"timeout_on_the_domain_is_temperror", "x.timeout.test", v4a, spf_outcome::temperror}),
    [](const ::testing::TestParamInfo<spf_case>& i) { return i.param.name; });

// One pass's include cache: ten domains (here ten checks of one domain, from eight threads
// at once) that include the same provider record resolve it, and what it includes, once.
class spf_include_cache_test : public verifier_dns_suite {};

TEST_F(spf_include_cache_test, an_include_shared_by_a_pass_is_resolved_once) {
    spf_verifier verifier(resolver());
    spf_include_cache includes;
    std::vector<std::thread> threads;
    std::atomic<int> passed{0};
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&] {
            for (const auto& r : verifier.check_all(verify_test_domain("spf-include"), {v4a, v4b, v6}, &includes)) {
                if (r.outcome == pass) ++passed;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(passed.load(), 8 * 3);
    EXPECT_EQ(includes.size(), 2u) << "_spf1.inc and _spf2.inc, TXT each; the domain's own record is not shared";
    EXPECT_EQ(includes.resolved(), 2u);
    EXPECT_EQ(includes.hits(), 7u * 2u) << "every other check_all took both from the cache (then its own memo)";
}

TEST_F(spf_include_cache_test, a_full_cache_still_answers_uncached) {
    spf_verifier verifier(resolver());
    spf_include_cache includes(1);
    for (int k = 0; k < 2; ++k) {
        for (const auto& r : verifier.check_all(verify_test_domain("spf-include"), {v4a, v4b}, &includes)) {
            EXPECT_EQ(r.outcome, pass) << r.detail;
        }
    }
    EXPECT_EQ(includes.size(), 1u);
    EXPECT_EQ(includes.resolved(), 3u) << "_spf1 once; _spf2 (over the bound) each time";
}

TEST(spf_mechanisms_for, lists_ip4_and_ip6) {
    EXPECT_EQ(spf_mechanisms_for({"192.0.2.10", "2001:db8::10"}), "ip4:192.0.2.10 ip6:2001:db8::10");
    EXPECT_EQ(spf_mechanisms_for({}), "");
}

}  // namespace
}  // namespace relaygate::registry
