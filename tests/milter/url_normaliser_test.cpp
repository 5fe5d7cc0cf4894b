// url_normaliser_test: normalise_url and the public suffix lookup at their edges —
// schemes, userinfo tricks, percent-encoded and IDN hosts, IP literal forms,
// trailing dots, ports, backslashes — with a small list whose rules cover
// normal, wildcard and exception entries, and Debian's real list once.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "relaygate/milter/public_suffix_list.hpp"
#include "relaygate/milter/url_normaliser.hpp"

namespace relaygate::milter {
namespace {

const public_suffix_list& small_list() {
    static const public_suffix_list list = *public_suffix_list::parse(
        "// test rules\ncom\nexample\nuk\nco.uk\n*.ck\n!www.ck\njp\n*.kawasaki.jp\n!city.kawasaki.jp\ngithub.io\n"
        "io\n\xe9\xa6\x99\xe6\xb8\xaf\n");  // 香港 (xn--j6w193g)
    return list;
}

std::string domain_of(std::string_view url) {
    auto h = normalise_url(url, small_list());
    return h ? h->registrable_domain : "error: " + h.error();
}
std::string host_of(std::string_view url) {
    auto h = normalise_url(url, small_list());
    return h ? h->host : "error: " + h.error();
}

TEST(PublicSuffixList, RulesWildcardsAndExceptions) {
    const auto& l = small_list();
    EXPECT_EQ(l.registrable_domain("a.b.example"), "b.example");
    EXPECT_EQ(l.registrable_domain("b.example"), "b.example");
    EXPECT_EQ(l.registrable_domain("example"), "");  // a public suffix itself
    EXPECT_EQ(l.registrable_domain("x.shop.co.uk"), "shop.co.uk");
    EXPECT_EQ(l.registrable_domain("co.uk"), "");
    EXPECT_EQ(l.registrable_domain("a.b.ck"), "a.b.ck");  // *.ck: b.ck is a suffix
    EXPECT_EQ(l.registrable_domain("b.ck"), "");
    EXPECT_EQ(l.registrable_domain("www.ck"), "www.ck");  // !www.ck
    EXPECT_EQ(l.registrable_domain("x.www.ck"), "www.ck");
    EXPECT_EQ(l.registrable_domain("x.city.kawasaki.jp"), "city.kawasaki.jp");
    EXPECT_EQ(l.registrable_domain("evil.github.io"), "evil.github.io");      // private section counts
    EXPECT_EQ(l.registrable_domain("a.unlisted-tld"), "a.unlisted-tld");      // implicit "*" rule
    EXPECT_EQ(l.registrable_domain("shop.xn--j6w193g"), "shop.xn--j6w193g");  // U-label rule as A-label
    EXPECT_EQ(l.registrable_domain(""), "");
}

TEST(PublicSuffixList, RefusesEmptyAndBadLists) {
    EXPECT_FALSE(public_suffix_list::parse("// only comments\n\n").has_value());
    auto bad = public_suffix_list::parse("com\nbad..name\n");
    ASSERT_FALSE(bad.has_value());
    EXPECT_NE(bad.error().find("line 2"), std::string::npos);
}

TEST(PublicSuffixList, DebiansListLoads) {
    std::ifstream f{std::string(default_public_suffix_file)};
    ASSERT_TRUE(f) << "Debian package publicsuffix is missing (scripts/install-deps installs it)";
    std::stringstream ss;
    ss << f.rdbuf();
    auto l = public_suffix_list::parse(ss.str());
    ASSERT_TRUE(l.has_value()) << l.error();
    EXPECT_GT(l->size(), 5000U);
    EXPECT_EQ(l->registrable_domain("www.bbc.co.uk"), "bbc.co.uk");
    EXPECT_EQ(l->registrable_domain("evil.blogspot.com"), "evil.blogspot.com");
}

TEST(UrlNormaliser, SchemesAndCase) {
    EXPECT_EQ(domain_of("http://www.A.Example/x"), "a.example");
    EXPECT_EQ(domain_of("HTTPS://WWW.A.EXAMPLE"), "a.example");
    EXPECT_EQ(domain_of("FtP://files.a.example/f"), "a.example");
    EXPECT_EQ(domain_of("www.a.example/path"), "a.example");
    EXPECT_EQ(domain_of("//cdn.a.example/x.png"), "a.example");
    EXPECT_EQ(domain_of("<http://a.example/>"), "a.example");
    EXPECT_EQ(domain_of("URL:http://a.example/"), "a.example");
    EXPECT_EQ(domain_of("mailto:x@a.example"), "error: scheme not checked");
    EXPECT_EQ(domain_of("javascript:alert(1)"), "error: scheme not checked");
    EXPECT_EQ(domain_of("http://"), "error: no host");
    EXPECT_EQ(host_of("http:///path"), "path");  // browsers skip every slash after a special scheme
}

TEST(UrlNormaliser, UserinfoTricks) {
    EXPECT_EQ(domain_of("http://good.example@evil.example/"), "evil.example");
    EXPECT_EQ(domain_of("http://user:pass@evil.example:8080/"), "evil.example");
    EXPECT_EQ(domain_of("http://good.example%40x@evil.example/"), "evil.example");
    EXPECT_EQ(domain_of("http://a@b@evil.example/"), "evil.example");  // the last '@' counts
    EXPECT_EQ(domain_of("http://evil.example/@good.example"), "evil.example");
    EXPECT_EQ(domain_of("http://evil.example?@good.example"), "evil.example");
    EXPECT_EQ(domain_of("http://evil.example#@good.example"), "evil.example");
    EXPECT_EQ(domain_of("http:\\\\evil.example\\@good.example"), "evil.example");  // '\' is '/'
    EXPECT_EQ(domain_of("http:/\\/evil.example/"), "evil.example");
}

TEST(UrlNormaliser, PercentEncodedHost) {
    EXPECT_EQ(host_of("http://%65vil.example/"), "evil.example");
    EXPECT_EQ(host_of("http://EVIL%2Eexample/"), "evil.example");
    EXPECT_EQ(host_of("http://evil.example%2F@good.example/"), "good.example");
    EXPECT_EQ(host_of("http://evil%40good.example/"), "error: character not allowed in a host");
    EXPECT_EQ(host_of("http://%zz.example/"), "error: character not allowed in a host");  // stray '%'
    EXPECT_EQ(host_of("http://b%C3%BCcher.example/"), "xn--bcher-kva.example");
}

TEST(UrlNormaliser, IdnAndDots) {
    EXPECT_EQ(host_of("http://b\xc3\xbc"
                      "cher.example/"),
              "xn--bcher-kva.example");
    EXPECT_EQ(host_of("http://B\xc3\x9c"
                      "CHER.example/"),
              "xn--bcher-kva.example");
    EXPECT_EQ(host_of("http://xn--bcher-kva.example/"), "xn--bcher-kva.example");
    EXPECT_EQ(host_of("http://XN--BCHER-KVA.EXAMPLE/"), "xn--bcher-kva.example");
    EXPECT_EQ(host_of("http://evil\xe3\x80\x82"
                      "example/"),
              "evil.example");  // ideographic full stop
    EXPECT_EQ(host_of("http://evil\xef\xbc\x8e"
                      "example/"),
              "evil.example");  // fullwidth full stop
    EXPECT_EQ(host_of("http://evil.example./"), "evil.example");
    EXPECT_EQ(host_of("http://evil.example../"), "evil.example");
    EXPECT_EQ(host_of("http://.evil.example/"), "error: empty label");
    EXPECT_EQ(host_of("http://evil..example/"), "error: empty label");
    EXPECT_EQ(host_of("http://xn--zz.example/").substr(0, 23), "error: not a valid IDN:");
    EXPECT_EQ(host_of("http://a_b.evil.example/"), "a_b.evil.example");  // browsers resolve '_'
    EXPECT_EQ(domain_of("http://a_b.evil.example/"), "evil.example");
    EXPECT_EQ(host_of("http://evil.example:443/"), "evil.example");
    EXPECT_EQ(host_of(std::string("http://") + std::string(300, 'a') + ".example/").substr(0, 6), "error:");
}

TEST(UrlNormaliser, IpLiterals) {
    auto ip = [](std::string_view url) {
        auto h = normalise_url(url, small_list());
        if (!h) return "error: " + h.error();
        return (h->ip_literal ? "ip " : "name ") + h->host + (h->registrable_domain.empty() ? "" : " has domain");
    };
    EXPECT_EQ(ip("http://192.0.2.1/"), "ip 192.0.2.1");
    EXPECT_EQ(ip("http://3221225985/"), "ip 192.0.2.1");           // one decimal number
    EXPECT_EQ(ip("http://0xC0.0x00.0x02.0x01/"), "ip 192.0.2.1");  // hex parts
    EXPECT_EQ(ip("http://0300.0.02.01/"), "ip 192.0.2.1");         // octal parts
    EXPECT_EQ(ip("http://192.0.513/"), "ip 192.0.2.1");            // last part fills the rest
    EXPECT_EQ(ip("http://0xc0000201/"), "ip 192.0.2.1");
    EXPECT_EQ(ip("http://192.0.2.1./"), "ip 192.0.2.1");
    EXPECT_EQ(ip("http://user@192.0.2.1:80/"), "ip 192.0.2.1");
    EXPECT_EQ(ip("http://256.0.0.1/"), "error: IPv4 literal part over 255");
    EXPECT_EQ(ip("http://1.2.3.4.5/"), "error: IPv4 literal with more than 4 parts");
    EXPECT_EQ(ip("http://4294967296/"), "error: IPv4 literal out of range");
    EXPECT_EQ(ip("http://a.1/"), "error: IPv4 literal with a part that is not a number");
    EXPECT_EQ(ip("http://1.a/"), "name 1.a has domain");  // last label not a number: a name
    EXPECT_EQ(ip("http://[2001:DB8::1]:8080/"), "ip 2001:db8::1");
    EXPECT_EQ(ip("http://[2001:db8::zz]/"), "error: bad IPv6 literal");
    EXPECT_EQ(ip("http://[2001:db8::1/"), "error: unterminated IPv6 literal");
}

TEST(UrlNormaliser, HostileInput) {
    std::string long_url = "http://evil.example/" + std::string(100000, 'a');
    EXPECT_EQ(domain_of(long_url), "evil.example");
    EXPECT_EQ(domain_of(std::string("http://evil.example\0/", 21)), "error: character not allowed in a host");
    EXPECT_EQ(domain_of("http://\xff\xfe.example/").substr(0, 6), "error:");
    EXPECT_EQ(domain_of("http://@/"), "error: no host");
    EXPECT_EQ(domain_of("http://:80/"), "error: no host");
}

}  // namespace
}  // namespace relaygate::milter
