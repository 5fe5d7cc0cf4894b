// verification_policy: every cell of the state table, the grace period at its
// edges, and "a temporary DNS failure alone never demotes".
#include "relaygate/verify/verification_policy.hpp"

#include <gtest/gtest.h>

namespace relaygate::registry {
namespace {

constexpr std::int64_t t0 = 1'700'000'000;
constexpr std::chrono::seconds grace{86400};

const check_summary pass{.verified = true};
const check_summary spf_fail{.definitive_failure = true, .reason_code = "spf_fail", .reason_text = "192.0.2.1: fail"};
const check_summary dns_down{.temporary_failure = true, .reason_code = "dkim_temporary", .reason_text = "SERVFAIL"};
const check_summary mixed{
    .definitive_failure = true, .temporary_failure = true, .reason_code = "dkim_key_mismatch", .reason_text = "x"};

const verification_status pending{};
const verification_status verified{
    .state = verification_state::verified, .last_checked = t0 - 3600, .verified_since = t0 - 7 * 86400};
const verification_status in_grace_since_t0{.state = verification_state::verified,
                                            .reason_code = "spf_fail",
                                            .last_checked = t0,
                                            .verified_since = t0 - 7 * 86400,
                                            .failing_since = t0};
const verification_status failed{.state = verification_state::failed,
                                 .reason_code = "dkim_no_record",
                                 .last_checked = t0 - 3600,
                                 .failing_since = t0 - 86400};

struct row {
    const char* name;
    verification_status previous;
    check_summary check;
    std::int64_t now;
    transition change;
    verification_state next_state;
    bool temporary;
    std::string reason_code;
    std::int64_t failing_since;
    std::int64_t verified_since;
};
void PrintTo(const row& r, std::ostream* os) { *os << r.name; }

class policy_table : public testing::TestWithParam<row> {};

TEST_P(policy_table, gives_the_next_status) {
    const auto& r = GetParam();
    auto result = apply_check("example.com", r.previous, r.check, r.now, grace);
    EXPECT_EQ(to_string(result.change), to_string(r.change));
    EXPECT_EQ(result.next.state, r.next_state);
    EXPECT_EQ(result.next.temporary_failure, r.temporary);
    EXPECT_EQ(result.next.reason_code, r.reason_code);
    EXPECT_EQ(result.next.failing_since, r.failing_since);
    EXPECT_EQ(result.next.verified_since, r.verified_since);
    EXPECT_EQ(result.next.last_checked, r.now);
    EXPECT_NE(result.log_line.find("domain=example.com"), std::string::npos) << result.log_line;
}

using vs = verification_state;
using tr = transition;
INSTANTIATE_TEST_SUITE_P(
    verification_policy, policy_table,
    testing::Values(
        row{"pending_passes", pending, pass, t0, tr::became_verified, vs::verified, false, "", 0, t0},
        row{"pending_fails", pending, spf_fail, t0, tr::became_failed, vs::failed, false, "spf_fail", t0, 0},
        row{"pending_dns_down_stays_pending", pending, dns_down, t0, tr::temporary_ignored, vs::pending, true,
            "dkim_temporary", 0, 0},
        row{"verified_passes_keeps_its_since", verified, pass, t0, tr::stays_verified, vs::verified, false, "", 0,
            t0 - 7 * 86400},
        row{"verified_first_failure_starts_grace", verified, spf_fail, t0, tr::grace_started, vs::verified, false,
            "spf_fail", t0, t0 - 7 * 86400},
        row{"verified_dns_down_is_never_demoted", verified, dns_down, t0, tr::temporary_ignored, vs::verified, true,
            "dkim_temporary", 0, t0 - 7 * 86400},
        row{"in_grace_one_second_before_the_end", in_grace_since_t0, spf_fail, t0 + 86399, tr::in_grace, vs::verified,
            false, "spf_fail", t0, t0 - 7 * 86400},
        row{"in_grace_at_the_end_is_demoted", in_grace_since_t0, spf_fail, t0 + 86400, tr::demoted, vs::failed, false,
            "spf_fail", t0, 0},
        row{"in_grace_dns_down_after_the_end_still_not_demoted", in_grace_since_t0, dns_down, t0 + 10 * 86400,
            tr::temporary_ignored, vs::verified, true, "dkim_temporary", t0, t0 - 7 * 86400},
        row{"in_grace_recovers", in_grace_since_t0, pass, t0 + 100, tr::stays_verified, vs::verified, false, "", 0,
            t0 - 7 * 86400},
        row{"definitive_plus_temporary_counts_as_definitive", in_grace_since_t0, mixed, t0 + 86400, tr::demoted,
            vs::failed, false, "dkim_key_mismatch", t0, 0},
        row{"failed_recovers", failed, pass, t0, tr::became_verified, vs::verified, false, "", 0, t0},
        row{"failed_keeps_failing", failed, spf_fail, t0, tr::stays_failed, vs::failed, false, "spf_fail", t0 - 86400,
            0},
        row{"failed_dns_down_keeps_its_reason", failed, dns_down, t0, tr::stays_failed, vs::failed, true,
            "dkim_no_record", t0 - 86400, 0},
        row{"summary_without_any_flag_is_a_failure", pending, check_summary{}, t0, tr::became_failed, vs::failed, false,
            "", t0, 0}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(verification_policy, zero_grace_demotes_at_the_first_failure) {
    auto r = apply_check("a.example", verified, spf_fail, t0, std::chrono::seconds(0));
    EXPECT_EQ(r.change, transition::demoted);
}

TEST(verification_policy, demotion_is_logged_as_a_warning_with_reason_and_grace) {
    auto r = apply_check("a.example", in_grace_since_t0, spf_fail, t0 + 86400, grace);
    EXPECT_EQ(r.level, log::level::warning);
    EXPECT_EQ(r.log_line,
              "- registry_demoted domain=a.example reason=spf_fail detail=\"192.0.2.1: fail\" failing_since=" +
                  std::to_string(t0) + " grace_period=86400s");
}

TEST(verification_policy, grace_start_says_when_demotion_will_happen) {
    auto r = apply_check("a.example", verified, spf_fail, t0, grace);
    EXPECT_EQ(r.level, log::level::notice);
    EXPECT_NE(r.log_line.find("registry_grace_started"), std::string::npos);
    EXPECT_NE(r.log_line.find("demote_at=" + std::to_string(t0 + 86400)), std::string::npos) << r.log_line;
}

}  // namespace
}  // namespace relaygate::registry
