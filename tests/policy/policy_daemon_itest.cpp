// The real daemon under hostile and operational conditions: garbage, huge
// lines, no terminator, half-closed sockets, thousands of idle connections,
// an egress flip, SIGHUP reload (good and bad), SIGTERM, and shared state in
// a real redis-server (two daemons, one quota; Redis down = fail-open).
#include <signal.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

#include "policy_daemon.hpp"
#include "relaygate/egress/egress_state.hpp"
#include "relaygate/harness/redis_server.hpp"
#include "relaygate/harness/temp_dir.hpp"
#include "relaygate/harness/wait.hpp"

namespace relaygate::policy::testing {
namespace {

using namespace std::chrono_literals;
const std::string dunno = "action=DUNNO\n\n";

TEST(policy_daemon_hostile, a_huge_line_closes_the_connection_without_a_reply) {
    policy_daemon d;
    client c(d.policy_port());
    c.send("request=smtpd_access_policy\nsender=" + std::string(100000, 'a'));
    std::string got;
    EXPECT_TRUE(c.wait_closed(&got));
    EXPECT_EQ(got, "");
    EXPECT_NE(d.log().find("malformed_request protocol=policy reason=line_too_long"), std::string::npos);
    EXPECT_EQ(policy_query(d.policy_port(), postfix_request("a@b.example", "r@example.org")), dunno);
}

TEST(policy_daemon_hostile, binary_garbage_closes_both_protocols_and_the_daemon_lives_on) {
    policy_daemon d;
    std::string junk;
    for (int i = 0; i < 4096; ++i) junk += static_cast<char>((i * 7919) & 0xff);
    for (auto port : {d.policy_port(), d.socketmap_port()}) {
        client c(port);
        c.send(junk);
        EXPECT_TRUE(c.wait_closed());
    }
    EXPECT_EQ(socketmap_query(d.socketmap_port(), "transport bob@hotmail.com"), "OK msft-out:");
}

TEST(policy_daemon_hostile, a_request_without_terminator_gets_nothing_and_eof_is_handled) {
    policy_daemon d;
    {
        client c(d.policy_port());
        c.send("request=smtpd_access_policy\nprotocol_state=RCPT\n");  // no empty line
        c.shutdown_write();
        std::string got;
        EXPECT_TRUE(c.wait_closed(&got));
        EXPECT_EQ(got, "");
    }
    {
        client c(d.socketmap_port());
        c.send("25:transport bob@hot");  // a partial netstring
        c.shutdown_write();
        std::string got;
        EXPECT_TRUE(c.wait_closed(&got));
        EXPECT_EQ(got, "");
    }
}

TEST(policy_daemon_hostile, a_half_closed_socket_still_gets_all_its_replies) {
    policy_daemon d;
    client c(d.policy_port());
    c.send(postfix_request("a@b.example", "r1@example.org") + postfix_request("a@b.example", "r2@example.org"));
    c.shutdown_write();
    std::string got;
    EXPECT_TRUE(c.wait_closed(&got));
    EXPECT_EQ(got, dunno + dunno);
}

TEST(policy_daemon_hostile, a_client_that_never_reads_does_not_stall_others) {
    policy_daemon d;
    client flood(d.socketmap_port());
    ::setsockopt(flood.fd(), SOL_SOCKET, SO_SNDBUF, "\0\0\1\0", 4);
    std::string batch;
    for (int i = 0; i < 2000; ++i) batch += netstring("transport bob@hotmail.com");
    for (int i = 0; i < 20; ++i) {
        if (::send(flood.fd(), batch.data(), batch.size(), MSG_DONTWAIT | MSG_NOSIGNAL) <= 0) break;
    }
    EXPECT_EQ(socketmap_query(d.socketmap_port(), "transport x@msn.com"), "OK msft-out:");
}

TEST(policy_daemon_hostile, thousands_of_idle_connections_are_held_and_a_new_one_is_served) {
    policy_daemon d;
    std::vector<std::unique_ptr<client>> idle;
    for (int i = 0; i < 3000; ++i)
        idle.push_back(std::make_unique<client>(i % 2 ? d.policy_port() : d.socketmap_port()));
    EXPECT_EQ(policy_query(d.policy_port(), postfix_request("a@b.example", "r@example.org")), dunno);
    // The idle ones are still open and usable.
    idle[1]->send(postfix_request("a@b.example", "r@example.org"));
    EXPECT_EQ(idle[1]->read_policy_reply(), dunno);
    idle[2998]->send(netstring("transport *"));
    EXPECT_EQ(idle[2998]->read_netstring(), "NOTFOUND ");
}

TEST(policy_daemon_hostile, connections_over_the_cap_are_closed_and_the_rest_still_served) {
    policy_daemon d({.config = {"max-connections = 10"}});
    std::vector<std::unique_ptr<client>> held;
    for (int i = 0; i < 10; ++i) held.push_back(std::make_unique<client>(d.policy_port()));
    client extra(d.policy_port());
    EXPECT_TRUE(extra.wait_closed());  // accepted and closed at once
    held[3]->send(postfix_request("a@b.example", "r@example.org"));
    EXPECT_EQ(held[3]->read_policy_reply(), dunno);
    held.pop_back();
    EXPECT_TRUE(harness::wait_until(
        [&] { return policy_query(d.policy_port(), postfix_request("a@b.example", "r@example.org")) == dunno; }, 5s));
    EXPECT_NE(d.log().find("connection_refused reason=max_connections"), std::string::npos);
}

TEST(policy_daemon_hostile, a_flood_of_policy_connections_does_not_take_the_socketmap_slots) {
    policy_daemon d({.config = {"max-connections = 10"}});
    std::vector<std::unique_ptr<client>> held;
    for (int i = 0; i < 10; ++i) held.push_back(std::make_unique<client>(d.policy_port()));
    client extra(d.policy_port());
    EXPECT_TRUE(extra.wait_closed()) << "the policy pool is full";
    EXPECT_EQ(socketmap_query(d.socketmap_port(), "transport bob@hotmail.com"), "OK msft-out:");
    EXPECT_NE(d.log().find("connection_refused reason=max_connections protocol=policy"), std::string::npos);
}

TEST(policy_daemon_hostile, a_request_trickled_a_byte_at_a_time_is_closed_at_its_deadline) {
    policy_daemon d({.config = {"request-deadline-ms = 1000"}});
    const std::string req = postfix_request("a@b.example", "r@example.org");
    const std::string lookup = netstring("transport " + std::string(200, 'a') + "@hotmail.com");
    client trickle(d.socketmap_port());
    client policy_trickle(d.policy_port());
    std::string got;
    bool closed = false;
    // One byte every 100 ms (each byte would restart an idle timer): never a complete request.
    for (std::size_t i = 0; i < 100 && !closed; ++i) {
        try {
            trickle.send(std::string(1, lookup[i]));
            policy_trickle.send(std::string(1, req[i]));
        } catch (const std::exception&) {
            closed = true;  // EPIPE/ECONNRESET: the daemon closed it
        }
        std::this_thread::sleep_for(100ms);
        got += trickle.available();
        if (d.log().find("request_deadline_exceeded") != std::string::npos) closed = true;
    }
    EXPECT_TRUE(closed) << "still open after 10 s of trickling";
    EXPECT_TRUE(trickle.wait_closed(&got));
    EXPECT_TRUE(policy_trickle.wait_closed());
    EXPECT_EQ(got, "");
    EXPECT_EQ(policy_query(d.policy_port(), req), dunno) << "others are served";
}

TEST(policy_daemon_hostile, running_out_of_descriptors_refuses_without_spinning_or_dying) {
    policy_daemon d({.wrapper = {"prlimit", "--nofile=48:48", "--"}});
    std::vector<std::unique_ptr<client>> flood;
    for (int i = 0; i < 80; ++i) flood.push_back(std::make_unique<client>(d.socketmap_port()));
    EXPECT_TRUE(harness::wait_until(
        [&] { return d.log().find("connection_refused reason=out_of_file_descriptors") != std::string::npos; }, 5s));
    flood.clear();
    EXPECT_TRUE(harness::wait_until(
        [&] { return socketmap_query(d.socketmap_port(), "transport bob@hotmail.com") == "OK msft-out:"; }, 5s));
}

TEST(policy_daemon_ops, postfix_postmap_queries_the_socketmap_over_a_unix_socket) {
    policy_daemon d({.socketmap_unix = true});
    harness::write_file(d.dir() / "main.cf", "compatibility_level = 3.6\n");
    auto q = [&](const std::string& key) {
        return harness::run_command({"postmap", "-c", d.dir().path().string(), "-q", key,
                                     "socketmap:unix:" + d.socketmap_path() + ":transport"},
                                    10s);
    };
    auto steered = q("Bob@Hotmail.com");
    EXPECT_EQ(steered.exit_code, 0) << steered.output;
    EXPECT_EQ(steered.output, "msft-out:\n");
    auto other = q("alice@[192.0.2.1]");  // NOTFOUND: postmap exits 1 and prints nothing
    EXPECT_EQ(other.exit_code, 1) << other.output;
    EXPECT_EQ(other.output, "");
}

TEST(policy_daemon_ops, an_egress_flip_applies_to_the_next_lookups) {
    policy_daemon d;
    EXPECT_EQ(socketmap_query(d.socketmap_port(), "transport bob@hotmail.com"), "OK msft-out:");
    auto store = egress::make_file_egress_store((d.dir() / "egress.json").string());
    ASSERT_TRUE(store->set_active({"microsoft", "msft-spare", "dnsbl_listed", 1}));
    EXPECT_TRUE(harness::wait_until(
        [&] { return socketmap_query(d.socketmap_port(), "transport bob@hotmail.com") == "OK msft-spare:"; }, 2s));
    // An egress state naming a transport the config does not know falls back to the designated one.
    ASSERT_TRUE(store->set_active({"microsoft", "bogus-out", "typo", 2}));
    EXPECT_TRUE(harness::wait_until(
        [&] { return socketmap_query(d.socketmap_port(), "transport bob@hotmail.com") == "OK msft-out:"; }, 2s));
}

TEST(policy_daemon_ops, sighup_reloads_the_domain_list_and_keeps_the_old_one_when_broken) {
    policy_daemon d({.config = {"mx-wait-ms = 200"}});
    EXPECT_EQ(socketmap_query(d.socketmap_port(), "transport x@newtenant.example"),
              "TEMP MX lookup for newtenant.example failed or timed out");
    harness::write_file(d.dir() / "microsoft-domains", "hotmail.*\nnewtenant.example\n");
    d.signal(SIGHUP);
    EXPECT_TRUE(harness::wait_until([&] { return d.log().find("reload_done") != std::string::npos; }, 5s));
    EXPECT_EQ(socketmap_query(d.socketmap_port(), "transport x@newtenant.example"), "OK msft-out:");
    harness::write_file(d.dir() / "microsoft-domains", "hotmail.*\nbad entry here\n");
    d.signal(SIGHUP);
    EXPECT_TRUE(
        harness::wait_until([&] { return d.log().find("reload_failed keeping=old_config") != std::string::npos; }, 5s));
    EXPECT_NE(d.log().find("microsoft-domains:2: bad domain"), std::string::npos) << d.log();
    EXPECT_EQ(socketmap_query(d.socketmap_port(), "transport x@newtenant.example"), "OK msft-out:");
}

TEST(policy_daemon_ops, sigterm_exits_cleanly) {
    policy_daemon d;
    d.signal(SIGTERM);
    EXPECT_EQ(d.wait_for_exit(5s), 0);
    EXPECT_NE(d.log().find("- stopped"), std::string::npos);
}

TEST(policy_daemon_ops, a_bad_config_key_names_file_and_line) {
    harness::temp_dir dir("policy-conf");
    harness::write_file(dir / "p.conf", "# comment\nlimit = sender_domain:recipients:10/1h\nno-such-key = 1\n");
    auto r = harness::run_command(
        {std::string(RELAYGATE_BINARY_DIR) + "/policy/relaygate-policy", "--config", (dir / "p.conf").string()}, 10s);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.output.find("p.conf:3"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("no-such-key"), std::string::npos) << r.output;
}

TEST(policy_daemon_redis, two_daemons_sharing_one_redis_enforce_one_quota) {
    harness::redis_server redis;
    std::vector<std::string> conf{"redis = 127.0.0.1:" + std::to_string(redis.port()),
                                  "limit = sender_domain:recipients:3/1h"};
    policy_daemon a({.config = conf});
    policy_daemon b({.config = conf});
    auto req = postfix_request("news@brand.example", "r@example.org");
    EXPECT_EQ(policy_query(a.policy_port(), req), dunno);
    EXPECT_EQ(policy_query(b.policy_port(), req), dunno);
    EXPECT_EQ(policy_query(a.policy_port(), req), dunno);
    std::string over = policy_query(b.policy_port(), req);
    EXPECT_EQ(over.rfind("action=DEFER_IF_PERMIT 4.7.1 Sender domain brand.example is over its limit of 3", 0), 0u)
        << over;
    EXPECT_EQ(policy_query(a.policy_port(), req).rfind("action=DEFER_IF_PERMIT 4.7.1", 0), 0u);
}

TEST(policy_daemon_redis, both_daemons_follow_one_egress_state_in_redis) {
    harness::redis_server redis;
    std::vector<std::string> conf{"redis = 127.0.0.1:" + std::to_string(redis.port())};
    policy_daemon a({.config = conf});
    policy_daemon b({.config = conf});
    auto store = egress::make_redis_egress_store({"127.0.0.1", redis.port()});
    ASSERT_TRUE(store->set_active({"microsoft", "msft-spare", "manual", 1}));
    for (auto* d : {&a, &b}) {
        EXPECT_TRUE(harness::wait_until(
            [&] { return socketmap_query(d->socketmap_port(), "transport bob@hotmail.com") == "OK msft-spare:"; }, 2s));
    }
}

TEST(policy_daemon_redis, redis_down_fails_open_with_dunno_and_keeps_the_last_known_transport) {
    auto redis = std::make_unique<harness::redis_server>();
    std::vector<std::string> conf{"redis = 127.0.0.1:" + std::to_string(redis->port()),
                                  "limit = sender_domain:recipients:1/1h"};
    policy_daemon d({.config = conf});
    auto store = egress::make_redis_egress_store({"127.0.0.1", redis->port()});
    ASSERT_TRUE(store->set_active({"microsoft", "msft-spare", "manual", 1}));
    ASSERT_TRUE(harness::wait_until(
        [&] { return socketmap_query(d.socketmap_port(), "transport bob@hotmail.com") == "OK msft-spare:"; }, 3s));
    auto req = postfix_request("news@brand.example", "r@example.org");
    EXPECT_EQ(policy_query(d.policy_port(), req), dunno);
    EXPECT_NE(policy_query(d.policy_port(), req), dunno);  // over the quota while Redis is up
    redis->stop();
    EXPECT_EQ(policy_query(d.policy_port(), req), dunno);  // fail-open
    EXPECT_TRUE(harness::wait_until([&] { return d.log().find("policy action=fail_open") != std::string::npos; }, 2s));
    // Steering never returns to the designated transport (the IP the failover took out).
    EXPECT_TRUE(harness::wait_until([&] { return d.log().find("source=last_good") != std::string::npos; }, 3s));
    EXPECT_EQ(socketmap_query(d.socketmap_port(), "transport bob@hotmail.com"), "OK msft-spare:");
}

}  // namespace
}  // namespace relaygate::policy::testing
