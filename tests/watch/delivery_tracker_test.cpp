// delivery_tracker_test.cpp: the tracker over the real capture (ledger rows,
// requeue candidates, Message-ID/sender carried to the failure) and its bounds.
#include "relaygate/watch/delivery_tracker.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace relaygate::watch {
namespace {

transport_map capture_transports() {
    transport_map m;
    EXPECT_TRUE(m.add("postfix/msft-out=msft-out,microsoft,127.0.0.2"));
    EXPECT_TRUE(m.add("postfix/msft-spare=msft-spare,microsoft,127.0.0.3"));
    return m;
}

std::vector<std::string> capture() {
    std::ifstream in(std::string(RELAYGATE_SOURCE_DIR) + "/tests/testdata/watch/postfix37.log");
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
}

TEST(transport_map, specs_and_unknown_services) {
    transport_map m;
    EXPECT_TRUE(m.add("postfix/msft-out=msft-out,microsoft,192.0.2.10"));
    EXPECT_FALSE(m.add("postfix/x"));
    EXPECT_FALSE(m.add("=a,b,c"));
    EXPECT_FALSE(m.add("postfix/x=a,b"));
    EXPECT_FALSE(m.add("postfix/x=,b,c"));
    EXPECT_EQ(m.lookup("postfix/msft-out", "smtp").family, "microsoft");
    EXPECT_EQ(m.lookup("postfix/msft-out", "smtp").source_ip, "192.0.2.10");
    EXPECT_EQ(m.lookup("postfix", "smtp").family, "other");
    EXPECT_EQ(m.lookup("postfix", "lmtp").transport, "lmtp");
}

TEST(delivery_tracker, real_capture_gives_the_expected_ledger) {
    delivery_tracker t({.long_deferred_seconds = 5}, capture_transports());
    std::vector<failure_record> failures;
    std::size_t events = 0, reputation = 0;
    std::vector<std::string> deferred_mid_run;
    for (const auto& line : capture()) {
        const auto r = parse_maillog_line(line, 1796149800);
        ASSERT_TRUE(r.has_value()) << line;
        auto o = t.observe(*r);
        if (o.event) {
            ++events;
            if (is_reputation(o.event->cls)) ++reputation;
            if (o.event->queue_id == "D3988A72335") {
                EXPECT_EQ(o.event->family, "microsoft");
                EXPECT_EQ(o.event->transport, "msft-out");
                EXPECT_EQ(o.event->sender_domain, "brand.test");
            }
        }
        for (auto& f : o.failures) failures.push_back(std::move(f));
        if (line.find("refreshing the Postfix mail system") != std::string::npos) {
            deferred_mid_run = t.deferred_queue_ids("microsoft");
        }
    }
    EXPECT_GT(events, 40u);
    EXPECT_GT(reputation, 20u);
    // Before the expiry: the four Microsoft messages with deferred recipients.
    EXPECT_EQ(deferred_mid_run, (std::vector<std::string>{"D3988A72335", "DD4B4A72338", "E6F35A7233D", "F1A7CA72340"}));
    // All removed by the end.
    EXPECT_TRUE(t.deferred_queue_ids("microsoft").empty());
    EXPECT_EQ(t.tracked(), 0u);

    auto count = [&](std::string_view status, std::string_view rcpt) {
        return std::count_if(failures.begin(), failures.end(),
                             [&](const auto& f) { return f.status == status && f.recipient == rcpt; });
    };
    EXPECT_EQ(count("bounced", "nouser@hotmail.test"), 1);
    EXPECT_EQ(count("bounced", "r515@hotmail.test"), 1);
    // Each long deferral once, then its expiry.
    for (const char* rcpt : {"bob@outlook.test", "carol@outlook.test", "dave@outlook.test", "r650@hotmail.test",
                             "r500@hotmail.test", "r606@hotmail.test", "r652@hotmail.test"}) {
        EXPECT_EQ(count("deferred", rcpt), 1) << rcpt;
        EXPECT_EQ(count("expired", rcpt), 1) << rcpt;
    }
    EXPECT_EQ(count("bounced", "ok@hotmail.test") + count("expired", "ok@hotmail.test"), 0);
    const auto bob = std::find_if(failures.begin(), failures.end(), [](const auto& f) {
        return f.status == "expired" && f.recipient == "bob@outlook.test";
    });
    ASSERT_NE(bob, failures.end());
    EXPECT_EQ(bob->queue_id, "D3988A72335");
    EXPECT_EQ(bob->message_id, "<20261201182851.008600@vm>");
    EXPECT_EQ(bob->sender, "news@brand.test");
    EXPECT_EQ(bob->family, "microsoft");
    EXPECT_EQ(bob->transport, "msft-out");
    EXPECT_EQ(bob->cls, "ip_blocklisted");
    EXPECT_NE(bob->reply.find("(S3140)"), std::string::npos);
}

TEST(delivery_tracker, forgets_oldest_beyond_the_limit) {
    delivery_tracker t({.max_queue_ids = 10}, transport_map{});
    for (int i = 0; i < 1000; ++i) {
        const std::string line = "Dec 01 18:28:51 mta postfix/qmgr[1]: ID" + std::to_string(100000 + i) +
                                 ": from=<a@b.test>, size=1, nrcpt=1 (queue active)";
        const auto r = parse_maillog_line(line, 1796149800);
        ASSERT_TRUE(r.has_value());
        t.observe(*r);
        ASSERT_LE(t.tracked(), 10u);
    }
}

TEST(delivery_tracker, sent_closes_a_deferral_and_sender_domain_is_lower_case) {
    delivery_tracker t({}, transport_map{});
    const char* lines[] = {
        "Dec 01 18:28:51 mta postfix/qmgr[1]: ABCDE1: from=<News@Brand.TEST>, size=1, nrcpt=1 (queue active)",
        "Dec 01 18:28:51 mta postfix/smtp[2]: ABCDE1: to=<x@y.test>, relay=r, delay=1, dsn=4.4.1, status=deferred (c)",
        "Dec 01 18:28:52 mta postfix/smtp[2]: ABCDE1: to=<x@y.test>, relay=r, delay=2, dsn=2.0.0, status=sent (250 ok)",
    };
    observation last;
    for (const char* l : lines) last = t.observe(*parse_maillog_line(l, 1796149800));
    ASSERT_TRUE(last.event.has_value());
    EXPECT_EQ(last.event->sender_domain, "brand.test");
    ASSERT_TRUE(last.delivered.has_value());
    EXPECT_EQ(last.delivered->recipient, "x@y.test");
    EXPECT_TRUE(t.deferred_queue_ids("other").empty());
    EXPECT_EQ(sender_domain(""), "");
    EXPECT_EQ(sender_domain("MAILER-DAEMON"), "");
}

TEST(delivery_tracker, requeued_ids_leave_the_candidates_but_keep_what_is_known) {
    delivery_tracker t({.long_deferred_seconds = 1000}, transport_map{});
    const std::string h = "Dec 01 18:28:51 mta ";
    auto feed = [&](const std::string& l) { return t.observe(*parse_maillog_line(h + l, 1796149800)); };
    feed("postfix/cleanup[1]: ABCDE1: message-id=<m1@x>");
    feed("postfix/qmgr[1]: ABCDE1: from=<a@b.test>, size=1, nrcpt=1 (queue active)");
    feed("postfix/smtp[2]: ABCDE1: to=<x@y.test>, relay=r, delay=1, dsn=4.7.1, status=deferred (c)");
    ASSERT_EQ(t.deferred_queue_ids("other"), std::vector<std::string>{"ABCDE1"});
    t.requeued({"ABCDE1", "NOTKNOWN1"});
    EXPECT_TRUE(t.deferred_queue_ids("other").empty());
    // qmgr had it in the active queue: not requeued, it logs on under its id.
    const auto o = feed("postfix/smtp[2]: ABCDE1: to=<x@y.test>, relay=r, delay=2, dsn=5.1.1, status=bounced (u)");
    ASSERT_EQ(o.failures.size(), 1u);
    EXPECT_EQ(o.failures[0].message_id, "<m1@x>");
    EXPECT_EQ(o.failures[0].sender, "a@b.test");
}

}  // namespace
}  // namespace relaygate::watch
