// dns_resolver_itest.cpp: dns::resolver against the real unbound fixture —
// NXDOMAIN vs NODATA vs SERVFAIL vs timeout, callbacks exactly once under load,
// the in-flight limit queues instead of dropping, shutdown answers everything.
#include "relaygate/dns/dns_resolver.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <vector>

#include "relaygate/harness/dns_server.hpp"

namespace relaygate::dns {
namespace {

using namespace std::chrono_literals;

class dns_resolver_test : public ::testing::Test {
protected:
    static void SetUpTestSuite() { server_ = new harness::dns_server({"harness.conf"}); }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }
    static resolver_options options(std::chrono::milliseconds timeout = 1000ms, std::size_t in_flight = 4096) {
        return {.forwarders = {server_->forwarder()}, .timeout = timeout, .max_in_flight = in_flight};
    }
    static harness::dns_server* server_;
};
harness::dns_server* dns_resolver_test::server_ = nullptr;

// Counts callbacks per query index and lets the test wait for all of them.
struct tally {
    explicit tally(std::size_t n) : calls(n), results(n) {}
    std::mutex m;
    std::condition_variable cv;
    std::vector<int> calls;
    std::vector<status> results;
    std::size_t done = 0;
    resolver::callback for_index(std::size_t i) {
        return [this, i](const answer& a) {
            std::lock_guard lock(m);
            ++calls[i];
            results[i] = a.result;
            ++done;
            cv.notify_all();
        };
    }
    bool wait_all(std::chrono::seconds limit) {
        std::unique_lock lock(m);
        return cv.wait_for(lock, limit, [this] { return done >= calls.size(); });
    }
};

TEST_F(dns_resolver_test, tells_nxdomain_nodata_servfail_and_timeout_apart) {
    resolver r(options(800ms));
    EXPECT_EQ(r.resolve("absent.fixture.test", rr_type::a).result, status::nxdomain);
    EXPECT_EQ(r.resolve("host.fixture.test", rr_type::mx).result, status::nodata);
    EXPECT_EQ(r.resolve("x.servfail.test", rr_type::a).result, status::servfail);
    auto t = r.resolve("x.timeout.test", rr_type::a);
    EXPECT_EQ(t.result, status::timeout);
    EXPECT_NE(t.error_text.find("800 ms"), std::string::npos) << t.error_text;
}

TEST_F(dns_resolver_test, calls_back_exactly_once_per_query_under_load) {
    resolver r(options(1000ms, 16));
    const char* names[] = {"host.fixture.test", "absent.fixture.test", "x.servfail.test", "alias2.fixture.test"};
    const status expected[] = {status::ok, status::nxdomain, status::servfail, status::ok};
    constexpr std::size_t n = 400;
    tally t(n);
    for (std::size_t i = 0; i < n; ++i) r.resolve_async(names[i % 4], rr_type::a, t.for_index(i));
    ASSERT_TRUE(t.wait_all(30s));
    std::lock_guard lock(t.m);
    for (std::size_t i = 0; i < n; ++i) {
        EXPECT_EQ(t.calls[i], 1) << "query " << i;
        EXPECT_EQ(t.results[i], expected[i % 4]) << "query " << i << " " << names[i % 4];
    }
}

TEST_F(dns_resolver_test, queues_beyond_max_in_flight_instead_of_dropping) {
    resolver r(options(2000ms, 1));
    tally t(3);
    r.resolve_async("absent.fixture.test", rr_type::a, t.for_index(0));
    r.resolve_async("host.fixture.test", rr_type::a, t.for_index(1));
    r.resolve_async("alias2.fixture.test", rr_type::a, t.for_index(2));
    ASSERT_TRUE(t.wait_all(10s));
    std::lock_guard lock(t.m);
    EXPECT_EQ(t.results[0], status::nxdomain);
    EXPECT_EQ(t.results[1], status::ok);  // waited its turn
    EXPECT_EQ(t.results[2], status::ok);
}

// Issue 15: libunbound keeps a timed-out query's state until the query ends on
// its own, so the slot stays taken; what waits behind it is answered timeout
// unsent once it has waited the timeout, and nothing is ever answered twice.
TEST_F(dns_resolver_test, a_timed_out_query_keeps_its_slot_and_queued_ones_time_out_unsent) {
    resolver r(options(300ms, 1));
    tally t(3);
    r.resolve_async("a.timeout.test", rr_type::txt, t.for_index(0));
    r.resolve_async("b.timeout.test", rr_type::txt, t.for_index(1));
    r.resolve_async("c.timeout.test", rr_type::txt, t.for_index(2));
    ASSERT_TRUE(t.wait_all(10s));
    std::lock_guard lock(t.m);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(t.calls[i], 1) << i;
        EXPECT_EQ(t.results[i], status::timeout) << i;
    }
}

TEST_F(dns_resolver_test, answers_every_pending_query_when_destroyed) {
    tally t(3);
    {
        resolver r(options(60000ms, 1));
        r.resolve_async("a.timeout.test", rr_type::txt, t.for_index(0));  // in flight
        r.resolve_async("b.timeout.test", rr_type::txt, t.for_index(1));  // queued
        r.resolve_async("c.timeout.test", rr_type::txt, t.for_index(2));  // queued
    }
    ASSERT_TRUE(t.wait_all(1s));
    std::lock_guard lock(t.m);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(t.calls[i], 1);
        EXPECT_EQ(t.results[i], status::error);
    }
}

TEST_F(dns_resolver_test, survives_a_throwing_callback) {
    resolver r(options());
    r.resolve_async("host.fixture.test", rr_type::a, [](const answer&) { throw std::runtime_error("boom"); });
    EXPECT_EQ(r.resolve("host.fixture.test", rr_type::aaaa).result, status::ok);
}

TEST_F(dns_resolver_test, refuses_blocking_resolve_on_its_own_event_thread) {
    resolver r(options());
    std::promise<answer> inner;
    r.resolve_async("host.fixture.test", rr_type::a,
                    [&](const answer&) { inner.set_value(r.resolve("host.fixture.test", rr_type::a)); });
    auto a = inner.get_future().get();
    EXPECT_EQ(a.result, status::error);
    EXPECT_NE(a.error_text.find("deadlock"), std::string::npos);
}

TEST_F(dns_resolver_test, without_removing_the_builtin_test_zone_every_test_name_is_nxdomain) {
    auto o = options();
    o.remove_builtin_test_zone = false;
    resolver r(o);
    EXPECT_EQ(r.resolve("host.fixture.test", rr_type::a).result, status::nxdomain);
}

TEST_F(dns_resolver_test, rejects_a_malformed_forwarder_at_construction) {
    EXPECT_THROW(resolver(resolver_options{.forwarders = {"not an address"}}), std::runtime_error);
}

TEST_F(dns_resolver_test, reports_an_invalid_name_as_an_error_not_a_crash) {
    resolver r(options());
    std::string long_label(70, 'a');
    auto a = r.resolve(long_label + ".fixture.test", rr_type::a);
    EXPECT_NE(a.result, status::ok);
}

}  // namespace
}  // namespace relaygate::dns
