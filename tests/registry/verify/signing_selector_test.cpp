// signing_selector: which selector signs during a DKIM key rotation (the old one
// until the new one is published and verified, never back on a DNS blip), and
// when the old one becomes removable (rotation-overlap), as a table.
#include "relaygate/verify/signing_selector.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace relaygate::registry {
namespace {

constexpr auto none = static_cast<std::size_t>(-1);
constexpr auto unchecked = selector_check::unchecked;
constexpr auto match = selector_check::match;
constexpr auto temporary = selector_check::temporary;
constexpr auto failed = selector_check::failed;

struct choice_row {
    const char* name;
    std::vector<selector_check> checks;  // oldest first
    std::size_t previous;
    std::size_t expected;
};
void PrintTo(const choice_row& r, std::ostream* os) { *os << r.name; }

class signing_choice : public testing::TestWithParam<choice_row> {};

TEST_P(signing_choice, picks_the_expected_selector) {
    EXPECT_EQ(choose_signing_selector(GetParam().checks, GetParam().previous), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    rotation, signing_choice,
    testing::Values(choice_row{"one_selector_signs_whatever_its_check", {failed}, none, 0},
                    choice_row{"no_selectors_is_index_zero", {}, none, 0},
                    choice_row{"new_selector_not_checked_yet_old_keeps_signing", {match, unchecked}, 0, 0},
                    choice_row{"new_selector_not_published_old_keeps_signing", {match, failed}, 0, 0},
                    choice_row{"new_selector_dns_trouble_old_keeps_signing", {match, temporary}, 0, 0},
                    choice_row{"new_selector_verified_switches_to_it", {match, match}, 0, 1},
                    choice_row{"switched_and_old_unpublished_new_keeps_signing", {failed, match}, 1, 1},
                    choice_row{"switched_new_dns_blip_never_moves_back", {match, temporary}, 1, 1},
                    choice_row{"switched_new_definitively_broken_old_still_valid_falls_back", {match, failed}, 1, 0},
                    choice_row{"nothing_matches_previous_stays", {failed, failed}, 1, 1},
                    choice_row{"nothing_matches_no_previous_oldest", {failed, temporary}, none, 0},
                    choice_row{"previous_unknown_newest_match_signs", {match, match}, none, 1},
                    choice_row{"previous_out_of_range_is_unknown", {failed, failed}, 7, 0},
                    choice_row{"three_selectors_newest_verified_wins", {match, match, match}, 0, 2},
                    choice_row{"three_selectors_middle_verified_newest_not_yet", {match, match, failed}, 0, 1}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(selector_check_of, maps_outcome_names) {
    EXPECT_EQ(selector_check_of(""), unchecked);
    EXPECT_EQ(selector_check_of("match"), match);
    EXPECT_EQ(selector_check_of("temporary"), temporary);
    EXPECT_EQ(selector_check_of("no_record"), failed);
    EXPECT_EQ(selector_check_of("key_mismatch"), failed);
}

constexpr std::int64_t t0 = 1'700'000'000;
constexpr std::chrono::seconds week{7 * 86400};

TEST(removable_selectors, none_before_the_overlap_has_passed) {
    EXPECT_TRUE(removable_selectors(1, t0, t0 + week.count() - 1, week).empty());
}

TEST(removable_selectors, the_older_ones_once_the_overlap_has_passed) {
    EXPECT_EQ(removable_selectors(1, t0, t0 + week.count(), week), (std::vector<std::size_t>{0}));
    EXPECT_EQ(removable_selectors(2, t0, t0 + week.count() + 5, week), (std::vector<std::size_t>{0, 1}));
}

TEST(removable_selectors, none_while_the_oldest_signs_or_no_switch_was_recorded) {
    EXPECT_TRUE(removable_selectors(0, t0, t0 + 10 * week.count(), week).empty());
    EXPECT_TRUE(removable_selectors(1, 0, t0, week).empty());
}

}  // namespace
}  // namespace relaygate::registry
