// mx_wait_queue: socketmap replies waiting for an MX answer, driven by a fake
// clock — one lookup per domain, the in-flight bound, answers in arrival
// order, deadlines in order, a late answer after every wait expired, and a
// retry that joins the lookup still in flight.
#include "relaygate/policy/mx_wait_queue.hpp"

#include <gtest/gtest.h>

namespace relaygate::policy {
namespace {

using admission = mx_wait_queue::admission;

class mx_waits : public ::testing::Test {
protected:
    std::int64_t now_ = 1000;
    mx_wait_queue q_{[this] { return now_; }};
    mx_wait_limits limits_{.wait_ms = 3000, .max_domains = 2};

    admission wait(const std::string& domain, std::uint64_t conn, std::uint64_t seq) {
        return q_.wait(domain, {conn, seq}, "u@" + domain, limits_);
    }
};

std::vector<std::uint64_t> seqs(const std::vector<mx_wait_queue::waiter>& ws) {
    std::vector<std::uint64_t> out;
    for (const auto& w : ws) out.push_back(w.token.seq);
    return out;
}

TEST_F(mx_waits, the_first_wait_for_a_domain_starts_its_lookup_and_the_next_ones_join_it) {
    EXPECT_EQ(wait("a.test", 1, 0), admission::start_lookup);
    EXPECT_EQ(wait("a.test", 2, 0), admission::joined);
    EXPECT_EQ(wait("b.test", 1, 1), admission::start_lookup);
    EXPECT_EQ(q_.lookups_in_flight(), 2u);
    EXPECT_TRUE(q_.has_deadlines());
}

TEST_F(mx_waits, a_new_domain_beyond_the_bound_is_refused_but_a_domain_in_flight_may_still_be_joined) {
    wait("a.test", 1, 0);
    wait("b.test", 1, 1);
    EXPECT_EQ(wait("c.test", 1, 2), admission::full);
    EXPECT_EQ(wait("a.test", 1, 3), admission::joined);
    EXPECT_EQ(q_.lookups_in_flight(), 2u);
}

TEST_F(mx_waits, an_answer_releases_every_waiter_of_its_domain_in_arrival_order_with_its_key) {
    wait("a.test", 1, 0);
    wait("b.test", 1, 1);
    wait("a.test", 2, 7);
    auto ws = q_.answer("a.test");
    EXPECT_EQ(seqs(ws), (std::vector<std::uint64_t>{0, 7}));
    EXPECT_EQ(ws[1].token.connection, 2u);
    EXPECT_EQ(ws[1].key, "u@a.test");
    EXPECT_EQ(ws[1].domain, "a.test");
    EXPECT_EQ(q_.lookups_in_flight(), 1u);
    EXPECT_TRUE(q_.answer("a.test").empty()) << "a second answer finds nobody";
}

TEST_F(mx_waits, nothing_expires_before_its_deadline_and_everything_due_expires_in_order) {
    wait("a.test", 1, 0);
    now_ += 1000;
    wait("b.test", 1, 1);
    now_ += 1999;
    EXPECT_TRUE(q_.expire().empty());
    now_ += 1;  // a.test's deadline
    EXPECT_EQ(seqs(q_.expire()), (std::vector<std::uint64_t>{0}));
    now_ += 5000;
    auto late = q_.expire();
    ASSERT_EQ(late.size(), 1u);
    EXPECT_EQ(late[0].domain, "b.test");
    EXPECT_FALSE(q_.has_deadlines());
}

TEST_F(mx_waits, an_answered_wait_does_not_expire_later) {
    wait("a.test", 1, 0);
    EXPECT_EQ(q_.answer("a.test").size(), 1u);
    now_ += 10000;
    EXPECT_TRUE(q_.expire().empty());
}

TEST_F(mx_waits, after_every_wait_expired_the_lookup_stays_in_flight_and_a_retry_joins_it) {
    wait("a.test", 1, 0);
    now_ += 3000;
    EXPECT_EQ(q_.expire().size(), 1u);
    EXPECT_EQ(q_.lookups_in_flight(), 1u);
    EXPECT_EQ(wait("a.test", 1, 1), admission::joined) << "no second lookup for the retry";
    auto ws = q_.answer("a.test");  // the late answer
    EXPECT_EQ(seqs(ws), (std::vector<std::uint64_t>{1}));
    EXPECT_EQ(q_.lookups_in_flight(), 0u);
}

TEST_F(mx_waits, each_wait_expires_alone_when_several_share_a_domain) {
    wait("a.test", 1, 0);
    now_ += 1000;
    wait("a.test", 2, 0);
    now_ += 2000;
    auto first = q_.expire();
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(first[0].token.connection, 1u);
    auto ws = q_.answer("a.test");
    ASSERT_EQ(ws.size(), 1u);
    EXPECT_EQ(ws[0].token.connection, 2u);
}

TEST_F(mx_waits, a_shorter_wait_after_a_reload_applies_to_new_waits) {
    limits_.wait_ms = 100;
    wait("a.test", 1, 0);
    now_ += 100;
    EXPECT_EQ(q_.expire().size(), 1u);
}

}  // namespace
}  // namespace relaygate::policy
