// alert_windows_test.cpp: thresholds, sliding, once-per-episode and key bounds
// of the alert windows, with an injected clock.
#include "relaygate/watch/alert_windows.hpp"

#include <gtest/gtest.h>

namespace relaygate::watch {
namespace {

constexpr std::int64_t t0 = 1796149800;

TEST(alert_windows, fires_once_at_min_count_and_ratio_for_key_and_aggregate) {
    alert_windows w({.window_seconds = 600, .min_reputation = 10, .min_ratio = 0.2});
    std::vector<alert> fired;
    for (int i = 0; i < 9; ++i) {
        auto a = w.add("microsoft", "msft-out", "brand.test", true, "ip_blocklisted", t0 + i);
        EXPECT_TRUE(a.empty()) << i;
    }
    EXPECT_FALSE(w.over("microsoft", "msft-out", t0 + 9));
    fired = w.add("microsoft", "msft-out", "brand.test", true, "ip_blocklisted", t0 + 9);
    ASSERT_EQ(fired.size(), 2u);
    EXPECT_EQ(fired[0].key.sender_domain, "brand.test");
    EXPECT_EQ(fired[0].reputation, 10u);
    EXPECT_EQ(fired[0].last_class, "ip_blocklisted");
    EXPECT_EQ(fired[1].key.sender_domain, aggregate_domain);
    EXPECT_TRUE(w.over("microsoft", "msft-out", t0 + 10));
    // Same episode: no second alert.
    EXPECT_TRUE(w.add("microsoft", "msft-out", "brand.test", true, "ip_blocklisted", t0 + 11).empty());
}

TEST(alert_windows, ratio_below_threshold_does_not_fire) {
    alert_windows w({.window_seconds = 600, .min_reputation = 10, .min_ratio = 0.2});
    for (int i = 0; i < 100; ++i) w.add("microsoft", "msft-out", "a.test", false, "delivered", t0);
    for (int i = 0; i < 19; ++i) EXPECT_TRUE(w.add("microsoft", "msft-out", "a.test", true, "server_busy", t0).empty());
    // 20 of 120 = 0.167 < 0.2 ... 25 of 125 = 0.2 fires.
    std::size_t fired_at = 0;
    for (int i = 0; i < 10 && fired_at == 0; ++i) {
        if (!w.add("microsoft", "msft-out", "a.test", true, "server_busy", t0).empty()) fired_at = 20 + i;
    }
    EXPECT_EQ(fired_at, 25u);
}

TEST(alert_windows, window_slides_and_episode_ends_then_fires_again) {
    alert_windows w({.window_seconds = 600, .min_reputation = 3, .min_ratio = 0.5});
    for (int i = 0; i < 2; ++i) w.add("microsoft", "msft-out", "a.test", true, "ip_banned", t0);
    // The first two fell out of the window: 1 in the window, no alert.
    EXPECT_TRUE(w.add("microsoft", "msft-out", "a.test", true, "ip_banned", t0 + 700).empty());
    EXPECT_FALSE(w.over("microsoft", "msft-out", t0 + 700));
    EXPECT_EQ(w.add("microsoft", "msft-out", "a.test", true, "ip_banned", t0 + 701).size(), 0u);
    EXPECT_EQ(w.add("microsoft", "msft-out", "a.test", true, "ip_banned", t0 + 702).size(), 2u);
    EXPECT_TRUE(w.tick(t0 + 710).empty());
    const auto ended = w.tick(t0 + 702 + 700);
    EXPECT_EQ(ended.size(), 2u);
    EXPECT_EQ(w.keys(), 0u);  // empty windows are forgotten
    for (int i = 0; i < 2; ++i) w.add("microsoft", "msft-out", "a.test", true, "ip_banned", t0 + 2000);
    EXPECT_EQ(w.add("microsoft", "msft-out", "a.test", true, "ip_banned", t0 + 2000).size(), 2u);
}

TEST(alert_windows, families_and_transports_are_separate) {
    alert_windows w({.window_seconds = 600, .min_reputation = 2, .min_ratio = 0.1});
    w.add("microsoft", "msft-out", "a.test", true, "ip_banned", t0);
    w.add("microsoft", "msft-spare", "a.test", true, "ip_banned", t0);
    w.add("other", "smtp", "a.test", true, "ip_banned", t0);
    EXPECT_FALSE(w.over("microsoft", "msft-out", t0));
    EXPECT_FALSE(w.over("microsoft", "msft-spare", t0));
}

TEST(alert_windows, sender_domains_beyond_max_keys_share_star) {
    alert_windows w({.window_seconds = 600, .min_reputation = 1000, .min_ratio = 0.2, .max_keys = 50});
    for (int i = 0; i < 5000; ++i) {
        w.add("microsoft", "msft-out", "d" + std::to_string(i) + ".test", false, "delivered", t0);
    }
    EXPECT_LE(w.keys(), 51u);
}

TEST(alert_windows, time_going_backwards_is_harmless) {
    alert_windows w({.window_seconds = 600, .min_reputation = 2, .min_ratio = 0.1});
    w.add("microsoft", "msft-out", "a.test", true, "ip_banned", t0 + 1000);
    EXPECT_EQ(w.add("microsoft", "msft-out", "a.test", true, "ip_banned", t0).size(), 2u);
}

}  // namespace
}  // namespace relaygate::watch
