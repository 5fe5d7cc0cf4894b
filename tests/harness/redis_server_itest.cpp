// redis_server_itest.cpp: the real redis-server answers PING, SET/GET, keeps
// nothing on disk, and is gone after stop.
#include <gtest/gtest.h>

#include "relaygate/harness/redis_server.hpp"
#include "relaygate/harness/wait.hpp"

namespace relaygate::harness {
namespace {

TEST(RedisServer, AnswersPingAndStoresValues) {
    redis_server redis;
    EXPECT_EQ(redis.command({"PING"}), "+PONG\r\n");
    EXPECT_EQ(redis.command({"SET", "relaygate:test", "v 1"}), "+OK\r\n");
    EXPECT_EQ(redis.command({"GET", "relaygate:test"}), "$3\r\nv 1\r\n");
    EXPECT_EQ(redis.command({"CONFIG", "GET", "save"}), "*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
    EXPECT_EQ(redis.command({"CONFIG", "GET", "appendonly"}), "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n");
}

TEST(RedisServer, StopEndsTheProcess) {
    redis_server redis;
    const pid_t pid = redis.pid();
    const auto port = redis.port();
    redis.stop();
    EXPECT_FALSE(pid_alive(pid));
    EXPECT_FALSE(tcp_connects("127.0.0.1", port));
}

}  // namespace
}  // namespace relaygate::harness
