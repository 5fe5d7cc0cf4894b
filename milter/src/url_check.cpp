// url_check.cpp: plan, blocklist answer reading and verdict of the URL check (see url_check.hpp).
#include "relaygate/milter/url_check.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>

#include "relaygate/milter/url_normaliser.hpp"
#include "relaygate/registry/domain_name.hpp"

namespace relaygate::milter {
namespace {

constexpr std::array<std::string_view, 5> action_names{"pass", "warn", "hold", "tempfail", "reject"};
constexpr std::array<std::string_view, 4> risk_names{"listed", "shortener", "unknown", "incomplete"};
constexpr std::size_t max_header_bytes = 900;  // the header stays one readable, bounded line

std::optional<std::uint32_t> ipv4(std::string_view text) {
    in_addr a{};
    std::string s(text);
    if (inet_pton(AF_INET, s.c_str(), &a) != 1) return std::nullopt;
    return ntohl(a.s_addr);
}

// Error codes the list operators document as "not an answer" (anchors doc, D5/D8):
// 127.255.255.0/24 (Spamhaus: public resolver, excessive queries, ...) and
// 127.0.1.255 (DBL: an IP queried against a domain list). Never "listed", whatever the mapping says.
bool is_error_code(std::uint32_t a) { return (a >> 8) == 0x7fffffU || a == 0x7f0001ffU; }

}  // namespace

std::string_view to_string(url_action a) { return action_names[static_cast<std::size_t>(a)]; }
std::optional<url_action> parse_url_action(std::string_view text) {
    for (std::size_t i = 0; i < action_names.size(); ++i) {
        if (action_names[i] == text) return static_cast<url_action>(i);
    }
    return std::nullopt;
}
std::string_view to_string(url_risk r) { return risk_names[static_cast<std::size_t>(r)]; }
std::optional<url_risk> parse_url_risk(std::string_view text) {
    for (std::size_t i = 0; i < risk_names.size(); ++i) {
        if (risk_names[i] == text) return static_cast<url_risk>(i);
    }
    return std::nullopt;
}

url_action url_actions::for_risk(url_risk r) const {
    switch (r) {
        case url_risk::listed:
            return listed;
        case url_risk::shortener:
            return shortener;
        case url_risk::unknown:
            return unknown;
        case url_risk::incomplete:
            return incomplete;
    }
    return unknown;
}

void url_actions::set(url_risk r, url_action a) {
    switch (r) {
        case url_risk::listed:
            listed = a;
            break;
        case url_risk::shortener:
            shortener = a;
            break;
        case url_risk::unknown:
            unknown = a;
            break;
        case url_risk::incomplete:
            incomplete = a;
            break;
    }
}

const url_actions& url_policy::for_sender(const std::string& sender_domain) const {
    auto it = by_sender_domain.find(sender_domain);
    return it == by_sender_domain.end() ? actions : it->second;
}

expected<blocklist_zone, std::string> parse_blocklist_zone(std::string_view spec) {
    auto eq = spec.find('=');
    if (eq == std::string_view::npos) return unexpected(std::string("expected ZONE=CODES"));
    auto zone = registry::normalise_domain(spec.substr(0, eq));
    if (!zone) return unexpected("zone: " + zone.error());
    blocklist_zone z{.zone = *zone, .mask = 0, .ranges = {}};
    std::string_view codes = spec.substr(eq + 1);
    if (codes.empty()) return unexpected(std::string("no return codes after '='"));
    for (bool more = true; more;) {
        auto comma = codes.find(',');
        std::string_view item = codes.substr(0, comma);
        more = comma != std::string_view::npos;
        codes = more ? codes.substr(comma + 1) : std::string_view{};
        if (item.empty()) return unexpected(std::string("empty return code in the list"));
        if (item.starts_with("mask:")) {
            std::string n(item.substr(5));
            std::size_t used = 0;
            unsigned long v = 0;
            try {
                v = std::stoul(n, &used, 0);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used == 0 || used != n.size() || v == 0 || v > 255) {
                return unexpected("bad mask '" + n + "' (1..255)");
            }
            z.mask = static_cast<std::uint8_t>(z.mask | v);
            continue;
        }
        auto dash = item.find('-');
        auto lo = ipv4(item.substr(0, dash));
        auto hi = dash == std::string_view::npos ? lo : ipv4(item.substr(dash + 1));
        if (!lo || !hi || *hi < *lo || (*lo >> 24) != 127 || (*hi >> 24) != 127) {
            return unexpected("bad return code '" + std::string(item) + "' (127.x.y.z or a range of them)");
        }
        z.ranges.emplace_back(*lo, *hi);
    }
    return z;
}

zone_result classify_answer(const blocklist_zone& zone, std::string_view domain, dns::status status,
                            const std::vector<std::string>& addresses) {
    zone_result r{.domain = std::string(domain), .zone = zone.zone, .answer = zone_answer::unknown, .code = ""};
    if (status == dns::status::nxdomain || status == dns::status::nodata) {
        r.answer = zone_answer::not_listed;
        r.code = to_string(status);
        return r;
    }
    if (status != dns::status::ok || addresses.empty()) {
        r.code = status == dns::status::ok ? "empty" : std::string(to_string(status));
        return r;
    }
    // Several records: listed if any is a documented listing code and none is an
    // error code (an error code says the whole answer is not to be trusted).
    std::optional<std::string> listed;
    for (const auto& text : addresses) {
        auto a = ipv4(text);
        if (!a || is_error_code(*a)) {
            r.code = text;
            return r;  // unknown
        }
        bool hit = false;
        for (auto [lo, hi] : zone.ranges) hit = hit || (*a >= lo && *a <= hi);
        if (zone.mask != 0 && (*a >> 8) == 0x7f0000U && ((*a & 0xffU) & zone.mask) != 0) hit = true;
        if (hit && !listed) listed = text;
        if (!hit && r.code.empty()) r.code = text;
    }
    if (listed) {
        r.answer = zone_answer::listed;
        r.code = *listed;
    }
    return r;  // an address outside the mapping (e.g. URIBL's 127.0.0.1 "refused") is unknown
}

expected<std::unordered_set<std::string>, std::string> parse_domain_list(std::string_view text) {
    std::unordered_set<std::string> out;
    std::size_t line_no = 0;
    while (!text.empty()) {
        auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        ++line_no;
        if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
        while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
        while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
            line.remove_suffix(1);
        if (line.empty()) continue;
        auto d = registry::normalise_domain(line);
        if (!d) return unexpected("line " + std::to_string(line_no) + ": " + d.error());
        out.insert(std::move(*d));
    }
    return out;
}

bool list_matches(const std::unordered_set<std::string>& list, std::string_view host) {
    while (!host.empty()) {
        if (list.contains(std::string(host))) return true;
        auto dot = host.find('.');
        if (dot == std::string_view::npos) break;
        host.remove_prefix(dot + 1);
    }
    return false;
}

url_plan plan_url_check(const url_scan& scan, const public_suffix_list& suffixes, const url_lists& lists) {
    url_plan plan;
    plan.urls = scan.urls.size();
    std::unordered_set<std::string> queried, shortened;
    for (const auto& raw : scan.urls) {
        auto h = normalise_url(raw, suffixes);
        if (!h) {
            ++plan.unparsed;
            continue;
        }
        if (h->ip_literal) {
            ++plan.ip_literals;  // domain lists are not asked about addresses (DBL answers 127.0.1.255)
            continue;
        }
        if (list_matches(lists.allow, h->host)) {
            ++plan.allowed;
            continue;
        }
        const std::string domain = h->registrable_domain.empty() ? h->host : h->registrable_domain;
        if (list_matches(lists.shorteners, h->host) && shortened.insert(domain).second) {
            plan.findings.push_back({url_risk::shortener, domain, ""});
        }
        if (queried.insert(domain).second) plan.query_domains.push_back(domain);
    }
    if (!scan.fully_scanned())
        plan.findings.push_back({url_risk::incomplete, "", std::string(to_string(scan.stopped))});
    return plan;
}

url_verdict decide_urls(const url_plan& plan, const std::vector<zone_result>& answers, const url_policy& policy,
                        const std::string& sender_domain) {
    url_verdict v;
    v.findings = plan.findings;
    for (const auto& a : answers) {
        if (a.answer == zone_answer::listed) v.findings.push_back({url_risk::listed, a.domain, a.zone + ":" + a.code});
        if (a.answer == zone_answer::unknown)
            v.findings.push_back({url_risk::unknown, a.domain, a.zone + ":" + a.code});
    }
    const url_actions& actions = policy.for_sender(sender_domain);
    // Worst first: by action, then by risk in declaration order (listed before shortener ...).
    std::stable_sort(v.findings.begin(), v.findings.end(), [&](const url_finding& x, const url_finding& y) {
        auto ax = actions.for_risk(x.risk), ay = actions.for_risk(y.risk);
        return ax != ay ? ax > ay : x.risk < y.risk;
    });
    if (v.findings.empty()) {
        v.log_fields = "url_action=pass urls=" + std::to_string(plan.urls);
        return v;
    }
    const url_finding& worst = v.findings.front();
    v.action = actions.for_risk(worst.risk);
    for (const auto& f : v.findings) {
        std::string item = std::string(to_string(f.risk)) + "=" + (f.domain.empty() ? f.detail : f.domain);
        if (f.risk == url_risk::listed || f.risk == url_risk::unknown) item += " (" + f.detail + ")";
        if (v.header.size() + item.size() + 2 > max_header_bytes) {
            v.header += v.header.empty() ? "..." : "; ...";
            break;
        }
        v.header += (v.header.empty() ? "" : "; ") + item;
    }
    const std::string what = worst.risk == url_risk::incomplete
                                 ? "a message that could not be fully scanned for URLs"
                                 : "a link to " + worst.domain + " (" + std::string(to_string(worst.risk)) +
                                       (worst.risk == url_risk::listed ? " by " + worst.detail : "") + ")";
    if (v.action == url_action::reject) v.reply = {"550", "5.7.1", "Message refused: " + what};
    if (v.action == url_action::tempfail) v.reply = {"451", "4.7.1", "Message deferred: " + what + "; try later"};
    v.log_fields = "url_action=" + std::string(to_string(v.action)) +
                   " url_risk=" + std::string(to_string(worst.risk)) +
                   (worst.domain.empty() ? "" : " url_domain=" + worst.domain) +
                   " url_findings=" + std::to_string(v.findings.size()) + " urls=" + std::to_string(plan.urls);
    if (v.action == url_action::pass) v.header.clear();  // pass: nothing added to the message
    return v;
}

}  // namespace relaygate::milter
