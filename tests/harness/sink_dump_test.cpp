// sink_dump_test.cpp: the pure parsers of the harness: smtp-sink dump files and
// swaks transcripts, including truncated and hostile input.
#include <gtest/gtest.h>

#include "relaygate/harness/smtp_sink.hpp"
#include "relaygate/harness/swaks.hpp"

namespace relaygate::harness {
namespace {

const char* const dump =
    "X-Client-Addr: 127.0.0.2\n"
    "X-Client-Proto: ESMTP\n"
    "X-Helo-Args: mta.example.test\n"
    "X-Mail-Args: <news@brand.test> SIZE=362\n"
    "X-Rcpt-Args: <bob@outlook.test> ORCPT=rfc822;bob@outlook.test\n"
    "X-Rcpt-Args: <carol@hotmail.test>\n"
    "Received: from mta.example.test ([127.0.0.2])\n"
    "\tby smtp-sink (smtp-sink) with ESMTP id 62c14593;\n"
    "\tTue,  1 Dec 2026 18:27:47 +0000 (UTC)\n"
    "From: News <news@brand.test>\n"
    "Subject: folded\n"
    " subject\n"
    "\n"
    "hello\n"
    "\n"
    "world\n"
    "\n";

TEST(SinkDump, ParsesTheSinkRecordsTheHeadersAndTheBody) {
    auto m = parse_sink_dump(dump);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->client_addr, "127.0.0.2");
    EXPECT_EQ(m->helo, "mta.example.test");
    EXPECT_EQ(m->mail_from, "news@brand.test");
    EXPECT_EQ(m->rcpts, (std::vector<std::string>{"bob@outlook.test", "carol@hotmail.test"}));
    EXPECT_EQ(m->header("FROM"), "News <news@brand.test>");
    EXPECT_EQ(m->header("Subject"), "folded subject");
    EXPECT_EQ(m->header("Received"),
              "from mta.example.test ([127.0.0.2]) by smtp-sink (smtp-sink) with ESMTP id 62c14593; Tue,  1 Dec 2026 "
              "18:27:47 +0000 (UTC)");
    EXPECT_EQ(m->headers_named("X-Rcpt-Args").size(), 2u);
    EXPECT_FALSE(m->header("DKIM-Signature"));
    EXPECT_EQ(m->body, "hello\n\nworld\n");
}

TEST(SinkDump, EmptyMailFromIsTheNullSender) {
    auto m = parse_sink_dump("X-Client-Addr: 127.0.0.1\nX-Mail-Args: <>\nX-Rcpt-Args: <a@b.test>\n\nbody\n\n");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->mail_from, "");
    EXPECT_EQ(m->body, "body\n");
}

struct bad_dump {
    const char* name;
    std::string text;
};

class SinkDumpRejects : public testing::TestWithParam<bad_dump> {};

TEST_P(SinkDumpRejects, InputThatIsNotACompleteDump) { EXPECT_FALSE(parse_sink_dump(GetParam().text)); }

INSTANTIATE_TEST_SUITE_P(
    Hostile, SinkDumpRejects,
    testing::Values(bad_dump{"empty", ""}, bad_dump{"no_separator", "X-Client-Addr: 127.0.0.1\nX-Mail-Args: <a@b>\n"},
                    bad_dump{"no_client_addr_first", "Subject: x\nX-Client-Addr: 127.0.0.1\n\nbody\n"},
                    bad_dump{"continuation_first", " folded\nX-Client-Addr: 127.0.0.1\n\n"},
                    bad_dump{"line_without_colon", "X-Client-Addr: 127.0.0.1\ngarbage line\n\nbody\n"},
                    bad_dump{"nul_bytes", std::string("X-Client-Addr\0: 1\n\n", 19)},
                    bad_dump{"over_16_mib", "X-Client-Addr: 127.0.0.1\n\n" + std::string(16 * 1024 * 1024, 'a')}),
    [](const auto& info) { return std::string(info.param.name); });

const char* const transcript =
    "=== Trying 127.0.0.1:2525...\n"
    "<-  220 mta.example.test ESMTP Postfix (Debian/GNU)\n"
    " -> EHLO client.example.test\n"
    "<-  250-mta.example.test\n"
    "<-  250-PIPELINING\n"
    "<-  250 CHUNKING\n"
    " -> MAIL FROM:<news@bad.test>\n"
    "<-  250 2.1.0 Ok\n"
    " -> RCPT TO:<bob@outlook.test>\n"
    "<-  250 2.1.5 Ok\n"
    " -> RCPT TO:<eve@nowhere.test>\n"
    "<** 451 4.3.0 <eve@nowhere.test>: Temporary lookup failure\n"
    " -> DATA\n"
    "<-  354 End data with <CR><LF>.<CR><LF>\n"
    " -> Subject: x\n"
    " -> \n"
    " -> .\n"
    "<** 550 5.7.1 From domain bad.test is not registered/verified\n"
    " -> QUIT\n"
    "<-  221 2.0.0 Bye\n";

TEST(SwaksTranscript, FindsTheFinalReplyToEachCommand) {
    EXPECT_EQ(swaks_reply_to(transcript, "EHLO"), "250 CHUNKING");
    EXPECT_EQ(swaks_reply_to(transcript, "MAIL FROM"), "250 2.1.0 Ok");
    EXPECT_EQ(swaks_reply_to(transcript, "RCPT TO:<eve@nowhere.test>"),
              "451 4.3.0 <eve@nowhere.test>: Temporary lookup failure");
    EXPECT_EQ(swaks_reply_to(transcript, "."), "550 5.7.1 From domain bad.test is not registered/verified");
    EXPECT_FALSE(swaks_reply_to(transcript, "STARTTLS"));
}

TEST(SwaksTranscript, QueueIdComesFromTheEndOfDataReply) {
    swaks_result r{.exit_code = 0, .transcript = " -> .\n<-  250 2.0.0 Ok: queued as 4Fh2Xk0ZQnz9s\n"};
    EXPECT_EQ(r.queue_id(), "4Fh2Xk0ZQnz9s");
    swaks_result rejected{.exit_code = 25, .transcript = transcript};
    EXPECT_EQ(rejected.queue_id(), "");
}

TEST(SwaksTranscript, TruncatedTranscriptHasNoReply) {
    EXPECT_FALSE(swaks_reply_to(" -> MAIL FROM:<a@b>\n", "MAIL FROM"));
    EXPECT_FALSE(swaks_reply_to("", "."));
    EXPECT_FALSE(swaks_reply_to(" -> .\n<-  250-continued but never ended\n", "."));
}

}  // namespace
}  // namespace relaygate::harness
