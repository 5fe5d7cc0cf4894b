// decision: exhaustive table of the From-domain gate — operator, verified,
// pending, failed and temporarily failing domains; SASL and network
// restrictions; header-level faults; the three modes; the missing-From policy;
// Sender:; which domain is signed. Each row names the sentence it proves.
#include "relaygate/milter/decision.hpp"

#include <gtest/gtest.h>

#include "standard_registry.hpp"

namespace relaygate::milter {
namespace {

using registry::ip_network;
using registry::verification_state;

// The standard milter test registry plus the cases only the pure gate needs.
registry::domain_registry fixture() {
    auto e = testing::standard_entries();
    e.push_back({.domain = "bare-failure.example", .selector = "s1"});
    e.push_back({.domain = "both.example",
                 .selector = "s1",
                 .sasl_logins = {"bob"},
                 .client_networks = {*ip_network::parse("203.0.113.0/24")}});
    e.push_back({.domain = "xn--bcher-kva.example", .selector = "s1"});
    auto s = testing::standard_states();
    for (auto d : {"both.example", "xn--bcher-kva.example"}) s[d].state = verification_state::verified;
    s["bare-failure.example"] = {.state = verification_state::failed};
    return registry::domain_registry(std::move(e), std::move(s), {testing::operator_domain});
}

struct decide_case {
    std::string name;
    message_headers headers;
    submitter who;
    verdict action;
    std::string reason_code;
    std::string reply;  // "550 5.7.1 text", "" for none
    std::string signing_domain = "";
    enforcement_mode mode = enforcement_mode::reject;
    missing_from_policy missing = missing_from_policy::reject;
    std::string tag_header = "";
};

void PrintTo(const decide_case& c, std::ostream* os) { *os << c.name; }

class decides : public ::testing::TestWithParam<decide_case> {};

TEST_P(decides, the_expected_verdict_and_reply) {
    const auto& c = GetParam();
    static const auto reg = fixture();
    auto d = decide(reg, c.headers, c.who, {.mode = c.mode, .missing_from = c.missing});
    EXPECT_EQ(to_string(d.action), to_string(c.action));
    EXPECT_EQ(d.reason_code, c.reason_code);
    EXPECT_EQ(d.reply.to_string(), c.reply);
    EXPECT_EQ(d.signing_domain, c.signing_domain);
    EXPECT_EQ(d.tag_header, c.tag_header);
}

message_headers from(std::string v) { return {.from = {std::move(v)}}; }
message_headers from_sender(std::string f, std::string s) { return {.from = {std::move(f)}, .sender = {std::move(s)}}; }
const submitter anyone{};
const submitter alice{.sasl_login = "alice", .client_address = "192.0.2.50"};
const submitter bob_inside{.sasl_login = "bob", .client_address = "203.0.113.7"};

INSTANTIATE_TEST_SUITE_P(
    gate, decides,
    ::testing::Values(
        decide_case{"operator_domain_is_accepted", from("n@relay.example.net"), anyone, verdict::accept, "ok", "",
                    "relay.example.net"},
        decide_case{"operator_subdomain_is_accepted", from("n@news.relay.example.net"), anyone, verdict::accept, "ok",
                    "", "news.relay.example.net"},
        decide_case{"lookalike_of_operator_domain_is_not", from("n@evilrelay.example.net"), anyone, verdict::reject,
                    "not_registered", "550 5.7.1 From domain evilrelay.example.net is not registered"},
        decide_case{"verified_domain_is_accepted_and_signed", from("News <n@verified.example>"), anyone,
                    verdict::accept, "ok", "", "verified.example"},
        decide_case{"verified_domain_any_case_and_trailing_dot", from("n@VERIFIED.Example."), anyone, verdict::accept,
                    "ok", "", "verified.example"},
        decide_case{"verified_idn_domain_as_u_label",
                    from("n@b\xc3\xbc"
                         "cher.example"),
                    anyone, verdict::accept, "ok", "", "xn--bcher-kva.example"},
        decide_case{"subdomain_of_verified_customer_is_not_covered", from("n@news.verified.example"), anyone,
                    verdict::reject, "not_registered", "550 5.7.1 From domain news.verified.example is not registered"},
        decide_case{"unregistered_domain_is_rejected", from("n@unknown.example"), anyone, verdict::reject,
                    "not_registered", "550 5.7.1 From domain unknown.example is not registered"},
        decide_case{"domain_literal_is_rejected", from("n@[192.0.2.1]"), anyone, verdict::reject, "not_registered",
                    "550 5.7.1 From domain [192.0.2.1] is not registered"},
        decide_case{"failed_dkim_names_the_missing_key", from("n@failed.example"), anyone, verdict::reject,
                    "dkim_no_record",
                    "550 5.7.1 From domain failed.example is not verified: no DKIM key at "
                    "s1._domainkey.failed.example"},
        decide_case{"failed_spf_names_the_ip", from("n@spf.example"), anyone, verdict::reject, "spf_fail",
                    "550 5.7.1 From domain spf.example is not verified: SPF of spf.example does not authorize "
                    "192.0.2.12"},
        decide_case{"failure_without_reason_text", from("n@bare-failure.example"), anyone, verdict::reject,
                    "not_verified", "550 5.7.1 From domain bare-failure.example is not verified"},
        decide_case{"pending_domain_is_tempfailed", from("n@pending.example"), anyone, verdict::tempfail, "pending",
                    "451 4.7.1 From domain pending.example is not verified yet: verification pending"},
        decide_case{"temporary_dns_failure_is_tempfailed", from("n@tempfail.example"), anyone, verdict::tempfail,
                    "dkim_temporary",
                    "451 4.7.1 From domain tempfail.example cannot be verified now: DNS timeout for "
                    "s1._domainkey.tempfail.example"},
        decide_case{"sasl_restricted_domain_with_allowed_login", from("n@sasl.example"), alice, verdict::accept, "ok",
                    "", "sasl.example"},
        decide_case{"sasl_restricted_domain_with_other_login",
                    from("n@sasl.example"),
                    {.sasl_login = "mallory", .client_address = "192.0.2.50"},
                    verdict::reject,
                    "sasl_not_allowed",
                    "550 5.7.1 From domain sasl.example may not be used by SASL login mallory"},
        decide_case{"sasl_restricted_domain_without_login", from("n@sasl.example"), anyone, verdict::reject,
                    "sasl_not_allowed",
                    "550 5.7.1 From domain sasl.example may not be used without SASL authentication"},
        decide_case{"network_restricted_domain_from_inside",
                    from("n@net.example"),
                    {.client_address = "198.51.100.9"},
                    verdict::accept,
                    "ok",
                    "",
                    "net.example"},
        decide_case{"network_restricted_domain_from_outside", from("n@net.example"), alice, verdict::reject,
                    "network_not_allowed", "550 5.7.1 From domain net.example may not be used from 192.0.2.50"},
        decide_case{"network_restricted_domain_unknown_client", from("n@net.example"), anyone, verdict::reject,
                    "network_not_allowed", "550 5.7.1 From domain net.example may not be used from an unknown client"},
        decide_case{"both_restrictions_met", from("n@both.example"), bob_inside, verdict::accept, "ok", "",
                    "both.example"},
        decide_case{"both_restrictions_right_login_wrong_network",
                    from("n@both.example"),
                    {.sasl_login = "bob", .client_address = "192.0.2.50"},
                    verdict::reject,
                    "network_not_allowed",
                    "550 5.7.1 From domain both.example may not be used from 192.0.2.50"},
        decide_case{"restriction_is_checked_before_state", from("n@sasl.example"), anyone, verdict::reject,
                    "sasl_not_allowed",
                    "550 5.7.1 From domain sasl.example may not be used without SASL authentication"},
        decide_case{"every_from_mailbox_is_checked", from("a@verified.example, b@unknown.example"), anyone,
                    verdict::reject, "not_registered", "550 5.7.1 From domain unknown.example is not registered",
                    "verified.example"},
        decide_case{"permanent_finding_beats_temporary", from("a@pending.example, b@unknown.example"), anyone,
                    verdict::reject, "not_registered", "550 5.7.1 From domain unknown.example is not registered"},
        decide_case{"first_permanent_finding_is_reported", from("a@unknown.example, b@failed.example"), anyone,
                    verdict::reject, "not_registered", "550 5.7.1 From domain unknown.example is not registered"},
        decide_case{"group_members_are_checked", from("Team: a@relay.example.net, b@unknown.example;"), anyone,
                    verdict::reject, "not_registered", "550 5.7.1 From domain unknown.example is not registered",
                    "relay.example.net"},
        decide_case{"quoted_display_name_cannot_smuggle_a_domain", from("\"n@verified.example\" <n@unknown.example>"),
                    anyone, verdict::reject, "not_registered",
                    "550 5.7.1 From domain unknown.example is not registered"},
        decide_case{"two_from_headers_are_rejected",
                    {.from = {"a@verified.example", "b@verified.example"}},
                    anyone,
                    verdict::reject,
                    "multiple_from",
                    "550 5.7.1 Message has 2 From headers; RFC 5322 allows one"},
        decide_case{"missing_from_is_rejected_by_default",
                    {},
                    anyone,
                    verdict::reject,
                    "no_from",
                    "550 5.7.1 Message has no From header"},
        decide_case{"missing_from_can_be_accepted",
                    {},
                    anyone,
                    verdict::accept,
                    "ok",
                    "",
                    "",
                    enforcement_mode::reject,
                    missing_from_policy::accept},
        decide_case{"missing_from_accepted_but_sender_checked",
                    {.sender = {"s@unknown.example"}},
                    anyone,
                    verdict::reject,
                    "not_registered",
                    "550 5.7.1 Sender domain unknown.example is not registered",
                    "",
                    enforcement_mode::reject,
                    missing_from_policy::accept},
        decide_case{"unparsable_from_is_rejected", from("a@good.example\nFrom: b@evil.example"), anyone,
                    verdict::reject, "from_unparsable",
                    "550 5.7.1 From header cannot be parsed: line break not followed by white space"},
        decide_case{"from_without_mailbox_is_rejected", from("undisclosed-recipients:;"), anyone, verdict::reject,
                    "from_no_mailbox", "550 5.7.1 From header has no mailbox"},
        decide_case{"sender_is_checked_too", from_sender("a@verified.example", "s@unknown.example"), anyone,
                    verdict::reject, "not_registered", "550 5.7.1 Sender domain unknown.example is not registered",
                    "verified.example"},
        decide_case{"sender_of_operator_domain_is_fine",
                    from_sender("a@verified.example, b@relay.example.net", "s@relay.example.net"), anyone,
                    verdict::accept, "ok", "", "verified.example"},
        decide_case{"two_sender_headers_are_rejected",
                    {.from = {"a@verified.example"}, .sender = {"s@verified.example", "t@verified.example"}},
                    anyone,
                    verdict::reject,
                    "multiple_sender",
                    "550 5.7.1 Message has 2 Sender headers; RFC 5322 allows one",
                    "verified.example"},
        decide_case{"unparsable_sender_is_rejected", from_sender("a@verified.example", "<oops"), anyone,
                    verdict::reject, "sender_unparsable", "550 5.7.1 Sender header cannot be parsed: expected '@'",
                    "verified.example"},
        decide_case{"tempfail_mode_softens_permanent_findings", from("n@unknown.example"), anyone, verdict::tempfail,
                    "not_registered", "451 4.7.1 From domain unknown.example is not registered", "",
                    enforcement_mode::tempfail},
        decide_case{"tempfail_mode_accepts_verified", from("n@verified.example"), anyone, verdict::accept, "ok", "",
                    "verified.example", enforcement_mode::tempfail},
        decide_case{"tag_mode_accepts_and_tags_a_rejection", from("n@unknown.example"), anyone, verdict::tag,
                    "not_registered", "", "", enforcement_mode::tag, missing_from_policy::reject,
                    "reject; reason=not_registered; domain=unknown.example"},
        decide_case{"tag_mode_tags_a_temporary_finding", from("n@pending.example"), anyone, verdict::tag, "pending", "",
                    "", enforcement_mode::tag, missing_from_policy::reject,
                    "tempfail; reason=pending; domain=pending.example"},
        decide_case{"tag_mode_tags_a_pass", from("n@verified.example"), anyone, verdict::accept, "ok", "",
                    "verified.example", enforcement_mode::tag, missing_from_policy::reject, "pass"},
        decide_case{"tag_mode_header_level_reason_has_no_domain",
                    {},
                    anyone,
                    verdict::tag,
                    "no_from",
                    "",
                    "",
                    enforcement_mode::tag,
                    missing_from_policy::reject,
                    "reject; reason=no_from"}),
    [](const auto& info) { return info.param.name; });

TEST(decision, operator_signing_domain_is_flagged) {
    auto d = decide(fixture(), from("n@relay.example.net"), anyone, {});
    EXPECT_TRUE(d.signing_domain_is_operator);
    d = decide(fixture(), from("n@verified.example"), anyone, {});
    EXPECT_FALSE(d.signing_domain_is_operator);
}

TEST(decision, lists_every_from_domain_for_the_logs) {
    auto d = decide(fixture(), from("a@verified.example, b@unknown.example, c@relay.example.net"), anyone, {});
    EXPECT_EQ(d.from_domains, (std::vector<std::string>{"verified.example", "unknown.example", "relay.example.net"}));
    EXPECT_EQ(d.domain, "unknown.example");
}

TEST(decision, empty_registry_rejects_every_custom_domain) {
    registry::domain_registry empty;
    auto d = decide(empty, from("n@verified.example"), anyone, {});
    EXPECT_EQ(d.action, verdict::reject);
    EXPECT_TRUE(d.signing_domain.empty());
}

TEST(decision, modes_and_policies_round_trip_through_text) {
    for (auto m : {enforcement_mode::reject, enforcement_mode::tempfail, enforcement_mode::tag}) {
        EXPECT_EQ(parse_enforcement_mode(to_string(m)), m);
    }
    for (auto p : {missing_from_policy::reject, missing_from_policy::accept}) {
        EXPECT_EQ(parse_missing_from_policy(to_string(p)), p);
    }
    EXPECT_FALSE(parse_enforcement_mode("Reject").has_value());
    EXPECT_FALSE(parse_missing_from_policy("").has_value());
}

TEST(smtp_reply, wire_text_doubles_percent_and_drops_line_breaks) {
    smtp_reply r{"550", "5.7.1", "100% bad\r\nQUIT\x01 caf\xc3\xa9"};
    EXPECT_EQ(r.wire_text(), "100%% bad??QUIT? caf??");
    EXPECT_EQ(smtp_reply({"550", "5.7.1", std::string(500, '%')}).wire_text().size(), 400u);
    EXPECT_EQ(smtp_reply({"550", "5.7.1", std::string(500, '%')}).wire_text().find("%%%%"), 0u);
    EXPECT_EQ(r.to_string().substr(0, 10), "550 5.7.1 ");
}

// Hostile header sets: what message_headers::add() keeps is bounded by its limits, not by the message,
// and the verdict is the one the whole set would get.
TEST(message_headers, a_thousand_from_headers_of_60_kb_keep_two_cut_values_and_their_count) {
    const from_header_limits limits;  // 16 KiB per value
    message_headers h;
    const std::string value = "a@" + std::string(60 * 1024, 'x') + ".example";
    for (int i = 0; i < 1000; ++i) h.add(i % 2 ? "FROM" : "From", value, limits);
    EXPECT_EQ(h.from_seen, 1000u);
    ASSERT_EQ(h.from.size(), message_headers::max_kept_values);
    for (const auto& v : h.from) EXPECT_EQ(v.size(), limits.max_bytes + 1);
    static const auto reg = fixture();
    const auto d = decide(reg, h, {}, {});
    EXPECT_EQ(d.reason_code, "multiple_from");
    EXPECT_EQ(d.reply.to_string(), "550 5.7.1 Message has 1000 From headers; RFC 5322 allows one");
}

TEST(message_headers, one_overlong_from_gets_the_reply_of_the_whole_value) {
    const from_header_limits limits{.max_bytes = 100};
    const std::string value = "a@verified.example, " + std::string(500, 'b') + "@unknown.example";
    message_headers cut;
    cut.add("from", value, limits);
    ASSERT_EQ(cut.from.size(), 1u);
    EXPECT_EQ(cut.from.front().size(), 101u);
    static const auto reg = fixture();
    const auto whole = decide(reg, {.from = {value}}, {}, {.limits = limits});
    const auto kept = decide(reg, cut, {}, {.limits = limits});
    EXPECT_EQ(kept.reason_code, "from_unparsable");
    EXPECT_EQ(kept.reply.to_string(), whole.reply.to_string());
}

TEST(message_headers, only_from_and_sender_are_kept_and_sender_is_counted_too) {
    const from_header_limits limits;
    message_headers h;
    h.add("Subject", "From: a@unknown.example", limits);
    h.add("Fromx", "a@unknown.example", limits);
    h.add("From", "a@verified.example", limits);
    for (int i = 0; i < 5; ++i) h.add("sender", "s@verified.example", limits);
    EXPECT_EQ(h.from, std::vector<std::string>{"a@verified.example"});
    EXPECT_EQ(h.sender.size(), 2u);
    EXPECT_EQ(h.sender_seen, 5u);
    static const auto reg = fixture();
    EXPECT_EQ(decide(reg, h, {}, {}).reply.to_string(), "550 5.7.1 Message has 5 Sender headers; RFC 5322 allows one");
}

}  // namespace
}  // namespace relaygate::milter
