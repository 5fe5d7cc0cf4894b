// decision_line_test.cpp: the one codec of the decision lines. The writers
// give back the exact text of lines captured from the real daemons
// (tests/testdata/watch/decisions.log), what a writer writes the reader reads
// back (every vocabulary word, hostile values), and the reader reads the
// socketmap lines of the older writer (no status=/transport=) the same way.
#include "relaygate/log/decision_line.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "relaygate/log/log.hpp"

namespace relaygate::log {
namespace {

// The captured lines' bodies (after "relaygate-xxx[pid]: ").
TEST(decision_line_writer, milter_lines_are_byte_identical_to_the_capture) {
    EXPECT_EQ(write_milter_line({.queue_id = "3DE5CA743B6",
                                 .action = milter_action::accept,
                                 .reason = decision_reason::ok,
                                 .from_domains = "verified.example",
                                 .client = "127.0.0.1",
                                 .sender = "bounce@relay.example.net",
                                 .rcpts = 1,
                                 .dkim = dkim_status::signed_}),
              "3DE5CA743B6 accept reason=ok from_domains=verified.example client=127.0.0.1 sasl=\"\" "
              "sender=bounce@relay.example.net rcpts=1 dkim=signed");
    EXPECT_EQ(write_milter_line({.queue_id = "4E4DAA74123",
                                 .action = milter_action::reject,
                                 .reason = decision_reason::not_registered,
                                 .domain = "unknown.example",
                                 .from_domains = "unknown.example",
                                 .client = "127.0.0.1",
                                 .sender = "bounce@relay.example.net",
                                 .rcpts = 1,
                                 .reply = "550 5.7.1 From domain unknown.example is not registered"}),
              "4E4DAA74123 reject reason=not_registered domain=unknown.example from_domains=unknown.example "
              "client=127.0.0.1 sasl=\"\" sender=bounce@relay.example.net rcpts=1 "
              "reply=\"550 5.7.1 From domain unknown.example is not registered\"");
}

TEST(decision_line_writer, policy_lines_are_byte_identical_to_the_capture) {
    EXPECT_EQ(write_policy_line({.action = policy_action::filter,
                                 .state = "RCPT",
                                 .sender = "news@brand.test",
                                 .recipient = "bob@outlook.test",
                                 .client = "127.0.0.1",
                                 .sasl = "alice",
                                 .filter = "msft-out:[127.0.0.1]:2525"}),
              "- policy action=filter state=RCPT sender=news@brand.test recipient=bob@outlook.test client=127.0.0.1 "
              "sasl=alice filter=msft-out:[127.0.0.1]:2525");
    EXPECT_EQ(write_policy_line({.queue_id = "9C1E4A7233F",
                                 .action = policy_action::defer_rate,
                                 .state = "RCPT",
                                 .sender = "news@brand.test",
                                 .recipient = "carol@example.net",
                                 .client = "127.0.0.1",
                                 .detail = "limit=sender_domain:recipients:1/3600 key=brand.test current=1"}),
              "9C1E4A7233F policy action=defer_rate state=RCPT sender=news@brand.test recipient=carol@example.net "
              "client=127.0.0.1 limit=sender_domain:recipients:1/3600 key=brand.test current=1");
}

TEST(decision_line_writer, socketmap_lines_add_status_and_transport_to_the_captured_form) {
    EXPECT_EQ(write_socketmap_line({.key = "bob@outlook.test",
                                    .domain = "outlook.test",
                                    .status = socketmap_status::ok,
                                    .value = "msft-out:[127.0.0.1]:22534",
                                    .reason = "domain_list"}),
              "- socketmap key=bob@outlook.test domain=outlook.test reply=\"OK msft-out:[127.0.0.1]:22534\" "
              "reason=domain_list status=ok transport=msft-out");
    EXPECT_EQ(write_socketmap_line({.key = "*", .status = socketmap_status::notfound, .reason = "wildcard"}),
              "- socketmap key=* domain=- reply=\"NOTFOUND \" reason=wildcard status=notfound");
}

// The fields are views into body: keep it alive while they are used.
decision_fields read(std::string_view program, const std::string& body) {
    auto r = read_decision_line(program, body);
    EXPECT_EQ(r.what, decision_read::outcome::decision) << body;
    return r.fields;
}

// Every action, reason and DKIM status, with values that need quoting.
TEST(decision_line_codec, milter_lines_round_trip) {
    for (int a = 0; a <= static_cast<int>(milter_action::tag); ++a) {
        for (int why = 0; why <= static_cast<int>(decision_reason::other); ++why) {
            for (int k = 0; k <= static_cast<int>(dkim_status::error); ++k) {
                const milter_line m{.queue_id = "3DE5CA743B6",
                                    .action = static_cast<milter_action>(a),
                                    .reason = static_cast<decision_reason>(why),
                                    .domain = "b\xc3\xbc.example",
                                    .from_domains = "a \"x\".example,b=c\\d",
                                    .client = "2001:db8::1",
                                    .sasl = "",
                                    .sender = "a\nb@c",
                                    .rcpts = 3,
                                    .reply = "550 5.7.1 no",
                                    .tag = "t",
                                    .dkim = static_cast<dkim_status>(k),
                                    .dkim_error = "smfi_insheader failed"};
                const std::string line = write_milter_line(m);
                const auto d = read("relaygate-milter", line);
                EXPECT_EQ(d.what, decision_fields::kind::milter);
                EXPECT_EQ(d.queue_id, m.queue_id);
                EXPECT_EQ(d.action, m.action);
                EXPECT_EQ(d.reason, m.reason);
                EXPECT_EQ(d.reason_token, to_string(m.reason));
                EXPECT_EQ(unquote(d.from_domains), m.from_domains);
                EXPECT_EQ(d.dkim, m.dkim);
            }
        }
    }
}

// The URL check's fields ride at the end of the milter line; the reader still reads the decision.
TEST(decision_line_codec, milter_lines_with_url_fields_are_read) {
    const std::string line = write_milter_line({.queue_id = "5A1B2C3D",
                                                .action = milter_action::accept,
                                                .reason = decision_reason::ok,
                                                .from_domains = "verified.example",
                                                .client = "127.0.0.1",
                                                .sender = "b@relay.example.net",
                                                .rcpts = 1,
                                                .dkim = dkim_status::signed_,
                                                .url = "url_action=warn url_risk=listed url_domain=evil.example "
                                                       "url_findings=1 urls=2"});
    EXPECT_TRUE(
        line.ends_with(" dkim=signed url_action=warn url_risk=listed url_domain=evil.example url_findings=1 "
                       "urls=2"))
        << line;
    const auto d = read("relaygate-milter", line);
    EXPECT_EQ(d.what, decision_fields::kind::milter);
    EXPECT_EQ(d.from_domains, "verified.example");
    EXPECT_EQ(d.dkim, dkim_status::signed_);
}

TEST(decision_line_codec, policy_and_socketmap_lines_round_trip) {
    for (int a = 0; a <= static_cast<int>(policy_action::filter); ++a) {
        const std::string line = write_policy_line({.action = static_cast<policy_action>(a),
                                                    .sender = "x y@z",
                                                    .recipient = "",
                                                    .filter = "msft-out:",
                                                    .failures = 3});
        const auto d = read("relaygate-policy", line);
        EXPECT_EQ(d.what, decision_fields::kind::policy);
        EXPECT_EQ(d.policy, static_cast<policy_action>(a));
        EXPECT_EQ(d.queue_id, "");
    }
    // The writer takes the reply typed (status, value); the reader gets the same status back,
    // the transport from an ok value, and the reply text as Postfix received it.
    struct typed {
        socketmap_status status;
        std::string value, wire, transport;
    };
    for (const auto& t : std::vector<typed>{
             {socketmap_status::ok, "msft-spare:[192.0.2.1]:25", "OK msft-spare:[192.0.2.1]:25", "msft-spare"},
             {socketmap_status::notfound, "", "NOTFOUND ", ""},
             {socketmap_status::temp, "MX lookup failed", "TEMP MX lookup failed", ""},
             {socketmap_status::perm, "unknown map", "PERM unknown map", ""},
             {socketmap_status::timeout, "x", "TIMEOUT x", ""},
             {socketmap_status::ok, "bad/transport:x", "OK bad/transport:x", "other"},
             {socketmap_status::other, "junk", "junk", ""}}) {
        const auto line = write_socketmap_line(
            {.key = "a b@c", .domain = "c", .status = t.status, .value = t.value, .reason = "mx_other"});
        const auto d = read("relaygate-policy", line);
        EXPECT_EQ(d.what, decision_fields::kind::socketmap);
        EXPECT_EQ(unquote(d.reply), t.wire);
        EXPECT_EQ(d.steering_reason, "mx_other");
        EXPECT_EQ(d.status, t.status) << line;
        EXPECT_EQ(d.transport, t.transport) << line;
        // The older reader path (from the reply text alone) agrees with the typed writer.
        EXPECT_EQ(socketmap_reply_parts(t.wire).first, t.status) << line;
    }
}

TEST(decision_line_reader, older_socketmap_lines_get_status_and_transport_from_the_reply) {
    const std::string old_ok =
        "- socketmap key=bob@outlook.test domain=outlook.test reply=\"OK msft-out:[127.0.0.1]:22534\" "
        "reason=domain_list";
    const auto ok = read("relaygate-policy", old_ok);
    EXPECT_EQ(ok.status, socketmap_status::ok);
    EXPECT_EQ(ok.transport, "msft-out");
    const std::string old_nf = "- socketmap key=* domain=- reply=\"NOTFOUND \" reason=wildcard";
    const auto nf = read("relaygate-policy", old_nf);
    EXPECT_EQ(nf.status, socketmap_status::notfound);
    EXPECT_EQ(nf.transport, "");
    EXPECT_EQ(socketmap_reply_parts("OK a@b:x").second, "other");  // not a transport token
    EXPECT_EQ(socketmap_reply_parts("NOTFOUNDNOTFOUNDNOTFOUND ").first, socketmap_status::other);
}

TEST(decision_line_reader, unknown_words_and_hostile_values) {
    using outcome = decision_read::outcome;
    auto what = [](std::string_view program, std::string_view body) { return read_decision_line(program, body).what; };
    EXPECT_EQ(what("relaygate-milter", "- started socket=x"), outcome::not_a_decision);
    EXPECT_EQ(what("relaygate-milter", "3DE5CA743B6 deliver reason=ok"), outcome::not_a_decision);
    EXPECT_EQ(what("relaygate-policy", "ABCDE12345 socketmap key=a reply=OK reason=x"), outcome::not_a_decision);
    EXPECT_EQ(what("relaygate-policy", "- policy action=shrug"), outcome::bad_line);  // closed vocabulary
    EXPECT_EQ(what("relaygate-milter", "3DE5CA743B6 accept reason=ok dkim=\"x"), outcome::bad_line);
    EXPECT_EQ(what("relaygate-milter", "3DE5CA743B6 accept reason=ok x=" + std::string(2049, 'a')),
              outcome::field_too_long);
    // A reason this version does not write is kept as logged, typed as other.
    auto r = read_decision_line("relaygate-milter", "3DE5CA743B6 tag reason=dkim_unverified dkim=error:x");
    ASSERT_EQ(r.what, outcome::decision);
    EXPECT_EQ(r.fields.reason, decision_reason::other);
    EXPECT_EQ(r.fields.reason_token, "dkim_unverified");
    EXPECT_EQ(r.fields.dkim, dkim_status::error);
}

TEST(decision_line_reader, unquote_reverses_quote) {
    for (std::string v : {"plain", "", "a b", "a\"b\\c", "a\nb\x7f", "b\xc3\xbc"}) EXPECT_EQ(unquote(quote(v)), v);
}

}  // namespace
}  // namespace relaygate::log
