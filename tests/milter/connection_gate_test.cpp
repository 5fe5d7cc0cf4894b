// connection_gate: the max-connections cap admits up to its cap, refuses and
// counts beyond it, and reports each state change once (full at the first
// refusal, open again a tenth below the cap), not once per connection.
#include "relaygate/milter/connection_gate.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace relaygate::milter {
namespace {

TEST(connection_gate, admits_up_to_the_cap_then_refuses_and_counts) {
    connection_gate g(3);
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(g.admit().admitted);
    const auto first = g.admit();
    EXPECT_FALSE(first.admitted);
    EXPECT_TRUE(first.now_full) << "the first refusal is the state change";
    const auto second = g.admit();
    EXPECT_FALSE(second.admitted);
    EXPECT_FALSE(second.now_full) << "later refusals are not";
    EXPECT_EQ(g.refused(), 2u);
    EXPECT_EQ(g.active(), 3u);
}

TEST(connection_gate, reopens_once_a_tenth_below_the_cap) {
    connection_gate g(20);
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(g.admit().admitted);
    EXPECT_TRUE(g.admit().now_full);
    EXPECT_FALSE(g.release()) << "19 active: still within a tenth of the cap";
    EXPECT_TRUE(g.admit().admitted) << "a free slot is used while the gate reports full";
    EXPECT_FALSE(g.release());
    EXPECT_TRUE(g.release()) << "18 active: open again, said once";
    EXPECT_FALSE(g.release());
    EXPECT_TRUE(g.admit().admitted);
}

TEST(connection_gate, a_release_without_refusals_changes_nothing) {
    connection_gate g(1);
    EXPECT_TRUE(g.admit().admitted);
    EXPECT_FALSE(g.release());
    EXPECT_FALSE(g.release()) << "an extra release does not underflow";
    EXPECT_EQ(g.active(), 0u);
}

TEST(connection_gate, a_cap_of_zero_is_one_and_concurrent_admits_never_exceed_the_cap) {
    EXPECT_EQ(connection_gate(0).cap(), 1u);
    connection_gate g(50);
    std::vector<std::thread> threads;
    std::vector<int> admitted(8, 0);
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 1000; ++i) admitted[t] += g.admit().admitted ? 1 : 0;
        });
    }
    for (auto& th : threads) th.join();
    int total = 0;
    for (int a : admitted) total += a;
    EXPECT_EQ(total, 50);
    EXPECT_EQ(g.refused(), 8000u - 50u);
}

TEST(connection_gate, refused_connections_are_told_451_try_again_later) {
    EXPECT_EQ(busy_reply().to_string(), "451 4.3.2 relaygate-milter is at its connection limit, try again later");
}

}  // namespace
}  // namespace relaygate::milter
