// maillog_line_test.cpp: the maillog parser on real Postfix 3.7.11 lines
// (tests/testdata/watch/postfix37*.log, made by capture.sh), on syslog's RFC
// 3339 form, and on hostile input.
#include "relaygate/watch/maillog_line.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

namespace relaygate::watch {
namespace {

constexpr std::int64_t now_2026_12_01 = 1796149800;  // 2026-12-01T18:30:00Z, just after the capture

std::vector<std::string> read_lines(const std::string& name) {
    std::ifstream in(std::string(RELAYGATE_SOURCE_DIR) + "/tests/testdata/watch/" + name);
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
}

std::string first_line_with(const std::vector<std::string>& lines, std::string_view needle) {
    for (const auto& l : lines) {
        if (l.find(needle) != std::string::npos) return l;
    }
    ADD_FAILURE() << "no line with " << needle;
    return {};
}

struct real_case {
    const char* name;
    const char* needle;  // picks the first line of postfix37.log holding it
    line_kind kind;
    const char* syslog_name;
    const char* queue_id;
    const char* to;
    const char* dsn;
    delivery_status status;
    const char* reply_prefix;
    const char* from;
};

class real_lines : public ::testing::TestWithParam<real_case> {};

TEST_P(real_lines, parse_as_expected) {
    static const auto lines = read_lines("postfix37.log");
    ASSERT_GT(lines.size(), 100u);
    const auto& c = GetParam();
    const std::string line = first_line_with(lines, c.needle);
    const auto r = parse_maillog_line(line, now_2026_12_01);
    ASSERT_TRUE(r.has_value()) << line;
    EXPECT_EQ(r->kind, c.kind);
    EXPECT_EQ(r->host, "mta");
    EXPECT_EQ(r->syslog_name, c.syslog_name);
    EXPECT_EQ(r->queue_id, c.queue_id);
    EXPECT_EQ(r->to, c.to);
    EXPECT_EQ(r->dsn, c.dsn);
    if (c.kind == line_kind::delivery) {
        EXPECT_EQ(r->status, c.status);
    }
    EXPECT_TRUE(std::string_view(r->reply).starts_with(c.reply_prefix)) << r->reply;
    EXPECT_EQ(r->from, c.from);
}

INSTANTIATE_TEST_SUITE_P(
    postfix37, real_lines,
    ::testing::Values(
        real_case{"sent_by_default_smtp", "to=<alice@gmail.test>", line_kind::delivery, "postfix/smtp", "C8076A72335",
                  "alice@gmail.test", "2.0.0", delivery_status::sent, "250 2.0.0 Ok", ""},
        real_case{"s3140_softened_to_deferred", "to=<bob@outlook.test>", line_kind::delivery, "postfix/msft-out/smtp",
                  "D3988A72335", "bob@outlook.test", "4.7.1", delivery_status::deferred,
                  "host 127.0.0.1[127.0.0.1] said: 550 5.7.1 Unfortunately, messages from [127.0.0.2]", ""},
        real_case{"unknown_user_bounced", "to=<nouser@hotmail.test>", line_kind::delivery, "postfix/msft-spare/smtp",
                  "E6F35A7233D", "nouser@hotmail.test", "5.1.1", delivery_status::bounced,
                  "host 127.0.0.1[127.0.0.1] said: 550 5.1.1 RESOLVER", ""},
        real_case{"banned_ip_softened", "to=<r606@hotmail.test>", line_kind::delivery, "postfix/msft-spare/smtp",
                  "F1A7CA72340", "r606@hotmail.test", "4.7.606", delivery_status::deferred,
                  "host 127.0.0.1[127.0.0.1] said: 550 5.7.606 Access denied", ""},
        real_case{"conn_use_field", "conn_use=2", line_kind::delivery, "postfix/smtp", "8244EA72005",
                  "info@other-brand.test", "2.0.0", delivery_status::sent, "250 2.0.0 Ok", ""},
        real_case{"qmgr_from", "C8076A72335: from=<news@brand.test>", line_kind::qmgr_from, "postfix/qmgr",
                  "C8076A72335", "", "", delivery_status::deferred, "", "news@brand.test"},
        real_case{"qmgr_null_sender", "03214A7233B: from=<>", line_kind::qmgr_from, "postfix/qmgr", "03214A7233B", "",
                  "", delivery_status::deferred, "", ""},
        real_case{"qmgr_expired", "status=expired, returned to sender", line_kind::qmgr_expired, "postfix/qmgr",
                  "DD4B4A72338", "", "", delivery_status::expired, "returned to sender", "root@vm"},
        real_case{"qmgr_removed", "C8076A72335: removed", line_kind::qmgr_removed, "postfix/qmgr", "C8076A72335", "",
                  "", delivery_status::deferred, "", ""},
        real_case{"cleanup_message_id", "C8076A72335: message-id=", line_kind::message_id, "postfix/cleanup",
                  "C8076A72335", "", "", delivery_status::deferred, "", ""},
        real_case{"bounce_notification_is_other", "sender non-delivery notification", line_kind::other,
                  "postfix/bounce", "E6F35A7233D", "", "", delivery_status::deferred, "", ""},
        real_case{"smtpd_connect_has_no_queue_id", "connect from localhost", line_kind::other, "postfix/smtpd", "", "",
                  "", delivery_status::deferred, "", ""}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(maillog_line, every_captured_line_parses) {
    for (const char* file : {"postfix37.log", "postfix37_long_ids.log"}) {
        const auto lines = read_lines(file);
        ASSERT_GT(lines.size(), 100u) << file;
        std::size_t deliveries = 0;
        for (const auto& l : lines) {
            const auto r = parse_maillog_line(l, now_2026_12_01);
            ASSERT_TRUE(r.has_value()) << file << ": " << l;
            if (r->kind == line_kind::delivery) ++deliveries;
        }
        EXPECT_GT(deliveries, 40u) << file;
    }
}

TEST(maillog_line, long_queue_ids_are_read) {
    const auto lines = read_lines("postfix37_long_ids.log");
    const auto r = parse_maillog_line(first_line_with(lines, "to=<alice@gmail.test>"), 1796149800);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->queue_id.size(), 16u);
    EXPECT_EQ(r->to, "alice@gmail.test");
}

TEST(maillog_line, fields_of_a_delivery_line) {
    const auto r = parse_maillog_line(
        "Dec 01 18:28:52 mta postfix/msft-spare/smtp[8608]: E6F35A7233D: to=<r650@hotmail.test>, "
        "orig_to=<R650@Hotmail.test>, relay=127.0.0.1[127.0.0.1]:2792, conn_use=3, delay=0.07, "
        "delays=0/0.01/0.05/0.01, dsn=4.7.650, status=deferred (host x said: 451 4.7.650 a, b (in reply to RCPT TO "
        "command))",
        1796149800);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->service, "postfix/msft-spare");
    EXPECT_EQ(r->program, "smtp");
    EXPECT_EQ(r->orig_to, "R650@Hotmail.test");
    EXPECT_EQ(r->relay, "127.0.0.1[127.0.0.1]:2792");
    EXPECT_EQ(r->conn_use, 3u);
    EXPECT_DOUBLE_EQ(r->delay, 0.07);
    EXPECT_EQ(r->reply, "host x said: 451 4.7.650 a, b (in reply to RCPT TO command)");
    // 2026-12-01T18:28:52Z
    EXPECT_EQ(r->time, 1796149732);
}

TEST(maillog_line, time_stamps) {
    const std::int64_t now = 1796149800;  // 2026-12-01T18:30:00Z
    const char* tail = " mta postfix/qmgr[1]: ABCDEF123: removed";
    struct {
        std::string stamp;
        std::int64_t expect;
    } cases[] = {
        {"Dec 01 18:28:52", 1796149732},           {"Dec  1 18:28:52", 1796149732},
        {"Dec 31 23:59:59", 1767225599},  // a day ahead of now would be the future: last year
        {"Jan  1 00:00:00", 1767225600},           {"2026-12-01T18:28:52.123456+00:00", 1796149732},
        {"2026-12-01T19:28:52+01:00", 1796149732}, {"2026-12-01T18:28:52Z", 1796149732},
    };
    for (const auto& c : cases) {
        const auto r = parse_maillog_line(c.stamp + tail, now);
        ASSERT_TRUE(r.has_value()) << c.stamp;
        EXPECT_EQ(r->time, c.expect) << c.stamp;
        EXPECT_EQ(r->kind, line_kind::qmgr_removed) << c.stamp;
    }
}

TEST(maillog_line, hostile_input_is_an_error_not_a_crash) {
    const std::int64_t now = 1796149800;
    const std::string ok =
        "Dec 01 18:28:52 mta postfix/smtp[1]: ABCDEF123: to=<a@b>, relay=x, dsn=2.0.0, status=sent (ok)";
    ASSERT_TRUE(parse_maillog_line(ok, now).has_value());
    struct {
        std::string line;
        parse_error expect;
    } cases[] = {
        {"", parse_error::bad_timestamp},
        {"Dec", parse_error::bad_timestamp},
        {"Foo 01 18:28:52 mta postfix/smtp[1]: x", parse_error::bad_timestamp},
        {"Dec 32 18:28:52 mta postfix/smtp[1]: x", parse_error::bad_timestamp},
        {"Dec 01 25:28:52 mta postfix/smtp[1]: x", parse_error::bad_timestamp},
        {"2026-13-01T18:28:52Z mta p/s[1]: x", parse_error::bad_timestamp},
        {"2026-12-01T18:28:52 mta p/s[1]: x", parse_error::bad_timestamp},
        {"Dec 01 18:28:52 ", parse_error::bad_header},
        {"Dec 01 18:28:52 mta", parse_error::bad_header},
        {"Dec 01 18:28:52 mta postfix/smtp[1 ABCDEF123: x", parse_error::bad_header},
        {"Dec 01 18:28:52 mta postfix/smtp[1]: ABCDEF123: to=<a@b>, relay=x", parse_error::bad_delivery},
        {"Dec 01 18:28:52 mta postfix/smtp[1]: ABCDEF123: to=<a@b>, status=lost (x)", parse_error::bad_delivery},
        {"Dec 01 18:28:52 mta postfix/smtp[1]: ABCDEF123: to=<a@b>, delay=-1, status=sent (x)",
         parse_error::bad_delivery},
        {"Dec 01 18:28:52 mta postfix/smtp[1]: ABCDEF123: to=<a@b>, delay=abc, status=sent (x)",
         parse_error::bad_delivery},
        {"Dec 01 18:28:52 mta postfix/smtp[1]: ABCDEF123: to=<" + std::string(3000, 'a') + ">, status=sent (x)",
         parse_error::field_too_long},
        {ok + std::string(max_line_bytes, 'x'), parse_error::line_too_long},
    };
    for (const auto& c : cases) {
        const auto r = parse_maillog_line(c.line, now);
        ASSERT_FALSE(r.has_value()) << c.line.substr(0, 120);
        EXPECT_EQ(r.error(), c.expect) << c.line.substr(0, 120);
    }
}

TEST(maillog_line, non_postfix_and_odd_lines_are_other) {
    const std::int64_t now = 1796149800;
    for (const char* l : {"Dec 01 18:28:52 mta kernel: [1.0] eth0 up", "Dec 01 18:28:52 mta CRON[12]: (root) CMD x",
                          "Dec 01 18:28:52 mta postfix/smtpd[1]: NOQUEUE: reject: RCPT from x",
                          "Dec 01 18:28:52 mta postfix/smtp[1]: ABC: to=<a@b>"}) {
        const auto r = parse_maillog_line(l, now);
        ASSERT_TRUE(r.has_value()) << l;
        EXPECT_EQ(r->kind, line_kind::other) << l;
    }
}

}  // namespace
}  // namespace relaygate::watch
