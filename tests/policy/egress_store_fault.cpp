// Fault suite (label fault) for relaygate-policy's steering when the egress
// store fails, with a real redis-server and the real daemon: Redis killed
// (kill -9) or hung (SIGSTOP) and egress.json corrupt while the failover is
// active (msft-spare) — the socketmap must never answer the designated
// transport (msft-out: the IP the failover took out); a restart of the daemon
// during the outage answers from the last-good file; Redis restarted empty
// keeps the failover until a route is written again, then converges.
#include <signal.h>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "policy_daemon.hpp"
#include "relaygate/egress/egress_state.hpp"
#include "relaygate/harness/redis_server.hpp"
#include "relaygate/harness/temp_dir.hpp"
#include "relaygate/harness/wait.hpp"

namespace relaygate::policy::testing {
namespace {

using namespace std::chrono_literals;
const std::string spare = "OK msft-spare:";
const std::string dunno = "action=DUNNO\n\n";

// n lookups of Microsoft-family recipients; every answer that is not `want` is returned.
std::vector<std::string> wrong_answers(const policy_daemon& d, const std::string& want, int n) {
    std::vector<std::string> wrong;
    client c(d.socketmap_port());
    for (int i = 0; i < n; ++i) {
        c.send(netstring("transport user" + std::to_string(i) + "@hotmail.com"));
        auto r = c.read_netstring();
        if (!r || *r != want) wrong.push_back(r.value_or("<no reply>"));
    }
    return wrong;
}

// A SIGSTOPped Redis is continued even when the test fails half way.
struct continued {
    pid_t pid;
    ~continued() { ::kill(pid, SIGCONT); }
};

class redis_fault : public ::testing::Test {
protected:
    std::unique_ptr<harness::redis_server> redis_ = std::make_unique<harness::redis_server>();
    std::uint16_t port_ = redis_->port();
    std::unique_ptr<egress::egress_store> store_ = egress::make_redis_egress_store({"127.0.0.1", port_});
    std::vector<std::string> conf_{"redis = 127.0.0.1:" + std::to_string(port_),
                                   "limit = sender_domain:recipients:1000/1h"};

    void fail_over(const policy_daemon& d) {
        ASSERT_TRUE(store_->set_active({"microsoft", "msft-spare", "dnsbl_listed", 1}));
        ASSERT_TRUE(harness::wait_until(
            [&] { return socketmap_query(d.socketmap_port(), "transport bob@hotmail.com") == spare; }, 3s));
    }
};

TEST_F(redis_fault, redis_killed_keeps_the_failover_and_a_restarted_empty_redis_converges_once_written) {
    policy_daemon d({.config = conf_});
    fail_over(d);
    ::kill(redis_->pid(), SIGKILL);
    EXPECT_TRUE(harness::wait_until([&] { return d.log().find("source=last_good") != std::string::npos; }, 5s))
        << "the view noticed the dead store";
    EXPECT_EQ(wrong_answers(d, spare, 2000), std::vector<std::string>{});
    EXPECT_EQ(policy_query(d.policy_port(), postfix_request("a@brand.example", "r@example.org")), dunno);
    redis_->release();  // already dead: nothing to stop
    // Restarted without its data: the store forgot the failover, steering keeps it.
    redis_ = std::make_unique<harness::redis_server>(port_);
    EXPECT_TRUE(harness::wait_until([&] { return d.log().find("egress_redis_reachable") != std::string::npos; }, 5s));
    EXPECT_EQ(wrong_answers(d, spare, 500), std::vector<std::string>{});
    // The watch (or relaygate-admin) writes the route again: steering follows.
    ASSERT_TRUE(harness::wait_until([&] { return store_->set_active({"microsoft", "msft-out", "delisted", 2}); }, 5s));
    EXPECT_TRUE(harness::wait_until(
        [&] { return socketmap_query(d.socketmap_port(), "transport bob@hotmail.com") == "OK msft-out:"; }, 3s));
}

TEST_F(redis_fault, redis_hung_by_sigstop_keeps_the_failover_and_both_protocols_answer) {
    policy_daemon d({.config = conf_});
    fail_over(d);
    ::kill(redis_->pid(), SIGSTOP);
    continued guard{redis_->pid()};
    EXPECT_TRUE(harness::wait_until([&] { return d.log().find("source=last_good") != std::string::npos; }, 5s));
    EXPECT_EQ(wrong_answers(d, spare, 2000), std::vector<std::string>{});
    for (int i = 0; i < 200; ++i) {
        ASSERT_EQ(policy_query(d.policy_port(), postfix_request("a@brand.example", "r@example.org")), dunno) << i;
    }
    // Logged once per change, not once per request: one breaker line, one fail-open warning.
    const std::string log = d.log();
    auto count = [&](const std::string& what) {
        std::size_t n = 0;
        for (auto p = log.find(what); p != std::string::npos; p = log.find(what, p + 1)) ++n;
        return n;
    };
    EXPECT_EQ(count("counters_redis_unreachable"), 1u) << log;
    EXPECT_EQ(count("warning: - policy action=fail_open"), 1u) << "the first fail-open at warning, the rest at debug";
    EXPECT_GE(count("debug: - policy action=fail_open"), 190u);
    ::kill(redis_->pid(), SIGCONT);
    // The breaker probes on the next request once its open period is over; the outage's end is logged once.
    EXPECT_TRUE(harness::wait_until(
        [&] {
            policy_query(d.policy_port(), postfix_request("a@brand.example", "r@example.org"));
            return d.log().find("fail_open_ended") != std::string::npos;
        },
        5s));
    EXPECT_NE(d.log().find("counters_redis_reachable"), std::string::npos);
}

TEST(egress_file_fault, a_corrupt_egress_json_keeps_the_last_good_route) {
    policy_daemon d;
    auto store = egress::make_file_egress_store((d.dir() / "egress.json").string());
    ASSERT_TRUE(store->set_active({"microsoft", "msft-spare", "dnsbl_listed", 1}));
    ASSERT_TRUE(harness::wait_until(
        [&] { return socketmap_query(d.socketmap_port(), "transport bob@hotmail.com") == spare; }, 3s));
    harness::write_file(d.dir() / "egress.json", "{\"families\": {\"microsoft\": {\"active_tr");
    EXPECT_TRUE(harness::wait_until([&] { return d.log().find("source=last_good") != std::string::npos; }, 5s));
    EXPECT_EQ(wrong_answers(d, spare, 1000), std::vector<std::string>{});
    EXPECT_NE(d.log().find("transport=msft-spare source=last_good"), std::string::npos);
}

TEST(egress_file_fault, a_daemon_restarted_while_the_store_is_corrupt_answers_from_the_last_good_file) {
    harness::temp_dir state("policy-state");
    {
        policy_daemon first({.state_dir = state.path().string()});
        auto store = egress::make_file_egress_store((state / "egress.json").string());
        ASSERT_TRUE(store->set_active({"microsoft", "msft-spare", "dnsbl_listed", 1}));
        ASSERT_TRUE(harness::wait_until(
            [&] { return socketmap_query(first.socketmap_port(), "transport bob@hotmail.com") == spare; }, 3s));
        ::kill(first.pid(), SIGKILL);
    }
    harness::write_file(state / "egress.json", "garbage");
    policy_daemon second({.state_dir = state.path().string()});
    EXPECT_EQ(wrong_answers(second, spare, 200), std::vector<std::string>{});
    EXPECT_NE(second.log().find("egress_last_good_loaded family=microsoft transport=msft-spare"), std::string::npos);
}

TEST(egress_file_fault, a_corrupt_store_with_no_route_ever_known_answers_temp_never_the_designated_transport) {
    harness::temp_dir state("policy-state");
    harness::write_file(state / "egress.json", "{not json");
    policy_daemon d({.config = {"mx-detection = false"}, .state_dir = state.path().string()});
    EXPECT_EQ(socketmap_query(d.socketmap_port(), "transport bob@hotmail.com"),
              "TEMP egress state unavailable and no last known route");
    EXPECT_EQ(socketmap_query(d.socketmap_port(), "transport bob@example.org"), "NOTFOUND ")
        << "only steered mail waits; the rest is not touched";
    // Repaired: steering resumes from the store.
    auto store = egress::make_file_egress_store((state / "egress.json").string());
    harness::write_file(state / "egress.json", "{\"families\":{}}\n");
    EXPECT_TRUE(harness::wait_until(
        [&] { return socketmap_query(d.socketmap_port(), "transport bob@hotmail.com") == "OK msft-out:"; }, 3s));
}

}  // namespace
}  // namespace relaygate::policy::testing
