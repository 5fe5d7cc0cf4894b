// url_checker.hpp: the URL check assembled — its configuration (the url-* keys),
// the files it reads at start (public suffix list, shortener list, allow-list),
// and check(): scan -> plan -> blocklist lookups -> verdict, with every step's
// result kept for the log and for relaygate-admin's explanations. Built once by
// relaygate-milter's main() and by relaygate-admin check-url / scan.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "relaygate/dns/dns_resolver.hpp"
#include "relaygate/milter/url_check.hpp"
#include "relaygate/milter/url_extractor.hpp"
#include "relaygate/milter/url_lookup.hpp"
#include "relaygate/registry/expected.hpp"

namespace relaygate::milter {

struct url_check_config {
    bool enabled = false;               // url-check: scan bodies (negotiates the body step)
    std::vector<blocklist_zone> zones;  // url-blocklist ZONE=CODES (repeatable); none = no DNS
    std::string shortener_file = "/etc/relaygate/url-shorteners";              // url-shortener-file; "" = no list
    std::string allow_file;                                                    // url-allow-file; "" = no allow-list
    std::string public_suffix_file = std::string(default_public_suffix_file);  // url-public-suffix-file
    url_policy policy;                // url-{listed,shortener,unknown,incomplete}-action,
                                      // url-sender-action
    unsigned dns_deadline_ms = 1500;  // url-dns-deadline-ms: one deadline per message
    url_scan_limits limits;           // url-max-scan-bytes, url-max-urls, url-max-depth
};

struct url_report {
    url_scan scan;
    url_plan plan;
    std::vector<zone_result> answers;
    url_verdict verdict;
};

class url_checker {
public:
    // Reads the files named in cfg; an error names the file. resolver may be null
    // when no zone is configured (no DNS then).
    static expected<std::unique_ptr<url_checker>, std::string> load(const url_check_config& cfg,
                                                                    dns::resolver* resolver);

    // message: the whole message (headers, blank line, body) as far as it was kept.
    // truncated: more bytes came than were kept (marks the scan "bytes").
    url_report check(std::string_view message, bool truncated, const std::string& sender_domain) const;
    // The scan of one URL given on its own (relaygate-admin check-url).
    url_report check_url(std::string_view url, const std::string& sender_domain) const;

    const url_check_config& config() const { return cfg_; }
    const public_suffix_list& suffixes() const { return suffixes_; }

private:
    url_checker(url_check_config cfg, public_suffix_list suffixes, url_lists lists);
    url_report finish(url_scan scan, const std::string& sender_domain) const;

    url_check_config cfg_;
    public_suffix_list suffixes_;
    url_lists lists_;
    std::unique_ptr<url_lookup> lookup_;  // null without zones
};

}  // namespace relaygate::milter
