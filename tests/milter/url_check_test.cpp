// url_check_test: blocklist zone specs and answer reading (documented codes are
// listed, error codes never are), operator domain lists, the plan (allow-list,
// shorteners, IP literals) and the verdict: severity order, per-sender actions,
// the 550/451 replies naming the domain, the header's bound.
#include <gtest/gtest.h>

#include "relaygate/milter/url_check.hpp"

namespace relaygate::milter {
namespace {

const public_suffix_list& psl() {
    static const public_suffix_list l = *public_suffix_list::parse("example\nco.example\nly\n");
    return l;
}

TEST(BlocklistZone, ParsesRangesAndMasks) {
    auto z = parse_blocklist_zone("DBL.Example.=127.0.1.2-127.0.1.99,127.0.1.102");
    ASSERT_TRUE(z.has_value()) << z.error();
    EXPECT_EQ(z->zone, "dbl.example");
    EXPECT_EQ(z->ranges.size(), 2U);
    auto m = parse_blocklist_zone("multi.surbl.example=mask:0xd8,mask:2");
    ASSERT_TRUE(m.has_value()) << m.error();
    EXPECT_EQ(m->mask, 0xdaU);
    for (const char* bad :
         {"nozone", "z.example=", "z.example=mask:0", "z.example=mask:256", "z.example=mask:x", "z.example=10.0.0.1",
          "z.example=127.0.0.9-127.0.0.2", "bad..zone=127.0.0.2", "z.example=127.0.0.2,"}) {
        EXPECT_FALSE(parse_blocklist_zone(bad).has_value()) << bad;
    }
}

TEST(BlocklistZone, ListedOnlyForDocumentedCodes) {
    const auto dbl = *parse_blocklist_zone("dbl.example=127.0.1.2-127.0.1.99");
    const auto surbl = *parse_blocklist_zone("surbl.example=mask:216");
    auto answer = [](const blocklist_zone& z, dns::status s, std::vector<std::string> a) {
        auto r = classify_answer(z, "evil.example", s, a);
        return std::string(r.answer == zone_answer::listed    ? "listed "
                           : r.answer == zone_answer::unknown ? "unknown "
                                                              : "clean ") +
               r.code;
    };
    EXPECT_EQ(answer(dbl, dns::status::ok, {"127.0.1.2"}), "listed 127.0.1.2");
    EXPECT_EQ(answer(dbl, dns::status::ok, {"127.0.1.99"}), "listed 127.0.1.99");
    EXPECT_EQ(answer(dbl, dns::status::ok, {"127.0.1.102"}), "unknown 127.0.1.102");  // not in the mapping
    EXPECT_EQ(answer(dbl, dns::status::ok, {"127.0.1.255"}), "unknown 127.0.1.255");  // IP against a domain list
    EXPECT_EQ(answer(dbl, dns::status::ok, {"127.255.255.254"}), "unknown 127.255.255.254");  // public resolver
    EXPECT_EQ(answer(dbl, dns::status::ok, {"127.255.255.255"}), "unknown 127.255.255.255");  // excessive queries
    EXPECT_EQ(answer(dbl, dns::status::ok, {"127.0.1.2", "127.255.255.254"}), "unknown 127.255.255.254");
    EXPECT_EQ(answer(dbl, dns::status::ok, {"192.0.2.1"}), "unknown 192.0.2.1");  // a hijacking resolver
    EXPECT_EQ(answer(dbl, dns::status::ok, {}), "unknown empty");
    EXPECT_EQ(answer(dbl, dns::status::nxdomain, {}), "clean nxdomain");
    EXPECT_EQ(answer(dbl, dns::status::nodata, {}), "clean nodata");
    EXPECT_EQ(answer(dbl, dns::status::servfail, {}), "unknown servfail");
    EXPECT_EQ(answer(dbl, dns::status::timeout, {}), "unknown timeout");
    EXPECT_EQ(answer(surbl, dns::status::ok, {"127.0.0.8"}), "listed 127.0.0.8");
    EXPECT_EQ(answer(surbl, dns::status::ok, {"127.0.0.1"}), "unknown 127.0.0.1");              // URIBL-style "refused"
    EXPECT_EQ(answer(surbl, dns::status::ok, {"127.0.0.2"}), "unknown 127.0.0.2");              // a bit not mapped
    EXPECT_EQ(answer(surbl, dns::status::ok, {"127.255.255.255"}), "unknown 127.255.255.255");  // mask never here
    EXPECT_EQ(answer(surbl, dns::status::ok, {"127.0.1.8"}), "unknown 127.0.1.8");  // masks read 127.0.0.X only
}

TEST(DomainList, ParsesCommentsAndMatchesParents) {
    auto l = parse_domain_list(
        "# shorteners\nBit.LY\n  tinyurl.example. # trailing\n\nb\xc3\xbc"
        "cher.example\r\n");
    ASSERT_TRUE(l.has_value()) << l.error();
    EXPECT_EQ(l->size(), 3U);
    EXPECT_TRUE(list_matches(*l, "bit.ly"));
    EXPECT_TRUE(list_matches(*l, "www.bit.ly"));
    EXPECT_FALSE(list_matches(*l, "notbit.ly"));
    EXPECT_FALSE(list_matches(*l, "ly"));
    EXPECT_TRUE(list_matches(*l, "xn--bcher-kva.example"));
    auto bad = parse_domain_list("ok.example\nnot a domain\n");
    ASSERT_FALSE(bad.has_value());
    EXPECT_NE(bad.error().find("line 2"), std::string::npos);
}

url_scan scan_of(std::vector<std::string> urls, scan_limit stopped = scan_limit::none) {
    url_scan s;
    s.urls = std::move(urls);
    s.stopped = stopped;
    return s;
}

TEST(UrlPlan, AllowListShortenersAndIpLiterals) {
    url_lists lists{*parse_domain_list("bit.ly\n"), *parse_domain_list("trusted.example\n")};
    auto plan = plan_url_check(
        scan_of({"http://www.trusted.example/", "https://bit.ly/x", "http://BIT.LY/y", "http://192.0.2.1/",
                 "mailto:x@y", "http://a.shop.co.example/", "http://b.shop.co.example/"}),
        psl(), lists);
    EXPECT_EQ(plan.allowed, 1U);
    EXPECT_EQ(plan.ip_literals, 1U);
    EXPECT_EQ(plan.unparsed, 1U);
    EXPECT_EQ(plan.query_domains, (std::vector<std::string>{"bit.ly", "shop.co.example"}));
    ASSERT_EQ(plan.findings.size(), 1U);  // one shortener finding per domain
    EXPECT_EQ(plan.findings[0].risk, url_risk::shortener);
}

TEST(UrlVerdict, WorstActionWinsAndPerSenderOverrides) {
    url_plan plan;
    plan.urls = 3;
    plan.findings.push_back({url_risk::shortener, "bit.ly", ""});
    std::vector<zone_result> answers{{"evil.example", "dbl.example", zone_answer::listed, "127.0.1.2"},
                                     {"slow.example", "dbl.example", zone_answer::unknown, "timeout"},
                                     {"ok.example", "dbl.example", zone_answer::not_listed, "nxdomain"}};
    url_policy policy;
    auto v = decide_urls(plan, answers, policy, "a.example");
    EXPECT_EQ(v.action, url_action::warn);
    EXPECT_EQ(v.header,
              "listed=evil.example (dbl.example:127.0.1.2); shortener=bit.ly; "
              "unknown=slow.example (dbl.example:timeout)");
    EXPECT_TRUE(v.reply.empty());

    policy.actions.listed = url_action::reject;
    v = decide_urls(plan, answers, policy, "a.example");
    EXPECT_EQ(v.action, url_action::reject);
    EXPECT_EQ(v.reply.to_string(),
              "550 5.7.1 Message refused: a link to evil.example (listed by dbl.example:127.0.1.2)");
    EXPECT_EQ(v.log_fields, "url_action=reject url_risk=listed url_domain=evil.example url_findings=3 urls=3");

    url_actions strict = policy.actions;
    strict.listed = url_action::hold;
    strict.unknown = url_action::tempfail;
    policy.by_sender_domain["b.example"] = strict;
    v = decide_urls(plan, answers, policy, "b.example");
    EXPECT_EQ(v.action, url_action::tempfail);
    EXPECT_EQ(v.reply.to_string(), "451 4.7.1 Message deferred: a link to slow.example (unknown); try later");
    EXPECT_EQ(v.findings.front().risk, url_risk::unknown);
}

TEST(UrlVerdict, PassAddsNothingAndCleanSaysPass) {
    url_policy policy;
    policy.actions.shortener = url_action::pass;
    url_plan plan;
    plan.findings.push_back({url_risk::shortener, "bit.ly", ""});
    auto v = decide_urls(plan, {}, policy, "");
    EXPECT_EQ(v.action, url_action::pass);
    EXPECT_EQ(v.header, "");
    auto clean = decide_urls(url_plan{}, {}, url_policy{}, "");
    EXPECT_EQ(clean.action, url_action::pass);
    EXPECT_EQ(clean.log_fields, "url_action=pass urls=0");
}

TEST(UrlVerdict, HeaderIsBounded) {
    url_plan plan;
    for (int i = 0; i < 200; ++i)
        plan.findings.push_back({url_risk::shortener, "s" + std::to_string(i) + ".example", ""});
    auto v = decide_urls(plan, {}, url_policy{}, "");
    EXPECT_LE(v.header.size(), 905U);
    EXPECT_TRUE(v.header.ends_with("; ..."));
}

TEST(UrlActions, NamesRoundTrip) {
    for (auto a : {url_action::pass, url_action::warn, url_action::hold, url_action::tempfail, url_action::reject}) {
        EXPECT_EQ(parse_url_action(to_string(a)), a);
    }
    EXPECT_FALSE(parse_url_action("drop").has_value());
    for (auto r : {url_risk::listed, url_risk::shortener, url_risk::unknown, url_risk::incomplete}) {
        EXPECT_EQ(parse_url_risk(to_string(r)), r);
    }
}

}  // namespace
}  // namespace relaygate::milter
