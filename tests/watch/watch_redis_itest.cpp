// watch_redis_itest.cpp: the Redis egress path. The real relaygate-watch with
// --redis on a real redis-server (loopback, free port) reads the Postfix 3.7
// capture, flips microsoft to msft-spare and writes the route into the hash
// "<prefix>egress"; the real relaygate-policy with --redis on the same server
// (its egress_view polling the Redis egress_store) then steers Microsoft
// recipients to msft-spare over its socketmap.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "relaygate/harness/child_process.hpp"
#include "relaygate/harness/free_port.hpp"
#include "relaygate/harness/redis_server.hpp"
#include "relaygate/harness/temp_dir.hpp"
#include "relaygate/harness/wait.hpp"
#include "socketmap_client.hpp"

namespace relaygate::watch {
namespace {

using namespace std::chrono_literals;
using harness::read_file;
using harness::write_file;
using test_support::socketmap_lookup;

const std::string bin = RELAYGATE_BINARY_DIR;

std::string capture_until_reload() {
    std::ifstream in(std::string(RELAYGATE_SOURCE_DIR) + "/tests/testdata/watch/postfix37.log");
    std::string out;
    for (std::string l; std::getline(in, l);) {
        if (l.find("refreshing the Postfix mail system") != std::string::npos) break;
        out += l + "\n";
    }
    return out;
}

// The bulk reply of HGET, or "" for nil/errors.
std::string hget(const harness::redis_server& r, const std::string& key, const std::string& field) {
    const std::string raw = r.command({"HGET", key, field});
    if (!raw.starts_with("$") || raw.starts_with("$-1")) return "";
    const auto crlf = raw.find("\r\n");
    return raw.substr(crlf + 2, std::stoul(raw.substr(1, crlf - 1)));
}

TEST(watch_redis, a_flip_lands_in_redis_and_the_policy_daemon_steers_to_the_spare) {
    harness::temp_dir dir("watch-redis");
    harness::redis_server redis;
    const std::string where = "127.0.0.1:" + std::to_string(redis.port());
    const std::string prefix = "rgtest:";

    write_file(dir / "microsoft-domains", "outlook.test\n");
    const auto map_port = harness::free_port();
    harness::child_process policy(
        {.argv = {bin + "/policy/relaygate-policy", "--policy-listen", "",
                  "--socketmap-listen=inet:127.0.0.1:" + std::to_string(map_port),
                  "--microsoft-domains=" + (dir / "microsoft-domains").string(), "--transport-nexthop=[127.0.0.1]:2525",
                  "--mx-detection=0", "--redis=" + where, "--redis-prefix=" + prefix, "--log-sink=stderr"},
         .stderr_path = dir / "policy.err"});
    ASSERT_TRUE(harness::wait_until([&] { return harness::tcp_connects("127.0.0.1", map_port); }, 10s))
        << read_file(dir / "policy.err");
    EXPECT_EQ(socketmap_lookup(map_port, "transport bob@outlook.test"), "OK msft-out:[127.0.0.1]:2525");

    write_file(dir / "maillog", capture_until_reload());
    harness::child_process watch(
        {.argv = {bin + "/watch/relaygate-watch", "--reverify=off", "--maillog=" + (dir / "maillog").string(),
                  "--state-dir=" + (dir / "state").string(), "--redis=" + where, "--redis-prefix=" + prefix,
                  "--transport=postfix/msft-out=msft-out,microsoft,127.0.0.2",
                  "--transport=postfix/msft-spare=msft-spare,microsoft,127.0.0.3",
                  "--failover=microsoft=msft-out,msft-spare,127.0.0.2", "--requeue=false", "--metrics-listen", "",
                  "--log-sink=stderr"},
         .stderr_path = dir / "watch.err"});
    std::string route;
    ASSERT_TRUE(harness::wait_until(
        [&] {
            route = hget(redis, prefix + "egress", "microsoft");
            return !route.empty();
        },
        20s))
        << read_file(dir / "watch.err");
    const auto j = nlohmann::json::parse(route);
    EXPECT_EQ(j.at("active_transport"), "msft-spare") << route;
    EXPECT_TRUE(j.at("reason").get<std::string>().starts_with("reputation_alert")) << route;
    EXPECT_NE(read_file(dir / "watch.err").find("flip family=microsoft from=msft-out to=msft-spare"),
              std::string::npos);

    // relaygate-policy re-reads the egress state every 100 ms.
    EXPECT_TRUE(harness::wait_until(
        [&] { return socketmap_lookup(map_port, "transport bob@outlook.test") == "OK msft-spare:[127.0.0.1]:2525"; },
        5s))
        << read_file(dir / "policy.err");

    // A restarted watch takes its state from Redis: still on the spare, no second flip.
    ::kill(watch.pid(), SIGTERM);
    EXPECT_EQ(watch.wait_for_exit(10s), 0);
    const auto again = harness::run_command(
        {bin + "/watch/relaygate-watch", "--reverify=off", "--maillog=" + (dir / "maillog").string(),
         "--state-dir=" + (dir / "state").string(), "--redis=" + where, "--redis-prefix=" + prefix,
         "--failover=microsoft=msft-out,msft-spare,127.0.0.2", "--metrics-listen", "", "--log-sink=stderr",
         "--exit-at-eof"},
        30s);
    EXPECT_EQ(again.exit_code, 0) << again.output;
    EXPECT_NE(again.output.find("failover family=microsoft active=msft-spare"), std::string::npos) << again.output;
    EXPECT_EQ(again.output.find(" flip "), std::string::npos) << again.output;
}

}  // namespace
}  // namespace relaygate::watch
