// url_lookup_itest: url_lookup through the project's resolver (real libunbound)
// against the real unbound fixture serving the test URI blocklist zone
// (testdata/milter/url-dns.conf): listed / not listed / error code in one
// concurrent batch, answers served from the cache once the server is gone, and
// a zone that never answers (the fixture's timeout.test.) ending as "unknown"
// at the message's deadline, well before the resolver's own timeout.
#include <gtest/gtest.h>

#include "relaygate/harness/dns_server.hpp"
#include "relaygate/milter/url_lookup.hpp"
#include "standard_registry.hpp"

namespace relaygate::milter::testing {
namespace {

using namespace std::chrono_literals;

std::string describe(const zone_result& r) {
    const char* a = r.answer == zone_answer::listed ? "listed" : r.answer == zone_answer::unknown ? "unknown" : "clean";
    return r.domain + "@" + r.zone + " " + a + " " + r.code;
}

TEST(UrlLookup, AnswersEveryDomainConcurrentlyAndCachesThem) {
    auto dns = std::make_unique<harness::dns_server>(std::vector<std::string>{testdata + "url-dns.conf"});
    dns::resolver resolver({.forwarders = {dns->forwarder()}, .timeout = 5000ms});
    url_lookup lookup(resolver, {*parse_blocklist_zone("uribl.example.net=127.0.1.2-127.0.1.99")}, 5000ms);
    const std::vector<std::string> domains{"evil.example", "clean.example", "refused.example"};
    std::vector<std::string> got;
    for (const auto& r : lookup.check(domains)) got.push_back(describe(r));
    const std::vector<std::string> want{"evil.example@uribl.example.net listed 127.0.1.2",
                                        "clean.example@uribl.example.net clean nxdomain",
                                        "refused.example@uribl.example.net unknown 127.255.255.254"};
    EXPECT_EQ(got, want);
    EXPECT_EQ(lookup.cache_size(), 3U);
    dns->stop();  // from here on only the cache can answer
    got.clear();
    for (const auto& r : lookup.check(domains)) got.push_back(describe(r));
    EXPECT_EQ(got, want);
}

TEST(UrlLookup, AZoneThatNeverAnswersIsUnknownAtTheDeadline) {
    harness::dns_server dns({testdata + "url-dns.conf"});
    dns::resolver resolver({.forwarders = {dns.forwarder()}, .timeout = 30000ms});
    url_lookup lookup(
        resolver,
        {*parse_blocklist_zone("uribl.example.net=127.0.1.2"), *parse_blocklist_zone("timeout.test=127.0.1.2")}, 300ms);
    auto results = lookup.check({"evil.example"});
    ASSERT_EQ(results.size(), 2U);
    EXPECT_EQ(describe(results[0]), "evil.example@uribl.example.net listed 127.0.1.2");
    EXPECT_EQ(describe(results[1]), "evil.example@timeout.test unknown deadline");
}

}  // namespace
}  // namespace relaygate::milter::testing
