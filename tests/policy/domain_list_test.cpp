// The Microsoft-family domain list: exact, subdomain and wildcard entries at
// their edges, normalisation, and load errors that name file and line.
#include "relaygate/policy/domain_list.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace relaygate::policy {
namespace {

domain_list parse_ok(std::string_view text) {
    auto l = domain_list::parse(text, "test");
    EXPECT_TRUE(l.has_value()) << (l ? "" : l.error());
    return l ? *l : domain_list{};
}

TEST(domain_list, exact_entries_match_only_themselves) {
    auto l = parse_ok("hotmail.com\nmsn.com # consumer\n");
    EXPECT_TRUE(l.matches("hotmail.com"));
    EXPECT_TRUE(l.matches("msn.com"));
    EXPECT_FALSE(l.matches("sub.hotmail.com"));
    EXPECT_FALSE(l.matches("hotmail.com.evil.example"));
    EXPECT_FALSE(l.matches("xhotmail.com"));
}

TEST(domain_list, dot_entries_match_every_subdomain_but_not_the_parent) {
    auto l = parse_ok(".tenant.example\n");
    EXPECT_TRUE(l.matches("a.tenant.example"));
    EXPECT_TRUE(l.matches("b.a.tenant.example"));
    EXPECT_FALSE(l.matches("tenant.example"));
    EXPECT_FALSE(l.matches("xtenant.example"));
}

TEST(domain_list, wildcards_match_public_suffix_like_tails_only) {
    auto l = parse_ok("hotmail.*\nlive.*\n");
    EXPECT_TRUE(l.matches("hotmail.com"));
    EXPECT_TRUE(l.matches("hotmail.fr"));
    EXPECT_TRUE(l.matches("hotmail.co.jp"));
    EXPECT_TRUE(l.matches("hotmail.co.uk"));
    EXPECT_TRUE(l.matches("live.com.sg"));
    EXPECT_FALSE(l.matches("hotmail.evil.example"));  // second label longer than 3
    EXPECT_FALSE(l.matches("hotmail.a.b.c"));
    EXPECT_FALSE(l.matches("mail.hotmail.com"));
    EXPECT_FALSE(l.matches("hotmail"));
    EXPECT_FALSE(l.matches("olive.com"));
}

TEST(domain_list, entries_are_normalised_at_load) {
    auto l = parse_ok("  Outlook.JP.  \r\n\n# comment only\n\t.Example.ORG\n");
    EXPECT_TRUE(l.matches("outlook.jp"));
    EXPECT_TRUE(l.matches("x.example.org"));
    EXPECT_EQ(l.size(), 2u);
}

TEST(domain_list, bad_entries_name_file_and_line) {
    for (const char* text : {"ok.com\nbad domain.com\n", "ok.com\n*.com\n", "ok.com\nlocalhost\n", "ok.com\na..b\n",
                             "ok.com\nhot.mail.*\n", "ok.com\n.\n"}) {
        auto l = domain_list::parse(text, "microsoft-domains");
        ASSERT_FALSE(l.has_value()) << text;
        EXPECT_NE(l.error().find("microsoft-domains:2:"), std::string::npos) << l.error();
    }
}

TEST(domain_list, the_shipped_list_loads_and_covers_seed_001) {
    auto l = domain_list::load(std::string(RELAYGATE_SOURCE_DIR) + "/postfix-conf/microsoft-domains");
    ASSERT_TRUE(l.has_value()) << l.error();
    // Every domain the 2021-11 incident report lists.
    for (const char* d :
         {"acclaim.jp",  "albirex2006.com", "hirabayashi.com", "hotmail.co.jp", "hotmail.co.th", "hotmail.co.uk",
          "hotmail.com", "hotmail.fr",      "hotmail.it",      "hotmail.nl",    "infoseek.jp",   "live.cn",
          "live.com.sg", "live.com",        "live.jp",         "morishow.net",  "msn.com",       "outlook.com",
          "outlook.jp",  "outlook.kr",      "outlook.sa",      "taswork.com",   "passport.com",  "windowslive.com"})
        EXPECT_TRUE(l->matches(d)) << d;
    EXPECT_FALSE(l->matches("gmail.com"));
}

TEST(domain_list, a_missing_file_is_an_error) {
    auto l = domain_list::load("/nonexistent/relaygate/microsoft-domains");
    ASSERT_FALSE(l.has_value());
    EXPECT_NE(l.error().find("/nonexistent/relaygate/microsoft-domains"), std::string::npos);
}

TEST(normalize_domain, rejects_what_cannot_be_a_dns_name) {
    EXPECT_EQ(normalize_domain("Hotmail.COM."), "hotmail.com");
    EXPECT_EQ(normalize_domain("[192.0.2.1]"), "");
    EXPECT_EQ(normalize_domain(""), "");
    EXPECT_EQ(normalize_domain("."), "");
    EXPECT_EQ(normalize_domain("a..b"), "");
    EXPECT_EQ(normalize_domain(".a"), "");
    EXPECT_EQ(normalize_domain("b\xc3\xbc.example"), "");  // UTF-8: not listed, not looked up
    EXPECT_EQ(normalize_domain(std::string(254, 'a')), "");
}

}  // namespace
}  // namespace relaygate::policy
