// postfix_instance_e2e.cpp: the private Postfix delivers real mail to real
// smtp-sinks, and the test reads each message back (headers, X-Client-Addr).
// Runs inside tests/harness/in-netns (one private network namespace per test).
#include <gtest/gtest.h>

#include "relaygate/harness/netns.hpp"
#include "relaygate/harness/postfix_instance.hpp"
#include "relaygate/harness/smtp_sink.hpp"
#include "relaygate/harness/smtp_source.hpp"
#include "relaygate/harness/swaks.hpp"

namespace relaygate::harness {
namespace {

class PostfixInstance : public testing::Test {
protected:
    void SetUp() override { ASSERT_EQ(private_netns_problem(), ""); }
};

TEST_F(PostfixInstance, DeliversOneMessageFromSwaksToTheSinkWithItsHeaders) {
    smtp_sink sink;
    postfix_instance postfix(postfix_options{.relayhost = sink.nexthop()});

    auto sent = swaks_send({.port = postfix.smtp_port(),
                            .from = "news@brand.test",
                            .to = {"alice@gmail.test"},
                            .headers = {"Subject: harness hello", "From: News <news@brand.test>"},
                            .body = "first line\nsecond line"});
    ASSERT_EQ(sent.exit_code, 0) << sent.transcript;
    ASSERT_TRUE(sent.data_reply().has_value()) << sent.transcript;
    EXPECT_TRUE(sent.data_reply()->starts_with("250 2.0.0 Ok: queued as ")) << *sent.data_reply();
    const std::string queue_id = sent.queue_id();
    ASSERT_FALSE(queue_id.empty());

    ASSERT_TRUE(sink.wait_for_messages(1));
    auto messages = sink.messages();
    ASSERT_EQ(messages.size(), 1u);
    const auto& m = messages.front();
    EXPECT_EQ(m.client_addr, "127.0.0.1");
    EXPECT_EQ(m.helo, "mta.example.test");
    EXPECT_EQ(m.mail_from, "news@brand.test");
    EXPECT_EQ(m.rcpts, std::vector<std::string>{"alice@gmail.test"});
    EXPECT_EQ(m.header("subject"), "harness hello");
    EXPECT_EQ(m.header("From"), "News <news@brand.test>");
    EXPECT_NE(m.body.find("first line\nsecond line"), std::string::npos) << m.body;

    auto line = postfix.wait_for_log(queue_id + ": to=<alice@gmail.test>, relay=127.0.0.1\\[127.0.0.1\\]:" +
                                     std::to_string(sink.port()) + ".* status=sent");
    EXPECT_TRUE(line);
    EXPECT_TRUE(postfix.wait_queue_empty());
}

TEST_F(PostfixInstance, TransportBoundTo127002ReachesItsSinkFromThatAddress) {
    smtp_sink plain;
    smtp_sink microsoft(sink_options{.address = "127.0.0.2"});
    postfix_options options{.relayhost = plain.nexthop()};
    options.smtp_transport("msft-out", "127.0.0.2")
        .main("transport_maps = inline:{ outlook.test=msft-out:" + microsoft.nexthop() + " }");
    postfix_instance postfix(options);

    auto sent = swaks_send({.port = postfix.smtp_port(), .to = {"bob@outlook.test", "carol@gmail.test"}});
    ASSERT_EQ(sent.exit_code, 0) << sent.transcript;

    ASSERT_TRUE(microsoft.wait_for_messages(1));
    ASSERT_TRUE(plain.wait_for_messages(1));
    auto steered = microsoft.messages();
    ASSERT_EQ(steered.size(), 1u);
    EXPECT_EQ(steered[0].client_addr, "127.0.0.2");
    EXPECT_EQ(steered[0].rcpts, std::vector<std::string>{"bob@outlook.test"});
    auto others = plain.messages();
    ASSERT_EQ(others.size(), 1u);
    EXPECT_EQ(others[0].client_addr, "127.0.0.1");
    EXPECT_EQ(others[0].rcpts, std::vector<std::string>{"carol@gmail.test"});
    EXPECT_TRUE(postfix.wait_for_log("postfix/msft-out/smtp\\[[0-9]+\\]: .*to=<bob@outlook.test>.*status=sent"));
}

TEST_F(PostfixInstance, SinkThatRejectsRcptMakesPostfixBounceWithItsReply) {
    smtp_sink sink(sink_options{.hard_reject = {"RCPT"},
                                .hard_reply = "550 5.7.1 Service unavailable; client blocked using zen.example"});
    postfix_instance postfix(postfix_options{.relayhost = sink.nexthop()});

    auto sent = swaks_send({.port = postfix.smtp_port(), .to = {"dave@gmail.test"}});
    ASSERT_EQ(sent.exit_code, 0) << sent.transcript;  // Postfix accepted it; the bounce happens at delivery

    EXPECT_TRUE(
        postfix.wait_for_log("to=<dave@gmail.test>.*dsn=5\\.7\\.1, status=bounced .*client blocked using zen.example"));
    EXPECT_TRUE(sink.messages().empty());
}

TEST_F(PostfixInstance, DeliversMessagesFromSmtpSource) {
    smtp_sink sink;
    postfix_instance postfix(postfix_options{.relayhost = sink.nexthop()});

    auto r = smtp_source_send(
        {.port = postfix.smtp_port(), .messages = 3, .from = "bulk@brand.test", .to = "eve@outlook.test"});
    ASSERT_EQ(r.exit_code, 0) << r.output;

    ASSERT_TRUE(sink.wait_for_messages(3));
    for (const auto& m : sink.messages()) {
        EXPECT_EQ(m.mail_from, "bulk@brand.test");
        EXPECT_EQ(m.rcpts, std::vector<std::string>{"eve@outlook.test"});
        EXPECT_EQ(m.header("Subject"), "relaygate smtp-source");
    }
    EXPECT_TRUE(postfix.wait_for_log("to=<eve@outlook.test>, relay=127\\.0\\.0\\.1.*status=sent", 30s, 3));
}

TEST_F(PostfixInstance, HeldMessageIsListedThenReleasedAndFlushed) {
    smtp_sink sink;
    postfix_options options{.relayhost = sink.nexthop()};
    options.files = {{"header_checks", "/^Subject: .*HOLDME/ HOLD\n"}};
    options.main("header_checks = regexp:$config_directory/header_checks");  // Postfix expands $config_directory
    postfix_instance postfix(options);

    auto sent = swaks_send({.port = postfix.smtp_port(), .headers = {"Subject: please HOLDME"}});
    ASSERT_EQ(sent.exit_code, 0) << sent.transcript;
    const auto id = sent.queue_id();
    ASSERT_TRUE(postfix.wait_for_log(id + ": hold: header Subject: please HOLDME"));
    EXPECT_NE(postfix.queue_listing().find(id + "!"), std::string::npos) << postfix.queue_listing();  // ! = on hold
    EXPECT_FALSE(postfix.wait_queue_empty(300ms));

    ASSERT_EQ(postfix.postsuper({"-H", id}).exit_code, 0);
    postfix.flush();
    ASSERT_TRUE(sink.wait_for_messages(1));
    EXPECT_TRUE(postfix.wait_for_log(id + ": .*status=sent"));
    EXPECT_TRUE(postfix.wait_queue_empty());
}

TEST_F(PostfixInstance, StopLeavesNoProcessOfTheInstance) {
    std::string mail_config;
    pid_t master = -1;
    {
        postfix_instance postfix;
        mail_config = "MAIL_CONFIG=" + postfix.config_dir().string();
        master = postfix.master_pid();
        ASSERT_TRUE(pid_alive(master));
        ASSERT_EQ(swaks_send({.port = postfix.smtp_port(), .to = {"x@gmail.test"}}).exit_code, 0);  // spawns smtpd
        EXPECT_GE(pids_with_environment(mail_config).size(), 3u);  // master, qmgr, pickup, smtpd, ...
    }
    EXPECT_FALSE(pid_alive(master));
    EXPECT_TRUE(pids_with_environment(mail_config).empty());
}

}  // namespace
}  // namespace relaygate::harness
