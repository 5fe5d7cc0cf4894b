// milter_e2e: relaygate-milter behind a real private Postfix, mail sent with
// swaks, delivered to a real smtp-sink, DKIM records served by the real
// unbound fixture on 127.0.0.1:53 inside the test's network namespace:
// (a) operator From delivered, (b) verified customer From delivered with a
// DKIM-Signature libopendkim verifies through DNS, (c) unregistered From 550
// at end of data + exactly one rejection-log line, (d) SPF not covering an
// outbound IP 550 naming it, (e) milter down: 4xx and nothing accepted,
// (f) a registry reload changes the verdict for the next message.
// The verification state comes from a state file written by the test.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

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

class milter_e2e : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_EQ(harness::private_netns_problem(), "");
        dns = std::make_unique<harness::dns_server>(std::vector<std::string>{testdata + "dns.conf"}, 53);
        milter = std::make_unique<milter_process>(std::vector<std::string>{"--socket-mode", "0666"}, "milter-e2e");
        sink = std::make_unique<harness::smtp_sink>();
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
    harness::swaks_result send(const std::string& from_header) {
        return harness::swaks_send({.port = postfix->smtp_port(),
                                    .from = "bounce@relay.example.net",
                                    .to = {"alice@example.net", "bob@example.org"},
                                    .headers = {"From: " + from_header, "Subject: relaygate e2e"},
                                    .body = "Hello from the e2e test."});
    }

    std::unique_ptr<harness::dns_server> dns;
    std::unique_ptr<milter_process> milter;
    std::unique_ptr<harness::smtp_sink> sink;
    std::unique_ptr<harness::postfix_instance> postfix;
};

TEST_F(milter_e2e, a_operator_from_is_delivered) {
    auto r = send("News <news@relay.example.net>");
    ASSERT_TRUE(r.data_reply().has_value()) << r.transcript;
    EXPECT_TRUE(r.data_reply()->starts_with("250 ")) << *r.data_reply();
    ASSERT_TRUE(sink->wait_for_messages(1));
    auto m = sink->messages().front();
    ASSERT_TRUE(m.header("DKIM-Signature").has_value()) << "operator key configured: signed";
    EXPECT_EQ(verify_dump(m.file), "ok");
}

TEST_F(milter_e2e, b_verified_custom_from_is_delivered_with_a_verifiable_dkim_signature) {
    auto r = send("News <news@verified.example>");
    ASSERT_TRUE(r.data_reply().has_value()) << r.transcript;
    EXPECT_TRUE(r.data_reply()->starts_with("250 ")) << *r.data_reply();
    ASSERT_TRUE(sink->wait_for_messages(1));
    auto m = sink->messages().front();
    auto sig = m.header("DKIM-Signature");
    ASSERT_TRUE(sig.has_value()) << harness::read_file(m.file);
    EXPECT_NE(sig->find("d=verified.example"), std::string::npos) << *sig;
    EXPECT_NE(sig->find("s=s1"), std::string::npos) << *sig;
    EXPECT_EQ(verify_dump(m.file), "ok") << harness::read_file(m.file);
    EXPECT_NE(milter->log().find(r.queue_id() + " accept reason=ok from_domains=verified.example"), std::string::npos)
        << milter->log();
}

TEST_F(milter_e2e, b2_ed25519_domain_signature_verifies_too) {
    auto r = send("news@ed.example");
    ASSERT_TRUE(r.data_reply().has_value() && r.data_reply()->starts_with("250 ")) << r.transcript;
    ASSERT_TRUE(sink->wait_for_messages(1));
    auto m = sink->messages().front();
    ASSERT_TRUE(m.header("DKIM-Signature").has_value());
    EXPECT_NE(m.header("DKIM-Signature")->find("a=ed25519-sha256"), std::string::npos);
    EXPECT_EQ(verify_dump(m.file), "ok");
}

TEST_F(milter_e2e, c_unregistered_from_gets_550_at_end_of_data_and_one_rejection_line) {
    auto r = send("Evil <ceo@unknown.example>");
    ASSERT_TRUE(r.data_reply().has_value()) << r.transcript;
    EXPECT_EQ(*r.data_reply(), "550 5.7.1 From domain unknown.example is not registered");
    ASSERT_TRUE(postfix->wait_for_log("milter-reject: END-OF-MESSAGE"));
    auto lines = milter->rejection_lines();
    ASSERT_EQ(lines.size(), 1u);
    auto j = nlohmann::json::parse(lines[0]);
    EXPECT_EQ(j["reason_code"], "not_registered");
    EXPECT_EQ(j["from_domains"], nlohmann::json::array({"unknown.example"}));
    EXPECT_EQ(j["recipient_count"], 2);
    EXPECT_EQ(j["client_address"], "127.0.0.1");
    EXPECT_EQ(j["envelope_sender"], "bounce@relay.example.net");
    const std::string qid = j["queue_id"];
    ASSERT_FALSE(qid.empty());
    EXPECT_FALSE(postfix->log_lines(qid + ": milter-reject: END-OF-MESSAGE").empty()) << postfix->maillog();
    EXPECT_TRUE(postfix->wait_queue_empty());
    EXPECT_TRUE(sink->messages().empty());
}

TEST_F(milter_e2e, d_spf_not_covering_an_outbound_ip_gets_550_naming_it) {
    auto r = send("x@spf.example");
    ASSERT_TRUE(r.data_reply().has_value()) << r.transcript;
    EXPECT_EQ(*r.data_reply(),
              "550 5.7.1 From domain spf.example is not verified: SPF of spf.example does not authorize 192.0.2.12");
    EXPECT_TRUE(sink->messages().empty());
}

TEST_F(milter_e2e, e_milter_down_gives_4xx_and_nothing_is_accepted) {
    milter->process().stop();
    auto r = send("News <news@verified.example>");
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.transcript.find("451 4.7.1"), std::string::npos) << r.transcript;
    EXPECT_TRUE(r.queue_id().empty()) << r.transcript;
    EXPECT_TRUE(postfix->wait_queue_empty());
    EXPECT_TRUE(sink->messages().empty());
}

TEST_F(milter_e2e, f_a_registry_reload_changes_the_verdict_for_new_mail) {
    auto first = send("x@pending.example");
    ASSERT_TRUE(first.data_reply().has_value()) << first.transcript;
    EXPECT_EQ(*first.data_reply(), "451 4.7.1 From domain pending.example is not verified yet: verification pending");
    auto states = standard_states();
    states["pending.example"].state = registry::verification_state::verified;
    ASSERT_TRUE(registry::write_state_file(milter->state_file().string(), states).has_value());
    ASSERT_EQ(::kill(milter->process().pid(), SIGHUP), 0);
    ASSERT_TRUE(harness::wait_until([&] { return milter->log().find("generation=1") != std::string::npos; }, 10s))
        << milter->log();
    auto second = send("x@pending.example");
    ASSERT_TRUE(second.data_reply().has_value()) << second.transcript;
    EXPECT_TRUE(second.data_reply()->starts_with("250 ")) << *second.data_reply();
    ASSERT_TRUE(sink->wait_for_messages(1));
    EXPECT_EQ(sink->messages().size(), 1u);
}

// Mail submitted with sendmail(1) reaches the milter through cleanup
// (non_smtpd_milters), which sends fewer macros than smtpd: the skipped steps'
// data must still arrive (queue id, envelope sender) and the verdict hold.
TEST_F(milter_e2e, g_sendmail_submissions_go_through_non_smtpd_milters) {
    const auto message = postfix->config_dir().parent_path() / "local-message.txt";
    auto submit = [&](const std::string& from_header) {
        harness::write_file(message, "From: " + from_header + "\nSubject: local submission\n\nHello.\n");
        return harness::run_command({"/bin/sh", "-c",
                                     "/usr/sbin/sendmail -C " + postfix->config_dir().string() +
                                         " -f bounce@relay.example.net alice@example.net < " + message.string()},
                                    30s);
    };
    auto ok = submit("News <news@relay.example.net>");
    ASSERT_EQ(ok.exit_code, 0) << ok.output;
    ASSERT_TRUE(sink->wait_for_messages(1)) << postfix->maillog();
    EXPECT_TRUE(sink->messages().front().header("DKIM-Signature").has_value());
    ASSERT_TRUE(harness::wait_until(
        [&] { return milter->log().find(" accept reason=ok from_domains=relay.example.net") != std::string::npos; },
        10s))
        << milter->log();
    const std::string log = milter->log();
    const auto line_start = log.rfind('\n', log.find(" accept reason=ok from_domains=relay.example.net"));
    const std::string line = log.substr(line_start + 1, log.find('\n', line_start + 1) - line_start - 1);
    EXPECT_NE(line.find("sender=bounce@relay.example.net"), std::string::npos) << line;
    EXPECT_NE(line.find("rcpts=1"), std::string::npos) << line;
    EXPECT_EQ(line.find("info: - "), std::string::npos) << "the queue id comes first: " << line;

    auto bad = submit("Evil <ceo@unknown.example>");
    ASSERT_EQ(bad.exit_code, 0) << bad.output;  // sendmail queues it; cleanup asks the milter
    ASSERT_TRUE(postfix->wait_for_log("milter-reject: END-OF-MESSAGE")) << postfix->maillog();
    auto lines = milter->rejection_lines();
    ASSERT_EQ(lines.size(), 1u);
    auto j = nlohmann::json::parse(lines[0]);
    EXPECT_EQ(j["reason_code"], "not_registered");
    EXPECT_EQ(j["envelope_sender"], "bounce@relay.example.net");
    EXPECT_FALSE(j["queue_id"].get<std::string>().empty());
}

}  // namespace
}  // namespace relaygate::milter::testing
