// dns_server_itest.cpp: the DNS fixture answers each record kind exactly as
// tests/testdata/dns/harness.conf says, and SERVFAIL / no answer for the
// built-in servfail.test. / timeout.test. names — seen through dns::resolver.
#include "relaygate/harness/dns_server.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

#include "relaygate/dns/dns_resolver.hpp"

namespace relaygate::harness {
namespace {

using dns::rr_type;
using dns::status;
using ::testing::ElementsAre;

class dns_server_test : public ::testing::Test {
protected:
    static void SetUpTestSuite() { server_ = new dns_server({"harness.conf"}); }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }
    static dns::resolver_options options() {
        return {.forwarders = {server_->forwarder()}, .timeout = std::chrono::milliseconds(1500)};
    }
    dns::resolver resolver_{options()};
    static dns_server* server_;
};
dns_server* dns_server_test::server_ = nullptr;

TEST_F(dns_server_test, serves_a_txt_record) {
    auto a = resolver_.resolve("fixture.test", rr_type::txt);
    ASSERT_EQ(a.result, status::ok) << a.error_text;
    EXPECT_THAT(a.txt, ElementsAre("v=spf1 ip4:192.0.2.10 -all"));
    EXPECT_FALSE(a.packet.empty());
}

TEST_F(dns_server_test, joins_the_strings_of_one_txt_record) {
    auto a = resolver_.resolve("multi.fixture.test", rr_type::txt);
    ASSERT_EQ(a.result, status::ok) << a.error_text;
    EXPECT_THAT(a.txt, ElementsAre("first part, second part"));
}

TEST_F(dns_server_test, keeps_two_txt_records_apart) {
    auto a = resolver_.resolve("two.fixture.test", rr_type::txt);
    ASSERT_EQ(a.result, status::ok) << a.error_text;
    EXPECT_THAT(a.txt, ::testing::UnorderedElementsAre("record one", "record two"));
}

TEST_F(dns_server_test, serves_mx_sorted_by_preference_in_lower_case) {
    auto a = resolver_.resolve("FIXTURE.test.", rr_type::mx);
    ASSERT_EQ(a.result, status::ok) << a.error_text;
    ASSERT_EQ(a.mx.size(), 2u);
    EXPECT_EQ(a.mx[0].preference, 10);
    EXPECT_EQ(a.mx[0].exchange, "mx1.fixture.test");
    EXPECT_EQ(a.mx[1].preference, 20);
    EXPECT_EQ(a.mx[1].exchange, "mx2.fixture.test");
}

TEST_F(dns_server_test, serves_a_and_aaaa) {
    auto v4 = resolver_.resolve("host.fixture.test", rr_type::a);
    ASSERT_EQ(v4.result, status::ok) << v4.error_text;
    EXPECT_THAT(v4.addresses, ElementsAre("192.0.2.53"));
    auto v6 = resolver_.resolve("host.fixture.test", rr_type::aaaa);
    ASSERT_EQ(v6.result, status::ok) << v6.error_text;
    EXPECT_THAT(v6.addresses, ElementsAre("2001:db8::53"));
}

TEST_F(dns_server_test, follows_a_cname_chain_to_the_canonical_name) {
    auto a = resolver_.resolve("alias2.fixture.test", rr_type::a);
    ASSERT_EQ(a.result, status::ok) << a.error_text;
    EXPECT_EQ(a.qname, "alias2.fixture.test");
    EXPECT_EQ(a.canonical_name, "host.fixture.test");
    EXPECT_THAT(a.addresses, ElementsAre("192.0.2.53"));
}

TEST_F(dns_server_test, answers_a_cname_query_with_the_target) {
    auto a = resolver_.resolve("alias.fixture.test", rr_type::cname);
    ASSERT_EQ(a.result, status::ok) << a.error_text;
    EXPECT_THAT(a.names, ElementsAre("host.fixture.test"));
}

TEST_F(dns_server_test, reports_the_record_ttl) {
    auto a = resolver_.resolve("ttl.fixture.test", rr_type::a);
    ASSERT_EQ(a.result, status::ok) << a.error_text;
    EXPECT_GT(a.ttl, 0u);
    EXPECT_LE(a.ttl, 42u);
}

TEST_F(dns_server_test, answers_nxdomain_with_the_soa_negative_ttl) {
    auto a = resolver_.resolve("absent.fixture.test", rr_type::txt);
    EXPECT_EQ(a.result, status::nxdomain);
    EXPECT_GT(a.ttl, 0u);
    EXPECT_LE(a.ttl, 120u);  // min(SOA TTL 3600, MINIMUM 120)
}

TEST_F(dns_server_test, answers_nodata_for_a_missing_type) {
    auto a = resolver_.resolve("host.fixture.test", rr_type::txt);
    EXPECT_EQ(a.result, status::nodata);
}

TEST_F(dns_server_test, answers_nxdomain_for_names_outside_every_zone) {
    EXPECT_EQ(resolver_.resolve("www.example.org", rr_type::a).result, status::nxdomain);
}

TEST_F(dns_server_test, answers_servfail_under_servfail_test) {
    auto a = resolver_.resolve("anything.servfail.test", rr_type::txt);
    EXPECT_EQ(a.result, status::servfail) << a.error_text;
}

TEST_F(dns_server_test, never_answers_under_timeout_test) {
    auto a = resolver_.resolve("anything.timeout.test", rr_type::txt);
    EXPECT_EQ(a.result, status::timeout) << a.error_text;
    // The forwarder is still usable afterwards.
    EXPECT_EQ(resolver_.resolve("host.fixture.test", rr_type::a).result, status::ok);
}

TEST(dns_server, starts_on_a_given_port_and_stops_by_pid) {
    std::uint16_t port = 0;
    {
        dns_server probe({"harness.conf"});
        port = probe.port();
    }  // free again now
    dns_server server({"harness.conf"}, port);
    EXPECT_EQ(server.port(), port);
    EXPECT_EQ(server.forwarder(), "127.0.0.1@" + std::to_string(port));
    pid_t pid = server.pid();
    ASSERT_GT(pid, 0);
    EXPECT_EQ(kill(pid, 0), 0);
    server.stop();
    EXPECT_NE(kill(pid, 0), 0);  // reaped: the PID is gone
    server.stop();               // idempotent
}

TEST(dns_server, takes_zone_file_paths_relative_to_the_current_directory) {
    auto previous = std::filesystem::current_path();
    std::filesystem::current_path(dns_server::testdata_dir());
    try {
        dns_server server({"./harness.conf"});
        std::filesystem::current_path(previous);
        dns::resolver r({.forwarders = {server.forwarder()}});
        EXPECT_EQ(r.resolve("host.fixture.test", rr_type::a).result, status::ok);
    } catch (...) {
        std::filesystem::current_path(previous);
        throw;
    }
}

TEST(dns_server, fails_loudly_when_the_given_port_is_taken) {
    dns_server first({"harness.conf"});
    try {
        dns_server second({"harness.conf"}, first.port());
        FAIL() << "a second server started on port " << first.port();
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("already in use"), std::string::npos) << e.what();
    }
    EXPECT_EQ(dns::resolver({.forwarders = {first.forwarder()}}).resolve("host.fixture.test", rr_type::a).result,
              status::ok);
}

TEST(dns_server, rejects_a_missing_zone_file_loudly) {
    EXPECT_THROW(dns_server({"no-such-zone.conf"}), std::runtime_error);
}

TEST(dns_server, reports_unbound_errors_in_a_zone_file) {
    EXPECT_THROW(dns_server({"harness.conf"}, 0, {"local-data: \"broken record\""}), std::runtime_error);
}

}  // namespace
}  // namespace relaygate::harness
