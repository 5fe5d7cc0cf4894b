// url_extractor_test: the golden corpus (tests/testdata/milter/url-corpus: each
// NAME.eml with NAME.expected listing its URLs, the domains asked about, the
// scan limit hit and the verdict under the default actions with a fixed test
// zone), the finders on their own, and the hard limits (a 1 MiB HTML body,
// too many URLs, deep nesting, hostile bytes).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "relaygate/milter/url_check.hpp"
#include "relaygate/milter/url_extractor.hpp"

namespace relaygate::milter {
namespace {

namespace fs = std::filesystem;
const fs::path corpus = fs::path(RELAYGATE_SOURCE_DIR) / "tests/testdata/milter/url-corpus";

std::string read_file(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

const public_suffix_list& suffixes() {
    static const public_suffix_list list = [] {
        auto l = public_suffix_list::parse(read_file(std::string(default_public_suffix_file)));
        if (!l) throw std::runtime_error("public suffix list: " + l.error());
        return *l;
    }();
    return list;
}

url_lists seeded_lists() {
    auto shorteners = parse_domain_list(read_file(fs::path(RELAYGATE_SOURCE_DIR) / "postfix-conf/url-shorteners"));
    if (!shorteners) throw std::runtime_error(shorteners.error());
    return {*shorteners, {}};
}

// The test zone: evil.example listed (127.0.1.2), unknown.example answers an error code.
std::vector<zone_result> test_zone_answers(const url_plan& plan) {
    const blocklist_zone zone = *parse_blocklist_zone("uribl.test=127.0.1.2-127.0.1.99");
    std::vector<zone_result> out;
    for (const auto& d : plan.query_domains) {
        if (d == "evil.example") {
            out.push_back(classify_answer(zone, d, dns::status::ok, {"127.0.1.2"}));
        } else if (d == "unknown.example") {
            out.push_back(classify_answer(zone, d, dns::status::ok, {"127.255.255.254"}));
        } else {
            out.push_back(classify_answer(zone, d, dns::status::nxdomain, {}));
        }
    }
    return out;
}

struct expectation {
    std::vector<std::string> urls, domains;
    std::string scan = "none", action, header;
};

expectation read_expected(const fs::path& p) {
    expectation e;
    std::istringstream in(read_file(p));
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        auto sp = line.find(' ');
        std::string key = line.substr(0, sp), value = sp == std::string::npos ? "" : line.substr(sp + 1);
        if (key == "url") e.urls.push_back(value);
        if (key == "domain") e.domains.push_back(value);
        if (key == "scan") e.scan = value;
        if (key == "action") e.action = value;
        if (key == "header") e.header = value;
    }
    return e;
}

TEST(UrlCorpus, EveryMessageGivesItsExpectedUrlsAndVerdict) {
    std::size_t cases = 0;
    for (const auto& entry : fs::directory_iterator(corpus)) {
        if (entry.path().extension() != ".eml") continue;
        SCOPED_TRACE(entry.path().filename().string());
        auto expected_path = fs::path(entry.path()).replace_extension(".expected");
        ASSERT_TRUE(fs::exists(expected_path));
        const expectation e = read_expected(expected_path);
        const url_scan scan = extract_urls(read_file(entry.path()), {});
        EXPECT_EQ(scan.urls, e.urls);
        EXPECT_EQ(to_string(scan.stopped), e.scan);
        const url_plan plan = plan_url_check(scan, suffixes(), seeded_lists());
        EXPECT_EQ(plan.query_domains, e.domains);
        const url_verdict v = decide_urls(plan, test_zone_answers(plan), url_policy{}, "a.example");
        EXPECT_EQ(to_string(v.action), e.action);
        EXPECT_EQ(v.header, e.header);
        ++cases;
    }
    EXPECT_GE(cases, 9U);
}

// The same message with CRLF line ends (as a milter may hand it) gives the same URLs.
TEST(UrlCorpus, CrlfLineEndsChangeNothing) {
    for (const auto& entry : fs::directory_iterator(corpus)) {
        if (entry.path().extension() != ".eml") continue;
        SCOPED_TRACE(entry.path().filename().string());
        const std::string lf = read_file(entry.path());
        std::string crlf;
        for (char c : lf) {
            if (c == '\n') crlf += '\r';
            crlf += c;
        }
        EXPECT_EQ(extract_urls(crlf, {}).urls, extract_urls(lf, {}).urls);
    }
}

std::string html_message(std::size_t body_bytes, std::size_t links) {
    std::string body = "<html><body>\n";
    for (std::size_t i = 0; i < links; ++i) {
        body += "<p><a href=\"https://host" + std::to_string(i) + ".link.example/p?i=" + std::to_string(i) +
                "\">x</a></p>\n";
    }
    while (body.size() < body_bytes) body += "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>\n";
    body += "<a href=\"http://tail.example/\">last</a></body></html>\n";
    return "From: a@a.example\nTo: r@b.example\nSubject: big\nMIME-Version: 1.0\n"
           "Content-Type: text/html; charset=utf-8\n\n" +
           body;
}

TEST(UrlLimits, OneMebibyteHtmlBodyIsScannedToTheEnd) {
    const std::string m = html_message(1 << 20, 40);
    ASSERT_GT(m.size(), 1U << 20);
    const url_scan scan = extract_urls(m, {});
    EXPECT_TRUE(scan.fully_scanned());
    ASSERT_EQ(scan.urls.size(), 41U);
    EXPECT_EQ(scan.urls.back(), "http://tail.example/");
}

TEST(UrlLimits, OverTheByteLimitIsNotFullyScannedButKeepsWhatWasFound) {
    const std::string m = html_message(1 << 20, 40);
    const url_scan scan = extract_urls(m, {.max_bytes = 512 * 1024, .max_urls = 200, .max_depth = 16});
    EXPECT_EQ(scan.stopped, scan_limit::bytes);
    EXPECT_EQ(scan.urls.size(), 40U);  // the links at the top; the tail link is past the limit
    const url_plan plan = plan_url_check(scan, suffixes(), {});
    const url_verdict v = decide_urls(plan, {}, url_policy{}, "");
    EXPECT_EQ(v.action, url_action::warn);
    EXPECT_EQ(v.header, "incomplete=bytes");
}

TEST(UrlLimits, TooManyUrlsStopsAtTheLimit) {
    const url_scan scan =
        extract_urls(html_message(1000, 300), {.max_bytes = 4 << 20, .max_urls = 100, .max_depth = 16});
    EXPECT_EQ(scan.stopped, scan_limit::urls);
    EXPECT_EQ(scan.urls.size(), 100U);
}

TEST(UrlLimits, RepeatedLinksAreOneUrl) {
    std::string m = "Subject: x\n\n";
    for (int i = 0; i < 5000; ++i) m += "http://same.example/ ";
    const url_scan scan = extract_urls(m, {.max_bytes = 4 << 20, .max_urls = 10, .max_depth = 16});
    EXPECT_TRUE(scan.fully_scanned());
    EXPECT_EQ(scan.urls, std::vector<std::string>{"http://same.example/"});
}

std::string nested_message(std::size_t depth) {
    std::string head = "From: a@a.example\nMIME-Version: 1.0\n", tail;
    for (std::size_t i = 0; i < depth; ++i) {
        const std::string b = "b" + std::to_string(i);
        head += "Content-Type: multipart/mixed; boundary=\"" + b + "\"\n\n--" + b + "\n";
        tail = "\n--" + b + "--\n" + tail;
    }
    return head + "Content-Type: text/plain\n\nhttp://deep.example/\n" + tail;
}

TEST(UrlLimits, NestingWithinTheLimitIsRead) {
    const url_scan scan = extract_urls(nested_message(10), {});
    EXPECT_TRUE(scan.fully_scanned());
    EXPECT_EQ(scan.urls, std::vector<std::string>{"http://deep.example/"});
}

TEST(UrlLimits, NestingPastTheLimitIsMarked) {
    const url_scan scan = extract_urls(nested_message(40), {});
    EXPECT_EQ(scan.stopped, scan_limit::depth);
}

TEST(UrlLimits, HostileNestingNeverReachesGmimesRecursion) {
    const url_scan scan =
        extract_urls(nested_message(50000), {.max_bytes = 16 << 20, .max_urls = 200, .max_depth = 16});
    EXPECT_EQ(scan.stopped, scan_limit::depth);
    EXPECT_EQ(scan.urls, std::vector<std::string>{"http://deep.example/"});  // raw-text fallback still finds it
}

TEST(UrlExtractor, HostileBytesNeverCrash) {
    std::string junk;
    for (int i = 0; i < 70000; ++i) junk += static_cast<char>((i * 7919) & 0xff);
    EXPECT_NO_THROW(extract_urls(junk, {}));
    EXPECT_NO_THROW(extract_urls("", {}));
    EXPECT_NO_THROW(extract_urls("Content-Type: multipart/mixed; boundary=\"\"\n\n--\n--\n", {}));
    EXPECT_NO_THROW(extract_urls("Content-Transfer-Encoding: base64\n\n====!!!!", {}));
}

TEST(UrlFinders, TextEdges) {
    url_collector out;
    find_text_urls(
        "(http://a.example/x), xhttp://no.example www.b.example. notwww.c.example "
        "\"https://q.example/?a=1\" https:// http://d.example/a.b,c",
        out);
    EXPECT_EQ(out.urls, (std::vector<std::string>{"http://a.example/x", "www.b.example", "https://q.example/?a=1",
                                                  "http://d.example/a.b,c"}));
}

TEST(UrlFinders, HtmlAttributesAndEntities) {
    EXPECT_EQ(decode_html_entities("a&amp;b &#104;&#x74;tp &lt; &unknown; &#;&#xZZ &amp"),
              "a&b http < &unknown; &#;&#xZZ &");
    url_collector out;
    find_html_urls(
        "<img SRC=\"https://img.example/i.png\"><form action='http://form.example/post'>"
        "<td background=http://bg.example/b.gif><a href=\"/relative\">r</a><a href=\"javascript:x\">",
        out);
    EXPECT_EQ(out.urls, (std::vector<std::string>{"https://img.example/i.png", "http://form.example/post",
                                                  "http://bg.example/b.gif"}));
    url_collector full{.max_urls = 1, .urls = {}, .seen = {}};
    EXPECT_TRUE(find_text_urls("http://a.example/ http://a.example/", full));
    EXPECT_FALSE(find_text_urls("http://a.example/ http://b.example/", full));
    EXPECT_EQ(full.urls, std::vector<std::string>{"http://a.example/"});
}

}  // namespace
}  // namespace relaygate::milter
