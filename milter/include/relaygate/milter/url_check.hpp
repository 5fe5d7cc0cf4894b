// url_check.hpp: the URL check's decisions, pure. plan_url_check turns the URLs
// a scan found into findings that need no DNS (shortener, allow-listed) and the
// registrable domains to ask the URI blocklists about; classify_answer reads one
// blocklist answer by that zone's documented return codes (anything else,
// including the lists' error codes 127.255.255.x and 127.0.1.255, is "unknown",
// never "listed"); decide_urls picks the action (the most severe finding wins)
// and renders header, reply and log fields. Called by the milter shell's
// url_lookup and by relaygate-admin check-url / scan.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "relaygate/dns/dns_resolver.hpp"
#include "relaygate/milter/public_suffix_list.hpp"
#include "relaygate/milter/smtp_reply.hpp"
#include "relaygate/milter/url_extractor.hpp"
#include "relaygate/registry/expected.hpp"

namespace relaygate::milter {

// In rising severity: pass (nothing), warn (header + log line), hold (Postfix
// hold queue), tempfail (451 4.7.1), reject (550 5.7.1 naming the domain).
enum class url_action { pass, warn, hold, tempfail, reject };
std::string_view to_string(url_action a);
std::optional<url_action> parse_url_action(std::string_view text);

// What was found: a listed domain, a shortener, a lookup without an answer by
// the deadline (or an error code), a message not fully scanned.
enum class url_risk { listed, shortener, unknown, incomplete };
std::string_view to_string(url_risk r);
std::optional<url_risk> parse_url_risk(std::string_view text);

struct url_actions {
    url_action listed = url_action::warn;
    url_action shortener = url_action::warn;
    url_action unknown = url_action::warn;     // DNS failure/deadline/error code: pass with a header
    url_action incomplete = url_action::warn;  // over a scan limit
    url_action for_risk(url_risk r) const;
    void set(url_risk r, url_action a);
};

struct url_policy {
    url_actions actions;                                            // url-listed-action, ...
    std::unordered_map<std::string, url_actions> by_sender_domain;  // url-sender-action overrides
    const url_actions& for_sender(const std::string& sender_domain) const;
};

// One URI blocklist zone and the answers that mean "listed" (its documentation's
// codes): "ZONE=CODES", CODES a comma list of 127.0.1.2, 127.0.1.2-127.0.1.99 or
// mask:N (an answer 127.0.0.X with X & N != 0, SURBL/URIBL style).
struct blocklist_zone {
    std::string zone;
    std::uint8_t mask = 0;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> ranges;  // inclusive, host order
};
expected<blocklist_zone, std::string> parse_blocklist_zone(std::string_view spec);

enum class zone_answer { not_listed, listed, unknown };
struct zone_result {
    std::string domain;  // the registrable domain asked about
    std::string zone;
    zone_answer answer = zone_answer::unknown;
    std::string code;  // the A record that decided it ("127.0.1.2"), or the DNS status ("timeout")
};
// One answer to "<domain>.<zone> A": nxdomain/nodata = not listed; a code the zone
// documents = listed; an error code, another address, servfail, timeout = unknown.
zone_result classify_answer(const blocklist_zone& zone, std::string_view domain, dns::status status,
                            const std::vector<std::string>& addresses);

// Operator lists (shorteners, allow-list): one domain per line, '#' comments,
// normalised once. A host matches an entry equal to it or to a parent of it.
expected<std::unordered_set<std::string>, std::string> parse_domain_list(std::string_view text);
bool list_matches(const std::unordered_set<std::string>& list, std::string_view host);

struct url_finding {
    url_risk risk = url_risk::unknown;
    std::string domain;  // registrable domain (or host), "" for incomplete
    std::string detail;  // zone:code for listed/unknown, the limit for incomplete
};

struct url_plan {
    std::vector<std::string> query_domains;  // distinct registrable domains, in order found
    std::vector<url_finding> findings;       // shortener and incomplete findings
    std::size_t urls = 0, unparsed = 0, ip_literals = 0, allowed = 0;
};

struct url_lists {
    std::unordered_set<std::string> shorteners;
    std::unordered_set<std::string> allow;
};

url_plan plan_url_check(const url_scan& scan, const public_suffix_list& suffixes, const url_lists& lists);

struct url_verdict {
    url_action action = url_action::pass;
    std::vector<url_finding> findings;  // every finding, worst first
    std::string header;                 // X-Relaygate-URL-Risk value; "" when there is nothing to say
    smtp_reply reply;                   // for reject and tempfail
    std::string log_fields;             // "url_action=warn url_risk=listed url_domain=evil.example ..."
};

inline constexpr std::string_view url_header_name = "X-Relaygate-URL-Risk";

// The verdict from the plan and the blocklist answers, with the actions of the
// sender's domain (the message's first From domain) when it has overrides.
url_verdict decide_urls(const url_plan& plan, const std::vector<zone_result>& answers, const url_policy& policy,
                        const std::string& sender_domain);

}  // namespace relaygate::milter
