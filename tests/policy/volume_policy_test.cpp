// Volume management decisions over the in-process counters with an injected
// clock: per-dimension limits at RCPT, counting at END-OF-MESSAGE, sliding
// windows, size caps per sender class, rule parsing, the wire format.
#include "relaygate/policy/volume_policy.hpp"

#include <gtest/gtest.h>

namespace relaygate::policy {
namespace {

policy_request rcpt(std::string_view sender, std::string_view client = "192.0.2.1", std::string_view sasl = "",
                    std::uint64_t size = 0) {
    policy_request r;
    r.request = "smtpd_access_policy";
    r.protocol_state = "RCPT";
    r.sender = sender;
    r.recipient = "x@example.net";
    r.client_address = client;
    r.sasl_username = sasl;
    r.size = size;
    return r;
}

policy_request eom(std::string_view sender, std::uint64_t size) {
    policy_request r = rcpt(sender);
    r.protocol_state = "END-OF-MESSAGE";
    r.size = size;
    return r;
}

volume_config with_rules(std::initializer_list<const char*> rules) {
    volume_config c;
    for (const char* r : rules) c.rules.push_back(*parse_rate_rule(r));
    return c;
}

constexpr std::int64_t t0 = 1'700'000'000'000;  // ms, on a window boundary for 100 s windows

TEST(volume_policy, recipients_over_the_sender_domain_limit_are_deferred) {
    auto cfg = with_rules({"sender_domain:recipients:3/100s"});
    auto counters = make_local_counter_store();
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(decide_volume(rcpt("a@Brand.Example"), cfg, *counters, nullptr, t0).what, verdict::dunno);
    auto d = decide_volume(rcpt("b@brand.example"), cfg, *counters, nullptr, t0);
    EXPECT_EQ(d.what, verdict::defer_rate);
    EXPECT_EQ(format_action(d),
              "action=DEFER_IF_PERMIT 4.7.1 Sender domain brand.example is over its limit of 3 recipients per 100 s; "
              "try again later\n\n");
    // Another sender domain is not affected.
    EXPECT_EQ(decide_volume(rcpt("a@other.example"), cfg, *counters, nullptr, t0).what, verdict::dunno);
}

TEST(volume_policy, the_window_slides_and_the_sender_gets_through_again) {
    auto cfg = with_rules({"sender_domain:recipients:2/100s"});
    auto counters = make_local_counter_store();
    decide_volume(rcpt("a@b.example"), cfg, *counters, nullptr, t0);
    decide_volume(rcpt("a@b.example"), cfg, *counters, nullptr, t0);
    EXPECT_EQ(decide_volume(rcpt("a@b.example"), cfg, *counters, nullptr, t0 + 50'000).what, verdict::defer_rate);
    // Half-way through the next window half of the old count still weighs: 2*0.5 = 1 < 2.
    EXPECT_EQ(decide_volume(rcpt("a@b.example"), cfg, *counters, nullptr, t0 + 150'000).what, verdict::dunno);
    // Two full windows later nothing is left.
    auto later = t0 + 400'000;
    EXPECT_EQ(decide_volume(rcpt("a@b.example"), cfg, *counters, nullptr, later).what, verdict::dunno);
    EXPECT_EQ(decide_volume(rcpt("a@b.example"), cfg, *counters, nullptr, later).what, verdict::dunno);
    EXPECT_EQ(decide_volume(rcpt("a@b.example"), cfg, *counters, nullptr, later).what, verdict::defer_rate);
}

TEST(volume_policy, a_deferred_recipient_is_not_counted) {
    auto cfg = with_rules({"client_address:recipients:1/100s", "sender_domain:recipients:2/100s"});
    auto counters = make_local_counter_store();
    EXPECT_EQ(decide_volume(rcpt("a@b.example", "192.0.2.1"), cfg, *counters, nullptr, t0).what, verdict::dunno);
    EXPECT_EQ(decide_volume(rcpt("a@b.example", "192.0.2.1"), cfg, *counters, nullptr, t0).what, verdict::defer_rate);
    // The sender domain has used 1 of 2, not 2: a new client still gets one.
    EXPECT_EQ(decide_volume(rcpt("a@b.example", "192.0.2.2"), cfg, *counters, nullptr, t0).what, verdict::dunno);
}

TEST(volume_policy, messages_and_bytes_are_counted_at_end_of_message_and_enforced_at_rcpt) {
    auto cfg = with_rules({"sender_domain:messages:2/100s", "sasl_username:bytes:1000/100s"});
    auto counters = make_local_counter_store();
    EXPECT_EQ(decide_volume(eom("a@b.example", 100), cfg, *counters, nullptr, t0).what, verdict::dunno);
    EXPECT_EQ(decide_volume(rcpt("a@b.example"), cfg, *counters, nullptr, t0).what, verdict::dunno);
    EXPECT_EQ(decide_volume(eom("a@b.example", 100), cfg, *counters, nullptr, t0).what, verdict::dunno);
    auto d = decide_volume(rcpt("a@b.example"), cfg, *counters, nullptr, t0);
    EXPECT_EQ(d.what, verdict::defer_rate);
    EXPECT_NE(d.text.find("2 messages per 100 s"), std::string::npos) << d.text;
}

TEST(volume_policy, declared_size_at_rcpt_is_checked_against_the_byte_window) {
    auto cfg = with_rules({"sasl_username:bytes:1000/100s"});
    auto counters = make_local_counter_store();
    auto big = rcpt("a@b.example", "192.0.2.1", "cust1", 1001);
    auto d = decide_volume(big, cfg, *counters, nullptr, t0);
    EXPECT_EQ(d.what, verdict::defer_rate);
    EXPECT_NE(d.text.find("Login cust1"), std::string::npos) << d.text;
    // Without a login the sasl dimension does not apply.
    EXPECT_EQ(decide_volume(rcpt("a@b.example", "192.0.2.1", "", 1001), cfg, *counters, nullptr, t0).what,
              verdict::dunno);
}

TEST(volume_policy, other_protocol_states_are_not_counted) {
    auto cfg = with_rules({"client_address:recipients:0/100s"});
    auto counters = make_local_counter_store();
    policy_request r = rcpt("a@b.example");
    r.protocol_state = "DATA";
    EXPECT_EQ(decide_volume(r, cfg, *counters, nullptr, t0).what, verdict::dunno);
    EXPECT_EQ(counters->keys(), 0u);
}

TEST(volume_policy, size_caps_follow_the_sender_class) {
    registry::domain_registry reg({registry::domain_entry{.domain = "customer.example"}}, {}, {"operator.example"});
    volume_config cfg;
    cfg.size_caps = {{"default", 1000}, {"registered", 5000}, {"operator", 0}};
    auto counters = make_local_counter_store();
    auto d = decide_volume(eom("a@unknown.example", 2000), cfg, *counters, &reg, t0);
    EXPECT_EQ(d.what, verdict::defer_size);
    EXPECT_EQ(format_action(d),
              "action=DEFER_IF_PERMIT 4.7.1 Message size 2000 exceeds the limit of 1000 bytes for other senders\n\n");
    EXPECT_EQ(decide_volume(eom("a@customer.example", 2000), cfg, *counters, &reg, t0).what, verdict::dunno);
    EXPECT_EQ(decide_volume(eom("a@customer.example", 6000), cfg, *counters, &reg, t0).what, verdict::defer_size);
    EXPECT_EQ(decide_volume(eom("a@news.operator.example", 1 << 30), cfg, *counters, &reg, t0).what, verdict::dunno);
    // At RCPT the client's declared SIZE is checked.
    EXPECT_EQ(decide_volume(rcpt("a@unknown.example", "192.0.2.1", "", 2000), cfg, *counters, &reg, t0).what,
              verdict::defer_size);
}

TEST(volume_policy, the_sender_dimension_counts_each_address_case_insensitively) {
    auto cfg = with_rules({"sender:recipients:1/100s"});
    auto counters = make_local_counter_store();
    EXPECT_EQ(decide_volume(rcpt("News@B.example"), cfg, *counters, nullptr, t0).what, verdict::dunno);
    auto d = decide_volume(rcpt("news@b.example"), cfg, *counters, nullptr, t0);
    EXPECT_EQ(d.what, verdict::defer_rate);
    EXPECT_NE(d.text.find("Sender news@b.example is over its limit of 1 recipients"), std::string::npos) << d.text;
    EXPECT_EQ(decide_volume(rcpt("pr@b.example"), cfg, *counters, nullptr, t0).what, verdict::dunno);
}

TEST(volume_policy, the_null_sender_skips_the_sender_domain_dimension) {
    auto cfg = with_rules({"sender_domain:recipients:0/100s"});
    auto counters = make_local_counter_store();
    EXPECT_EQ(decide_volume(rcpt(""), cfg, *counters, nullptr, t0).what, verdict::dunno);
}

TEST(rate_rule_parse, accepts_units_and_rejects_junk) {
    auto r = parse_rate_rule("client_address:bytes:1000000/2h");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->dim, dimension::client_address);
    EXPECT_EQ(r->what, metric::bytes);
    EXPECT_EQ(r->max, 1000000u);
    EXPECT_EQ(r->window_s, 7200u);
    EXPECT_EQ(parse_rate_rule("sender_domain:messages:5/90")->window_s, 90u);
    EXPECT_EQ(parse_rate_rule("sender_domain:messages:5/1d")->window_s, 86400u);
    for (const char* bad : {"", "sender_domain:messages", "recipient:messages:5/1h", "sender_domain:mails:5/1h",
                            "sender_domain:messages:x/1h", "sender_domain:messages:5/0", "sender_domain:messages:5/1y",
                            "sender_domain:messages:5/31d", "sender_domain:messages:-5/1h"})
        EXPECT_FALSE(parse_rate_rule(bad).has_value()) << bad;
}

TEST(rate_rules_parse, refuses_two_limits_that_would_share_one_counter) {
    // Same dimension, metric and window: one counter key, so each recipient
    // would be counted once per rule. The error names both limits.
    auto dup = parse_rate_rules(
        {"sender_domain:recipients:100/1h", "sender:messages:5/1h", "sender_domain:recipients:500/3600s"});
    ASSERT_FALSE(dup.has_value());
    EXPECT_NE(dup.error().find("'sender_domain:recipients:500/3600s'"), std::string::npos) << dup.error();
    EXPECT_NE(dup.error().find("'sender_domain:recipients:100/1h'"), std::string::npos) << dup.error();
    // A different window, metric or dimension is a counter of its own.
    auto ok = parse_rate_rules({"sender_domain:recipients:100/1h", "sender_domain:recipients:1000/1d",
                                "sender_domain:messages:100/1h", "sender:recipients:100/1h"});
    ASSERT_TRUE(ok.has_value()) << ok.error();
    EXPECT_EQ(ok->size(), 4u);
    std::vector<std::string> seventeen;
    for (int i = 1; i <= 17; ++i) seventeen.push_back("sender:messages:5/" + std::to_string(i) + "m");
    EXPECT_FALSE(parse_rate_rules(seventeen).has_value());
}

TEST(volume_policy, distinct_limits_on_one_dimension_count_each_recipient_once) {
    // Two limits over one key (sender domain, recipients) with different
    // windows: each needs a counter of its own. The in-process store once kept
    // one per dimension and metric, so each rule reset the other's window and
    // the 2/1h limit never deferred.
    auto cfg = with_rules({"sender_domain:recipients:2/1h", "sender_domain:recipients:100/1d"});
    auto counters = make_local_counter_store();
    EXPECT_EQ(decide_volume(rcpt("a@shop.example"), cfg, *counters, nullptr, t0).what, verdict::dunno);
    EXPECT_EQ(decide_volume(rcpt("a@shop.example"), cfg, *counters, nullptr, t0).what, verdict::dunno);
    EXPECT_EQ(decide_volume(rcpt("a@shop.example"), cfg, *counters, nullptr, t0).what, verdict::defer_rate);
}

TEST(size_cap_parse, knows_the_classes) {
    EXPECT_EQ(parse_size_cap("registered:100")->second, 100u);
    EXPECT_FALSE(parse_size_cap("vip:100").has_value());
    EXPECT_FALSE(parse_size_cap("default:").has_value());
    EXPECT_FALSE(parse_size_cap("default").has_value());
}

TEST(format_action, never_puts_control_bytes_on_the_wire) {
    EXPECT_EQ(format_action({verdict::defer_rate, "Login a\rb\x01 is over"}),
              "action=DEFER_IF_PERMIT 4.7.1 Login a?b? is over\n\n");
}

TEST(format_action, has_one_wire_form_per_verdict) {
    EXPECT_EQ(format_action({verdict::dunno}), "action=DUNNO\n\n");
    EXPECT_EQ(format_action({verdict::fail_open}), "action=DUNNO\n\n");
    EXPECT_EQ(format_action({verdict::filter, "msft-out:"}), "action=FILTER msft-out:\n\n");
}

TEST(local_counter_store, memory_stays_bounded_by_max_keys) {
    auto counters = make_local_counter_store(1000);
    for (int i = 0; i < 10000; ++i) {
        counter_op op{.key = "sender_domain:d" + std::to_string(i) + ".example", .limit = 10, .check = 1, .add = 1};
        counters->apply(std::span(&op, 1), t0);
    }
    EXPECT_LE(counters->keys(), 1000u);
    EXPECT_GE(counters->keys(), 500u);
}

TEST(local_counter_store, a_recently_used_key_survives_a_generation_flip) {
    auto counters = make_local_counter_store(100);
    counter_op hot{.key = "sender_domain:hot.example", .limit = 1000000, .check = 1, .add = 1};
    for (int i = 0; i < 1000; ++i) {
        counters->apply(std::span(&hot, 1), t0);
        counter_op cold{.key = "sender_domain:c" + std::to_string(i), .limit = 10, .check = 1, .add = 1};
        counters->apply(std::span(&cold, 1), t0);
    }
    hot.limit = 999;  // the hot key has 1000 recipients: still remembered, so over
    EXPECT_EQ(counters->apply(std::span(&hot, 1), t0).over, 0);
}

}  // namespace
}  // namespace relaygate::policy
