// smtp_sink_itest.cpp: the real smtp-sink receives what swaks sends on
// 127.0.0.1 and 127.0.0.3 and the reader parses it back; rejecting sinks
// answer with the configured reply; the sink is gone after stop.
#include <gtest/gtest.h>

#include "relaygate/harness/smtp_sink.hpp"
#include "relaygate/harness/swaks.hpp"
#include "relaygate/harness/wait.hpp"

namespace relaygate::harness {
namespace {

TEST(SmtpSink, ReceivesAMessageAndTheReaderParsesIt) {
    smtp_sink sink(sink_options{.address = "127.0.0.3"});
    auto sent = swaks_send({.server = "127.0.0.3",
                            .port = sink.port(),
                            .helo = "client.example.test",
                            .from = "news@brand.test",
                            .to = {"bob@outlook.test", "carol@hotmail.test"},
                            .headers = {"Subject: sink check", "X-Campaign: 42"},
                            .body = "body line"});
    ASSERT_EQ(sent.exit_code, 0) << sent.transcript;
    ASSERT_TRUE(sink.wait_for_messages(1));
    auto m = sink.messages().at(0);
    EXPECT_EQ(m.client_addr, "127.0.0.1");  // swaks connects from the default source address
    EXPECT_EQ(m.helo, "client.example.test");
    EXPECT_EQ(m.mail_from, "news@brand.test");
    EXPECT_EQ(m.rcpts, (std::vector<std::string>{"bob@outlook.test", "carol@hotmail.test"}));
    EXPECT_EQ(m.header("Subject"), "sink check");
    EXPECT_EQ(m.header("X-Campaign"), "42");
    EXPECT_NE(m.body.find("body line"), std::string::npos);
    EXPECT_EQ(sink.nexthop(), "[127.0.0.3]:" + std::to_string(sink.port()));
}

TEST(SmtpSink, CountsSeveralMessagesAndWaitIsBounded) {
    smtp_sink sink;
    for (int i = 0; i < 3; ++i) {
        ASSERT_EQ(swaks_send({.port = sink.port(), .headers = {"Subject: n" + std::to_string(i)}}).exit_code, 0);
    }
    EXPECT_TRUE(sink.wait_for_messages(3));
    EXPECT_EQ(sink.messages().size(), 3u);
    auto too_many = sink.wait_for_messages(4, 200ms);
    EXPECT_FALSE(too_many);
    EXPECT_NE(std::string(too_many.message()).find("received 3 of 4"), std::string::npos) << too_many.message();
}

TEST(SmtpSink, HardRejectOfRcptAnswersTheConfiguredReply) {
    smtp_sink sink(sink_options{.hard_reject = {"RCPT"}, .hard_reply = "550 5.7.1 blocked using zen.example"});
    auto sent = swaks_send({.port = sink.port(), .to = {"bob@outlook.test"}});
    EXPECT_NE(sent.exit_code, 0);
    EXPECT_EQ(sent.reply_to("RCPT TO:<bob@outlook.test>"), "550 5.7.1 blocked using zen.example") << sent.transcript;
    EXPECT_TRUE(sink.messages().empty());
}

TEST(SmtpSink, SoftRejectAtEndOfDataAnswers4xx) {
    smtp_sink sink(sink_options{.soft_reject = {"."}, .soft_reply = "421 4.7.0 try again later"});
    auto sent = swaks_send({.port = sink.port()});
    EXPECT_NE(sent.exit_code, 0);
    auto reply = sent.data_reply();
    ASSERT_TRUE(reply) << sent.transcript;
    EXPECT_EQ(*reply, "421 4.7.0 try again later");
}

TEST(SmtpSink, StopEndsTheProcessAndFreesThePort) {
    smtp_sink sink;
    const pid_t pid = sink.pid();
    const auto port = sink.port();
    ASSERT_TRUE(tcp_connects("127.0.0.1", port));
    sink.stop();
    EXPECT_FALSE(pid_alive(pid));
    EXPECT_FALSE(tcp_connects("127.0.0.1", port));
}

}  // namespace
}  // namespace relaygate::harness
