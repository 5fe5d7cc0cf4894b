// decision_line_test.cpp: the maillog parser on relaygate-milter and
// relaygate-policy decision lines (tests/testdata/watch/decisions.log: a real
// private Postfix maillog_file with the milter and the policy daemon logging
// through --log-sink postlog, from decision_lines_e2e, plus policy lines captured
// through the same sink), on rsyslog's forms, on hostile input; and the
// tracker carrying the milter's first From domain into the ledger row.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "relaygate/watch/delivery_tracker.hpp"
#include "relaygate/watch/maillog_line.hpp"

namespace relaygate::watch {
namespace {

constexpr std::int64_t now = 1796160000;  // 2026-12-01T21:20:00Z, around the capture

std::vector<std::string> decisions_log() {
    std::ifstream in(std::string(RELAYGATE_SOURCE_DIR) + "/tests/testdata/watch/decisions.log");
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
}

std::string line_with(std::string_view needle) {
    for (const auto& l : decisions_log()) {
        if (l.find(needle) != std::string::npos) return l;
    }
    ADD_FAILURE() << "no line with " << needle;
    return {};
}

struct decision_case {
    const char* needle;
    line_kind kind;
    const char* queue_id;
    const char* action;
    const char* reason;
    const char* from_domains;
    const char* reply;
};

class real_decision_lines : public ::testing::TestWithParam<decision_case> {};

TEST_P(real_decision_lines, parse_as_expected) {
    const auto& c = GetParam();
    const std::string line = line_with(c.needle);
    const auto r = parse_maillog_line(line, now);
    ASSERT_TRUE(r.has_value()) << line;
    EXPECT_EQ(r->kind, c.kind) << line;
    EXPECT_EQ(r->host, "vm");
    EXPECT_EQ(r->queue_id, c.queue_id);
    EXPECT_EQ(r->action, c.action);
    EXPECT_EQ(r->reason, c.reason);
    EXPECT_EQ(r->from_domains, c.from_domains);
    EXPECT_EQ(r->reply, c.reply);
}

INSTANTIATE_TEST_SUITE_P(
    decisions_log, real_decision_lines,
    ::testing::Values(decision_case{"3DE5CA743B6 accept", line_kind::milter_decision, "3DE5CA743B6", "accept", "ok",
                                    "verified.example", ""},
                      decision_case{"4E4DAA74123 reject", line_kind::milter_decision, "4E4DAA74123", "reject",
                                    "not_registered", "unknown.example", ""},
                      decision_case{"9C1E4A7233F policy action=filter", line_kind::policy_decision, "9C1E4A7233F",
                                    "filter", "", "", ""},
                      decision_case{"9C1E4A7233F policy action=defer_rate", line_kind::policy_decision, "9C1E4A7233F",
                                    "defer_rate", "", "", ""},
                      decision_case{"- policy action=dunno", line_kind::policy_decision, "", "dunno", "", "", ""},
                      decision_case{"socketmap key=bob@outlook.test", line_kind::policy_steering, "", "", "domain_list",
                                    "", "\"OK msft-out:[127.0.0.1]:22534\""},
                      decision_case{"socketmap key=*", line_kind::policy_steering, "", "", "wildcard", "",
                                    "\"NOTFOUND \""},
                      // Lines of these programs that are not decisions.
                      decision_case{"relaygate-milter[2831]: - started", line_kind::other, "", "", "", "", ""},
                      decision_case{"relaygate-policy[2820]: - listening", line_kind::other, "", "", "", "", ""},
                      decision_case{"- registry_load_failed", line_kind::other, "", "", "", "", ""},
                      decision_case{"- shutdown signal=15", line_kind::other, "", "", "", "", ""}));

TEST(decision_lines, every_line_of_the_capture_parses) {
    std::size_t milter = 0, policy = 0, steering = 0;
    for (const auto& line : decisions_log()) {
        const auto r = parse_maillog_line(line, now);
        ASSERT_TRUE(r.has_value()) << line;
        milter += r->kind == line_kind::milter_decision;
        policy += r->kind == line_kind::policy_decision;
        steering += r->kind == line_kind::policy_steering;
    }
    EXPECT_EQ(milter, 2u);
    EXPECT_EQ(policy, 5u);
    EXPECT_EQ(steering, 4u);
}

TEST(decision_lines, rsyslog_forms_of_the_same_line) {
    const std::string body =
        " vm relaygate-milter[2831]: 3DE5CA743B6 tag reason=dkim_unverified domain=x.example "
        "from_domains=\"X.example,y.example\" client=127.0.0.1 sasl=\"\" sender=a@b rcpts=1 tag=\"unverified x\"";
    for (const std::string stamp : {"Dec  1 21:24:11", "2026-12-01T21:24:11.123456+00:00"}) {
        const auto r = parse_maillog_line(stamp + body, now);
        ASSERT_TRUE(r.has_value()) << stamp;
        EXPECT_EQ(r->kind, line_kind::milter_decision);
        EXPECT_EQ(r->time, 1796160000 + 4 * 60 + 11);
        EXPECT_EQ(r->action, "tag");
        EXPECT_EQ(r->reason, "dkim_unverified");
        EXPECT_EQ(r->from_domains, "\"X.example,y.example\"");
    }
}

TEST(decision_lines, hostile_input_is_rejected_not_misread) {
    const std::string head = "Dec 01 21:24:11 vm relaygate-milter[1]: ";
    const std::string pol = "Dec 01 21:24:11 vm relaygate-policy[1]: ";
    auto error = [&](const std::string& line) {
        const auto r = parse_maillog_line(line, now);
        return r.has_value() ? std::string("parsed") : std::string(to_string(r.error()));
    };
    EXPECT_EQ(error(head + "3DE5CA743B6 accept reason=ok from_domains=\"a.example"), "bad_decision");  // open quote
    EXPECT_EQ(error(head + "3DE5CA743B6 accept reason=ok x=\"a\"b"), "bad_decision");  // junk after the quote
    EXPECT_EQ(error(head + "3DE5CA743B6 accept reason=\"ok ok\""), "bad_decision");    // not a label token
    EXPECT_EQ(error(head + "3DE5CA743B6 accept reason=ok{x=\"1\"}"), "bad_decision");
    EXPECT_EQ(error(head + "3DE5CA743B6 accept from_domains=a.example"), "bad_decision");  // no reason
    EXPECT_EQ(error(head + "3DE5CA743B6 accept reason=" + std::string(65, 'a')), "bad_decision");
    EXPECT_EQ(error(head + "3DE5!A743B6 accept reason=ok"), "bad_decision");  // queue id
    EXPECT_EQ(error(head + "3DE5 accept reason=ok"), "bad_decision");
    EXPECT_EQ(error(head + "3DE5CA743B6 accept reason=ok =x"), "bad_decision");
    std::string many = head + "3DE5CA743B6 accept reason=ok";
    for (int i = 0; i < 64; ++i) many += " k=v";
    EXPECT_EQ(error(many), "bad_decision");
    EXPECT_EQ(error(head + "3DE5CA743B6 accept reason=ok from_domains=" + std::string(2049, 'a')), "field_too_long");
    EXPECT_EQ(error(head + "3DE5CA743B6 accept reason=ok x=" + std::string(8200, 'a')), "line_too_long");
    EXPECT_EQ(error(pol + "- socketmap key=a domain=a reason=domain_list"), "bad_decision");  // no reply
    EXPECT_EQ(error(pol + "ABCDE12345 socketmap key=a reply=OK reason=x"), "parsed");         // not "-": other
    EXPECT_EQ(error(pol + "- policy action="), "bad_decision");
    EXPECT_EQ(error(pol + "- policy"), "bad_decision");
    // Escapes inside quotes do not end the value; a trailing backslash does not run past the line.
    const auto esc = parse_maillog_line(head + "3DE5CA743B6 accept reason=ok from_domains=\"a\\\"b c\" x=1", now);
    ASSERT_TRUE(esc.has_value());
    EXPECT_EQ(esc->from_domains, "\"a\\\"b c\"");
    EXPECT_EQ(error(head + "3DE5CA743B6 accept reason=ok from_domains=\"a\\"), "bad_decision");
    // Other words after the queue id, or a bare tag: not decisions, not errors.
    EXPECT_EQ(parse_maillog_line(head + "3DE5CA743B6 deliver reason=ok", now)->kind, line_kind::other);
    EXPECT_EQ(parse_maillog_line(head + "x", now)->kind, line_kind::other);
    EXPECT_EQ(parse_maillog_line("Dec 01 21:24:11 vm relaygate-watch[1]: - flip family=m", now)->kind,
              line_kind::other);
}

TEST(decision_lines, unquote_reverses_log_quote) {
    EXPECT_EQ(log::unquote("plain"), "plain");
    EXPECT_EQ(log::unquote("\"\""), "");
    EXPECT_EQ(log::unquote("\"OK msft-out:[127.0.0.1]:25\""), "OK msft-out:[127.0.0.1]:25");
    EXPECT_EQ(log::unquote("\"a\\\"b\\\\c\""), "a\"b\\c");
    EXPECT_EQ(log::unquote("\"a\\x0ab\""), "a\nb");
    EXPECT_EQ(log::unquote("\"a\\xzz\""), "axzz");
    EXPECT_EQ(log::unquote("\"trailing\\\""), "trailing\\");
    EXPECT_EQ(log::unquote("\""), "\"");
}

TEST(decision_lines, first_from_domain) {
    EXPECT_EQ(first_from_domain("verified.example"), "verified.example");
    EXPECT_EQ(first_from_domain("\"B\xc3\xbc.Example,c.example\""), "b\xc3\xbc.example");
    EXPECT_EQ(first_from_domain("A.example,b.example"), "a.example");
    EXPECT_EQ(first_from_domain(""), "");
    EXPECT_EQ(first_from_domain("\"\""), "");
    EXPECT_EQ(first_from_domain(std::string(256, 'a')), "");
}

TEST(delivery_tracker, the_milter_line_fills_from_domain_of_the_bounce) {
    transport_map m;
    ASSERT_TRUE(m.add("postfix/msft-out=msft-out,microsoft,127.0.0.2"));
    delivery_tracker t({}, std::move(m));
    std::vector<failure_record> failures;
    std::size_t delivered = 0;
    for (const auto& line : decisions_log()) {
        auto o = t.observe(*parse_maillog_line(line, now));
        for (auto& f : o.failures) failures.push_back(f);
        delivered += o.delivered.has_value();
    }
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].queue_id, "3DE5CA743B6");
    EXPECT_EQ(failures[0].status, "bounced");
    EXPECT_EQ(failures[0].from_domain, "verified.example");
    EXPECT_EQ(failures[0].sender, "bounce@relay.example.net");
    EXPECT_EQ(failures[0].message_id, "<20261201212411.002847@vm>");
    EXPECT_EQ(delivered, 1u);  // the bounce notice (from_domain unknown: no milter line for it)
    // Both removed; the rejected message (no queue file) is forgotten at its milter line.
    EXPECT_EQ(t.tracked(), 0u);
}

TEST(delivery_tracker, from_domain_reaches_expired_rows_and_deferrals) {
    delivery_tracker t({.long_deferred_seconds = 10}, transport_map{});
    const std::string h = "Dec 01 21:24:11 ";
    auto feed = [&](const std::string& l) { return t.observe(*parse_maillog_line(h + l, now)); };
    feed("vm relaygate-milter[1]: ABCDE12345 accept reason=ok from_domains=Shop.example,x.example client=1");
    feed("mta postfix/qmgr[2]: ABCDE12345: from=<a@b.example>, size=1, nrcpt=1 (queue active)");
    auto d =
        feed("mta postfix/smtp[3]: ABCDE12345: to=<r@c.example>, relay=none, delay=20, dsn=4.4.1, status=deferred (x)");
    ASSERT_EQ(d.failures.size(), 1u);
    EXPECT_EQ(d.failures[0].from_domain, "shop.example");
    auto e = feed("mta postfix/qmgr[2]: ABCDE12345: from=<a@b.example>, status=expired, returned to sender");
    ASSERT_EQ(e.failures.size(), 1u);
    EXPECT_EQ(e.failures[0].from_domain, "shop.example");
    feed("vm relaygate-milter[1]: FEDCB54321 reject reason=not_registered from_domains=evil.example client=1");
    EXPECT_EQ(t.tracked(), 1u);  // only ABCDE12345
}

}  // namespace
}  // namespace relaygate::watch
