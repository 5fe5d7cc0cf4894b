// verification_events: which recorded checks are told to owner and operator —
// one event per transition that matters, none for "no change", and the
// "pending too long" alert exactly once, on the check that crosses it.
#include "relaygate/verify/verification_events.hpp"

#include <gtest/gtest.h>

namespace relaygate::registry {
namespace {

using namespace std::chrono_literals;
constexpr std::int64_t t0 = 1'700'000'000;
constexpr std::chrono::seconds grace = 86400s;
constexpr std::chrono::seconds overdue = 24h;

const check_summary pass{.verified = true};
const check_summary spf_fail{.definitive_failure = true, .reason_code = "spf_fail", .reason_text = "192.0.2.1: fail"};
const check_summary dns_down{.temporary_failure = true, .reason_code = "dkim_temporary", .reason_text = "SERVFAIL"};

// The status a sequence of checks leaves behind, starting from a new domain.
verification_status after(std::initializer_list<std::pair<check_summary, std::int64_t>> checks) {
    verification_status s;
    for (const auto& [check, now] : checks) s = apply_check("a.example", s, check, now, grace).next;
    return s;
}

struct row {
    const char* name;
    verification_status previous;
    check_summary check;
    std::int64_t now;
    std::string event;  // "" = none
};
void PrintTo(const row& r, std::ostream* os) { *os << r.name; }

class event_table : public testing::TestWithParam<row> {};

TEST_P(event_table, selects_the_event) {
    const auto& r = GetParam();
    const auto result = apply_check("a.example", r.previous, r.check, r.now, grace);
    const auto events = select_events({{"a.example", r.previous, result}}, grace, overdue);
    if (r.event.empty()) {
        EXPECT_TRUE(events.empty()) << to_string(events.front().kind);
        return;
    }
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(to_string(events[0].kind), r.event);
    EXPECT_EQ(events[0].domain, "a.example");
    EXPECT_EQ(events[0].status.last_checked, r.now);
}

const auto verified = after({{pass, t0}});
const auto in_grace = after({{pass, t0}, {spf_fail, t0 + 3600}});
const auto demoted = after({{pass, t0}, {spf_fail, t0 + 3600}, {spf_fail, t0 + 3600 + 86400}});
const auto never_ok = after({{spf_fail, t0}});
const auto dns_pending = after({{dns_down, t0}});

INSTANTIATE_TEST_SUITE_P(
    verification_events, event_table,
    testing::Values(row{"first_check_passes_is_verified", {}, pass, t0, "verified"},
                    row{"first_check_fails_is_not_told_yet", {}, spf_fail, t0, ""},
                    row{"still_verified_is_not_told", verified, pass, t0 + 3600, ""},
                    row{"verified_then_failing_starts_grace", verified, spf_fail, t0 + 3600, "grace_started"},
                    row{"still_in_grace_is_not_told_again", in_grace, spf_fail, t0 + 7200, ""},
                    row{"grace_over_is_demoted", in_grace, spf_fail, t0 + 3600 + 86400, "demoted"},
                    row{"fixed_within_grace_is_recovered", in_grace, pass, t0 + 7200, "recovered"},
                    row{"fixed_after_demotion_is_recovered", demoted, pass, t0 + 200000, "recovered"},
                    row{"still_failed_after_demotion_is_not_told", demoted, spf_fail, t0 + 200000, ""},
                    row{"dns_outage_on_verified_is_not_told", verified, dns_down, t0 + 3600, ""},
                    row{"dns_outage_in_grace_is_not_told", in_grace, dns_down, t0 + 7200, ""},
                    row{"never_verified_fixed_is_verified", never_ok, pass, t0 + 3600, "verified"},
                    row{"never_verified_one_second_short_of_overdue", never_ok, spf_fail, t0 + 86399, ""},
                    row{"never_verified_crossing_overdue", never_ok, spf_fail, t0 + 86400, "pending_overdue"},
                    row{"pending_on_dns_crossing_overdue", dns_pending, dns_down, t0 + 90000, "pending_overdue"},
                    row{"demoted_domain_is_never_overdue", demoted, spf_fail, t0 + 10 * 86400, ""}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(verification_events, pending_overdue_is_told_once) {
    auto s = after({{spf_fail, t0}, {spf_fail, t0 + 86400}});  // the crossing check
    const auto next = apply_check("a.example", s, spf_fail, t0 + 2 * 86400, grace);
    EXPECT_TRUE(select_events({{"a.example", s, next}}, grace, overdue).empty());
    EXPECT_EQ(s.pending_since, t0);
}

TEST(verification_events, grace_started_carries_the_demotion_time) {
    const auto result = apply_check("a.example", verified, spf_fail, t0 + 3600, grace);
    const auto events = select_events({{"a.example", verified, result}}, grace, overdue);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].demote_at, t0 + 3600 + 86400);
    EXPECT_EQ(events[0].status.reason_code, "spf_fail");
    EXPECT_EQ(events[0].previous_state, verification_state::verified);
}

TEST(verification_events, verification_clears_pending_since_for_good) {
    const auto s = after({{dns_down, t0}, {pass, t0 + 60}, {spf_fail, t0 + 120}});
    EXPECT_EQ(s.pending_since, 0);
    EXPECT_EQ(s.state, verification_state::verified) << "in grace";
}

}  // namespace
}  // namespace relaygate::registry

namespace relaygate::registry {
namespace {

// A rotating domain's status: signing `signing` since `since`, last checked at `checked`.
verification_status rotating(const std::string& signing, std::int64_t since, std::int64_t checked) {
    return {.state = verification_state::verified,
            .last_checked = checked,
            .verified_since = t0 - 86400,
            .signing_selector = signing,
            .signing_since = since,
            .selectors = {{"old", "match"}, {"new", signing == "new" ? "match" : "no_record"}}};
}

recorded_report rotation_check(const verification_status& previous, const verification_status& next) {
    recorded_report r{.domain = "a.example", .previous = previous};
    r.result.next = next;
    return r;
}

TEST(rotation_events, the_switch_is_told_once_with_the_selector_that_signed_before) {
    const auto before = rotating("old", 0, t0);
    const auto switched = rotating("new", t0 + 60, t0 + 60);
    auto events = select_rotation_events({rotation_check(before, switched)}, 3600s);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, verification_event_kind::dkim_selector_switched);
    EXPECT_EQ(events[0].from_selector, "old");
    EXPECT_TRUE(select_rotation_events({rotation_check(switched, rotating("new", t0 + 60, t0 + 120))}, 3600s).empty())
        << "the next check switches nothing";
    EXPECT_TRUE(select_rotation_events({rotation_check(before, rotating("old", 0, t0 + 60))}, 3600s).empty())
        << "the new selector not verified yet: nothing to tell";
}

TEST(rotation_events, removable_is_told_on_the_one_check_that_crosses_the_overlap) {
    const auto since = t0;
    EXPECT_TRUE(select_rotation_events(
                    {rotation_check(rotating("new", since, t0 + 3000), rotating("new", since, t0 + 3599))}, 3600s)
                    .empty());
    auto events = select_rotation_events(
        {rotation_check(rotating("new", since, t0 + 3599), rotating("new", since, t0 + 3600))}, 3600s);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, verification_event_kind::dkim_selector_removable);
    EXPECT_TRUE(select_rotation_events(
                    {rotation_check(rotating("new", since, t0 + 3600), rotating("new", since, t0 + 7200))}, 3600s)
                    .empty())
        << "told once";
}

TEST(rotation_events, a_domain_with_one_selector_has_none) {
    verification_status one{.state = verification_state::verified, .last_checked = t0};
    EXPECT_TRUE(select_rotation_events({rotation_check(one, one)}, 0s).empty());
}

}  // namespace
}  // namespace relaygate::registry
