// circuit_breaker: the Redis breaker's states on a fake clock — closed calls,
// opening after the threshold, no I/O while open, one probe when the open
// period is over, the probe's outcome, and one reported transition per change.
#include "relaygate/egress/circuit_breaker.hpp"

#include <gtest/gtest.h>

namespace relaygate::egress {
namespace {

using namespace std::chrono_literals;
using state = circuit_breaker::state;
using permit = circuit_breaker::permit;

class breaker : public ::testing::Test {
protected:
    std::chrono::steady_clock::time_point now_{std::chrono::seconds(100)};
    circuit_breaker make(unsigned threshold) {
        return circuit_breaker({.failure_threshold = threshold, .open_for = 1000ms}, [this] { return now_; });
    }
};

TEST_F(breaker, a_closed_breaker_lets_every_call_through_and_successes_report_nothing) {
    auto b = make(1);
    EXPECT_EQ(b.before(), permit::call);
    EXPECT_FALSE(b.on_success());
    EXPECT_EQ(b.current(), state::closed);
}

TEST_F(breaker, it_opens_after_the_threshold_of_failures_in_a_row_and_says_so_once) {
    auto b = make(3);
    EXPECT_FALSE(b.on_failure());
    EXPECT_FALSE(b.on_failure());
    auto t = b.on_failure();
    ASSERT_TRUE(t);
    EXPECT_EQ(t->from, state::closed);
    EXPECT_EQ(t->to, state::open);
    EXPECT_EQ(t->failures, 3u);
    EXPECT_EQ(b.opened_total(), 1u);
}

TEST_F(breaker, a_success_between_failures_resets_the_count) {
    auto b = make(2);
    b.on_failure();
    b.on_success();
    EXPECT_FALSE(b.on_failure());
    EXPECT_EQ(b.current(), state::closed);
}

TEST_F(breaker, an_open_breaker_refuses_every_call_until_the_open_period_is_over) {
    auto b = make(1);
    b.on_failure();
    now_ += 999ms;
    EXPECT_EQ(b.before(), permit::refuse);
    EXPECT_EQ(b.before(), permit::refuse);
    EXPECT_EQ(b.refused_total(), 2u);
    now_ += 1ms;
    EXPECT_EQ(b.before(), permit::probe);
    EXPECT_EQ(b.current(), state::half_open);
    EXPECT_EQ(b.before(), permit::refuse) << "one probe at a time";
}

TEST_F(breaker, a_successful_probe_closes_it_and_reports_the_calls_refused_meanwhile) {
    auto b = make(1);
    b.on_failure();
    b.before();
    now_ += 1s;
    ASSERT_EQ(b.before(), permit::probe);
    auto t = b.on_success();
    ASSERT_TRUE(t);
    EXPECT_EQ(t->from, state::open);
    EXPECT_EQ(t->to, state::closed);
    EXPECT_EQ(t->refused, 1u);
    EXPECT_EQ(b.before(), permit::call);
}

TEST_F(breaker, a_failed_probe_keeps_it_open_for_another_period_without_a_new_report) {
    auto b = make(1);
    b.on_failure();
    now_ += 1s;
    ASSERT_EQ(b.before(), permit::probe);
    EXPECT_FALSE(b.on_failure());
    EXPECT_EQ(b.current(), state::open);
    now_ += 500ms;
    EXPECT_EQ(b.before(), permit::refuse);
    now_ += 500ms;
    EXPECT_EQ(b.before(), permit::probe);
    EXPECT_EQ(b.opened_total(), 1u);
}

TEST_F(breaker, a_zero_threshold_is_taken_as_one) {
    auto b = make(0);
    EXPECT_TRUE(b.on_failure());
}

TEST(breaker_names, every_state_has_a_log_name) {
    EXPECT_EQ(to_string(state::closed), "closed");
    EXPECT_EQ(to_string(state::open), "open");
    EXPECT_EQ(to_string(state::half_open), "half_open");
}

}  // namespace
}  // namespace relaygate::egress
