// sender_binding_e2e: a domain's submitter binding (admin file sasl= and
// networks=, standard_registry.cpp) end to end through a real private Postfix:
// real SMTP AUTH (Cyrus SASL, sasldb made by the harness's sasl_db) reaches
// relaygate-milter as the {auth_authen} macro, and real client addresses
// inside the test's network namespace (bound on lo) as {client_addr}. The
// bound login / network is accepted and signed (checked with dkimpy, a
// verifier independent of relaygate); another customer's login or network is
// rejected at end of data with 550 5.7.1 naming the reason.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "milter_fixture.hpp"
#include "relaygate/harness/netns.hpp"
#include "relaygate/harness/postfix_instance.hpp"
#include "relaygate/harness/sasl_db.hpp"
#include "relaygate/harness/smtp_sink.hpp"
#include "relaygate/harness/swaks.hpp"

namespace relaygate::milter::testing {
namespace {

using namespace std::chrono_literals;

// sasl.example is bound to logins alice and carol; net.example to 198.51.100.0/24.
const std::string bound_net_client = "198.51.100.7";
const std::string other_net_client = "203.0.113.9";

// dkimpy's verdict on a delivered dump, with the s1 key published for the bound domains
// (they share verified.example's key, tests/testdata/milter/keys/dkim-keys.txt).
std::string dkimpy_verdict(const std::filesystem::path& dump, const std::filesystem::path& work) {
    std::string value;
    std::istringstream keys(harness::read_file(testdata + "keys/dkim-keys.txt"));
    for (std::string line; std::getline(keys, line);) {
        if (line.starts_with("s1._domainkey.verified.example ")) value = line.substr(line.find(' ') + 1);
    }
    const auto records = work / "dkim-records.txt";
    harness::write_file(records, "s1._domainkey.sasl.example " + value + "\ns1._domainkey.net.example " + value + "\n");
    auto r =
        harness::run_command({"/usr/bin/python3", std::string(RELAYGATE_SOURCE_DIR) + "/tests/milter/dkimpy_verify.py",
                              records.string(), dump.string()},
                             60s);
    return r.output;
}

class sender_binding_e2e : public harness::netns_test {
protected:
    void SetUp() override {
        netns_test::SetUp();
        if (HasFatalFailure()) return;
        // Real client addresses: both networks' hosts exist on lo of the private namespace.
        for (const auto& ip : {bound_net_client, other_net_client}) {
            auto r = harness::run_command({"ip", "addr", "replace", ip + "/32", "dev", "lo"}, 10s);
            ASSERT_EQ(r.exit_code, 0) << r.output;
        }
        sasl = std::make_unique<harness::sasl_db>(
            std::vector<harness::sasl_user>{{"alice", "alice-secret"}, {"bob", "bob-secret"}});
        milter = std::make_unique<milter_process>(std::vector<std::string>{"--socket-mode", "0666"}, "binding-e2e");
        sink = std::make_unique<harness::smtp_sink>();
        harness::postfix_options o{
            .relayhost = sink->nexthop(),
            .main_cf = {"smtpd_milters = " + milter->socket_spec(), "milter_default_action = tempfail",
                        "milter_protocol = 6",
                        "mynetworks = 127.0.0.0/8, " + bound_net_client + "/32, " + other_net_client + "/32"}};
        sasl->add_to(o);
        postfix = std::make_unique<harness::postfix_instance>(o);
    }
    void TearDown() override {
        postfix.reset();
        sink.reset();
        milter.reset();
        sasl.reset();
    }

    // Sends one message with From: <from_header>, over SMTP AUTH PLAIN when login is given,
    // from client address `from_ip` (swaks --local-interface).
    harness::swaks_result send(const std::string& from_header, const std::string& login, const std::string& password,
                               const std::string& from_ip = "127.0.0.1") {
        std::vector<std::string> extra{"--local-interface", from_ip};
        if (!login.empty())
            extra.insert(extra.end(), {"--auth", "PLAIN", "--auth-user", login, "--auth-password", password});
        return harness::swaks_send({.port = postfix->smtp_port(),
                                    .from = "bounce@relay.example.net",
                                    .to = {"alice@example.net"},
                                    .headers = {"From: " + from_header, "Subject: sender binding"},
                                    .body = "Hello from the sender binding test.",
                                    .extra_args = extra});
    }

    // The one delivered message is signed for domain and dkimpy verifies it.
    void expect_signed_for(const std::string& domain) {
        ASSERT_TRUE(sink->wait_for_messages(1)) << postfix->maillog();
        auto m = sink->messages().front();
        auto sig = m.header("DKIM-Signature");
        ASSERT_TRUE(sig.has_value()) << harness::read_file(m.file);
        EXPECT_NE(sig->find("d=" + domain), std::string::npos) << *sig;
        EXPECT_EQ(dkimpy_verdict(m.file, milter->dir()), "ok " + m.file.string() + "\n");
    }

    std::unique_ptr<harness::sasl_db> sasl;
    std::unique_ptr<milter_process> milter;
    std::unique_ptr<harness::smtp_sink> sink;
    std::unique_ptr<harness::postfix_instance> postfix;
};

TEST_F(sender_binding_e2e, the_bound_sasl_login_is_accepted_and_signed) {
    auto r = send("News <news@sasl.example>", "alice", "alice-secret");
    ASSERT_NE(r.transcript.find("235 2.7.0 Authentication successful"), std::string::npos) << r.transcript;
    ASSERT_TRUE(r.data_reply().has_value()) << r.transcript;
    EXPECT_TRUE(r.data_reply()->starts_with("250 ")) << *r.data_reply();
    expect_signed_for("sasl.example");
    EXPECT_NE(milter->log().find(r.queue_id() + " accept reason=ok from_domains=sasl.example"), std::string::npos)
        << milter->log();
}

TEST_F(sender_binding_e2e, another_customers_sasl_login_is_rejected_with_550_naming_the_login) {
    auto r = send("News <news@sasl.example>", "bob", "bob-secret");
    ASSERT_NE(r.transcript.find("235 2.7.0 Authentication successful"), std::string::npos) << r.transcript;
    ASSERT_TRUE(r.data_reply().has_value()) << r.transcript;
    EXPECT_EQ(*r.data_reply(), "550 5.7.1 From domain sasl.example may not be used by SASL login bob");
    EXPECT_TRUE(postfix->wait_queue_empty());
    EXPECT_TRUE(sink->messages().empty());
    auto lines = milter->rejection_lines();
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("\"reason_code\":\"sasl_not_allowed\""), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("\"sasl_login\":\"bob\""), std::string::npos) << lines[0];
}

TEST_F(sender_binding_e2e, a_sasl_bound_domain_without_authentication_is_rejected) {
    auto r = send("News <news@sasl.example>", "", "");
    ASSERT_TRUE(r.data_reply().has_value()) << r.transcript;
    EXPECT_EQ(*r.data_reply(), "550 5.7.1 From domain sasl.example may not be used without SASL authentication");
    EXPECT_TRUE(sink->messages().empty());
}

TEST_F(sender_binding_e2e, a_client_inside_the_bound_network_is_accepted_and_signed) {
    auto r = send("News <news@net.example>", "", "", bound_net_client);
    ASSERT_TRUE(r.data_reply().has_value()) << r.transcript;
    EXPECT_TRUE(r.data_reply()->starts_with("250 ")) << *r.data_reply();
    expect_signed_for("net.example");
    EXPECT_TRUE(postfix->wait_for_log("client=.*\\[" + bound_net_client + "\\]"));
}

TEST_F(sender_binding_e2e, a_client_outside_the_bound_network_is_rejected_with_550_naming_its_address) {
    auto r = send("News <news@net.example>", "", "", other_net_client);
    ASSERT_TRUE(r.data_reply().has_value()) << r.transcript;
    EXPECT_EQ(*r.data_reply(), "550 5.7.1 From domain net.example may not be used from " + other_net_client);
    EXPECT_TRUE(sink->messages().empty());
    auto lines = milter->rejection_lines();
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("\"client_address\":\"" + other_net_client + "\""), std::string::npos) << lines[0];
}

}  // namespace
}  // namespace relaygate::milter::testing
