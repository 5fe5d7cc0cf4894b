// The Redis egress store against a real redis-server: two stores (two MTAs)
// share one failover state; an unreachable Redis answers nullopt / false
// (fail-open to the designated transport) and the store recovers on restart.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include "relaygate/egress/egress_state.hpp"
#include "relaygate/harness/free_port.hpp"
#include "relaygate/harness/redis_server.hpp"

namespace relaygate::egress {
namespace {

using relaygate::harness::redis_server;

TEST(egress_redis_store, two_stores_share_one_failover_state) {
    redis_server redis;
    auto mta1 = make_redis_egress_store("127.0.0.1", redis.port(), "t1:");
    auto mta2 = make_redis_egress_store("127.0.0.1", redis.port(), "t1:");
    EXPECT_FALSE(mta2->active("microsoft").has_value());
    ASSERT_TRUE(mta1->set_active({"microsoft", "msft-spare", "dnsbl_listed", 42}));
    auto route = mta2->active("microsoft");
    ASSERT_TRUE(route.has_value());
    EXPECT_EQ(route->active_transport, "msft-spare");
    EXPECT_EQ(route->reason, "dnsbl_listed");
    EXPECT_EQ(route->since, 42);
    ASSERT_EQ(mta2->all().size(), 1u);
}

TEST(egress_redis_store, prefixes_keep_deployments_apart) {
    redis_server redis;
    auto a = make_redis_egress_store("127.0.0.1", redis.port(), "a:");
    auto b = make_redis_egress_store("127.0.0.1", redis.port(), "b:");
    ASSERT_TRUE(a->set_active({"microsoft", "msft-spare", "r", 1}));
    EXPECT_FALSE(b->active("microsoft").has_value());
}

TEST(egress_redis_store, an_unreachable_redis_fails_open_and_recovers) {
    auto redis = std::make_unique<redis_server>();
    int port = redis->port();
    auto store = make_redis_egress_store("127.0.0.1", port);
    ASSERT_TRUE(store->set_active({"microsoft", "msft-spare", "r", 1}));
    redis->stop();
    EXPECT_FALSE(store->active("microsoft").has_value());
    EXPECT_FALSE(store->set_active({"microsoft", "msft-out", "r", 2}));
    EXPECT_TRUE(store->all().empty());
    // Restarted (empty) on the same port: the store reconnects after its 1 s back-off.
    redis = std::make_unique<redis_server>(port);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    EXPECT_TRUE(store->set_active({"microsoft", "msft-out", "back", 3}));
    EXPECT_EQ(store->active("microsoft")->active_transport, "msft-out");
}

TEST(egress_redis_store, a_never_started_redis_answers_fast_with_nothing) {
    auto store = make_redis_egress_store("127.0.0.1", relaygate::harness::free_port());
    EXPECT_FALSE(store->active("microsoft").has_value());
    EXPECT_FALSE(store->set_active({"microsoft", "msft-out", "r", 2}));
}

}  // namespace
}  // namespace relaygate::egress
