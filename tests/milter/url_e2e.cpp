// url_e2e: the URL check through a real private Postfix, mail sent with swaks to
// a real smtp-sink, the test URI blocklist zone (testdata/milter/url-dns.conf)
// and the DKIM records served by the real unbound fixture on 127.0.0.1:53 in the
// test's network namespace. A link to a listed domain gets each configured
// action (warn header, hold queue, 451, 550 naming the domain); a shortener link
// gets the header; a zone error code is "unknown" (header, delivered); a clean
// message is untouched and its DKIM signature verifies, and so does a signed
// message that got the header (it is added after signing, h= does not name it).
#include <gtest/gtest.h>

#include "dkim_dump_verify.hpp"
#include "milter_fixture.hpp"
#include "relaygate/harness/dns_server.hpp"
#include "relaygate/harness/netns.hpp"
#include "relaygate/harness/postfix_instance.hpp"
#include "relaygate/harness/smtp_sink.hpp"
#include "relaygate/harness/swaks.hpp"
#include "relaygate/harness/wait.hpp"

namespace relaygate::milter::testing {
namespace {

using namespace std::chrono_literals;

class url_e2e : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_EQ(harness::private_netns_problem(), "");
        dns = std::make_unique<harness::dns_server>(
            std::vector<std::string>{testdata + "dns.conf", testdata + "url-dns.conf"}, 53);
        sink = std::make_unique<harness::smtp_sink>();
    }
    // Starts the milter with the URL check on (plus args) and a Postfix in front of it.
    void start(std::vector<std::string> args) {
        std::vector<std::string> all{
            "--socket-mode",        "0666",
            "--url-check",          "true",
            "--url-blocklist",      "uribl.example.net=127.0.1.2-127.0.1.99",
            "--url-shortener-file", std::string(RELAYGATE_SOURCE_DIR) + "/postfix-conf/url-shorteners"};
        all.insert(all.end(), args.begin(), args.end());
        milter = std::make_unique<milter_process>(all, "url-e2e");
        postfix = std::make_unique<harness::postfix_instance>(harness::postfix_options{
            .relayhost = sink->nexthop(),
            .main_cf = {"smtpd_milters = " + milter->socket_spec(), "non_smtpd_milters = " + milter->socket_spec(),
                        "milter_default_action = tempfail", "milter_protocol = 6"}});
    }
    void TearDown() override {
        postfix.reset();
        sink.reset();
        milter.reset();
        dns.reset();
    }
    harness::swaks_result send(const std::string& from, const std::string& body) {
        return harness::swaks_send(
            {.port = postfix->smtp_port(),
             .from = "bounce@relay.example.net",
             .to = {"alice@example.net"},
             .headers = {"From: " + from, "Subject: relaygate url e2e", "Content-Type: text/html; charset=utf-8"},
             .body = body});
    }

    std::unique_ptr<harness::dns_server> dns;
    std::unique_ptr<milter_process> milter;
    std::unique_ptr<harness::smtp_sink> sink;
    std::unique_ptr<harness::postfix_instance> postfix;
};

const std::string listed_body = "<p>Pay <a href=\"https://login.EVIL.example/pay?a=1&amp;b=2\">here</a></p>";

TEST_F(url_e2e, a_listed_link_with_warn_is_delivered_with_the_header_and_a_valid_signature) {
    start({});
    auto r = send("News <news@verified.example>", listed_body);
    ASSERT_TRUE(r.data_reply().has_value()) << r.transcript;
    EXPECT_TRUE(r.data_reply()->starts_with("250 ")) << *r.data_reply();
    ASSERT_TRUE(sink->wait_for_messages(1));
    auto m = sink->messages().front();
    EXPECT_EQ(m.header("X-Relaygate-URL-Risk").value_or("(none)"), "listed=evil.example (uribl.example.net:127.0.1.2)");
    ASSERT_TRUE(m.header("DKIM-Signature").has_value());
    EXPECT_EQ(verify_dump(m.file), "ok") << harness::read_file(m.file);
    EXPECT_TRUE(harness::wait_until(
        [&] { return milter->log().find("url_action=warn url_risk=listed") != std::string::npos; }, 10s))
        << milter->log();
}

TEST_F(url_e2e, b_a_listed_link_with_reject_gets_550_naming_the_domain) {
    start({"--url-listed-action", "reject"});
    auto r = send("News <news@verified.example>", listed_body);
    ASSERT_TRUE(r.data_reply().has_value()) << r.transcript;
    EXPECT_TRUE(r.data_reply()->starts_with("550 5.7.1 ")) << *r.data_reply();
    EXPECT_NE(r.data_reply()->find("evil.example"), std::string::npos) << *r.data_reply();
    EXPECT_TRUE(sink->messages().empty());
}

TEST_F(url_e2e, c_a_listed_link_with_tempfail_gets_451) {
    start({"--url-listed-action", "tempfail"});
    auto r = send("News <news@verified.example>", listed_body);
    ASSERT_TRUE(r.data_reply().has_value()) << r.transcript;
    EXPECT_TRUE(r.data_reply()->starts_with("451 4.7.1 ")) << *r.data_reply();
    EXPECT_TRUE(sink->messages().empty());
}

TEST_F(url_e2e, d_a_listed_link_with_hold_goes_to_the_hold_queue) {
    start({"--url-listed-action", "hold"});
    auto r = send("News <news@verified.example>", listed_body);
    ASSERT_TRUE(r.data_reply().has_value()) << r.transcript;
    EXPECT_TRUE(r.data_reply()->starts_with("250 ")) << *r.data_reply();
    const std::string qid = r.queue_id();
    ASSERT_FALSE(qid.empty()) << r.transcript;
    // postqueue -p marks a held message with '!' after its queue id.
    EXPECT_TRUE(harness::wait_until([&] { return postfix->queue_listing().find(qid + "!") != std::string::npos; }, 10s))
        << postfix->queue_listing();
    EXPECT_TRUE(sink->messages().empty());
}

TEST_F(url_e2e, e_a_per_sender_action_overrides_the_default) {
    start({"--url-sender-action", "verified.example:listed=reject"});
    auto r = send("News <news@verified.example>", listed_body);
    ASSERT_TRUE(r.data_reply().has_value()) << r.transcript;
    EXPECT_TRUE(r.data_reply()->starts_with("550 5.7.1 ")) << *r.data_reply();
    auto other = send("News <news@relay.example.net>", listed_body);
    ASSERT_TRUE(other.data_reply().has_value()) << other.transcript;
    EXPECT_TRUE(other.data_reply()->starts_with("250 ")) << *other.data_reply();
}

TEST_F(url_e2e, f_a_shortener_link_gets_the_header) {
    start({});
    auto r = send("News <news@relay.example.net>", "<a href=\"https://bit.ly/3xYz\">see</a>");
    ASSERT_TRUE(r.data_reply().has_value()) << r.transcript;
    EXPECT_TRUE(r.data_reply()->starts_with("250 ")) << *r.data_reply();
    ASSERT_TRUE(sink->wait_for_messages(1));
    EXPECT_EQ(sink->messages().front().header("X-Relaygate-URL-Risk").value_or("(none)"), "shortener=bit.ly");
}

TEST_F(url_e2e, g_an_error_code_is_unknown_never_listed) {
    start({"--url-listed-action", "reject"});
    auto r = send("News <news@relay.example.net>", "<a href=\"http://www.refused.example/\">x</a>");
    ASSERT_TRUE(r.data_reply().has_value()) << r.transcript;
    EXPECT_TRUE(r.data_reply()->starts_with("250 ")) << *r.data_reply();
    ASSERT_TRUE(sink->wait_for_messages(1));
    EXPECT_EQ(sink->messages().front().header("X-Relaygate-URL-Risk").value_or("(none)"),
              "unknown=refused.example (uribl.example.net:127.255.255.254)");
}

TEST_F(url_e2e, h_a_clean_message_is_untouched_and_still_verifies) {
    start({"--url-listed-action", "reject"});
    auto r = send("News <news@verified.example>", "<a href=\"https://clean.example/offer\">offer</a> www.shop.example");
    ASSERT_TRUE(r.data_reply().has_value()) << r.transcript;
    EXPECT_TRUE(r.data_reply()->starts_with("250 ")) << *r.data_reply();
    ASSERT_TRUE(sink->wait_for_messages(1));
    auto m = sink->messages().front();
    EXPECT_FALSE(m.header("X-Relaygate-URL-Risk").has_value());
    ASSERT_TRUE(m.header("DKIM-Signature").has_value());
    EXPECT_EQ(verify_dump(m.file), "ok") << harness::read_file(m.file);
    EXPECT_TRUE(
        harness::wait_until([&] { return milter->log().find("url_action=pass urls=2") != std::string::npos; }, 10s))
        << milter->log();
}

}  // namespace
}  // namespace relaygate::milter::testing
