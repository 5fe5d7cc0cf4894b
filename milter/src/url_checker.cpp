// url_checker.cpp: loading the URL check's files and running one check (see url_checker.hpp).
#include "relaygate/milter/url_checker.hpp"

#include <fstream>
#include <sstream>

#include "relaygate/milter/url_normaliser.hpp"

namespace relaygate::milter {
namespace {

constexpr std::size_t max_list_file_bytes = 16 << 20;  // the public suffix list is ~250 KB

expected<std::string, std::string> read_text(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return unexpected("cannot read " + path);
    std::ostringstream ss;
    ss << f.rdbuf();
    std::string text = ss.str();
    if (text.size() > max_list_file_bytes) return unexpected(path + " is larger than 16 MiB");
    return text;
}

expected<std::unordered_set<std::string>, std::string> read_domain_list(const std::string& path) {
    if (path.empty()) return std::unordered_set<std::string>{};
    auto text = read_text(path);
    if (!text) return unexpected(text.error());
    auto list = parse_domain_list(*text);
    if (!list) return unexpected(path + ": " + list.error());
    return list;
}

}  // namespace

url_checker::url_checker(url_check_config cfg, public_suffix_list suffixes, url_lists lists)
    : cfg_(std::move(cfg)), suffixes_(std::move(suffixes)), lists_(std::move(lists)) {}

expected<std::unique_ptr<url_checker>, std::string> url_checker::load(const url_check_config& cfg,
                                                                      dns::resolver* resolver) {
    auto psl_text = read_text(cfg.public_suffix_file);
    if (!psl_text) return unexpected(psl_text.error() + " (Debian package publicsuffix)");
    auto psl = public_suffix_list::parse(*psl_text);
    if (!psl) return unexpected(cfg.public_suffix_file + ": " + psl.error());
    auto shorteners = read_domain_list(cfg.shortener_file);
    if (!shorteners) return unexpected(shorteners.error());
    auto allow = read_domain_list(cfg.allow_file);
    if (!allow) return unexpected(allow.error());
    std::unique_ptr<url_checker> c(new url_checker(cfg, std::move(*psl), {std::move(*shorteners), std::move(*allow)}));
    if (!cfg.zones.empty()) {
        if (resolver == nullptr) return unexpected(std::string("blocklist zones need a resolver"));
        c->lookup_ = std::make_unique<url_lookup>(*resolver, cfg.zones, std::chrono::milliseconds(cfg.dns_deadline_ms));
    }
    return c;
}

url_report url_checker::finish(url_scan scan, const std::string& sender_domain) const {
    url_report r;
    r.scan = std::move(scan);
    r.plan = plan_url_check(r.scan, suffixes_, lists_);
    if (lookup_ && !r.plan.query_domains.empty()) r.answers = lookup_->check(r.plan.query_domains);
    r.verdict = decide_urls(r.plan, r.answers, cfg_.policy, sender_domain);
    return r;
}

url_report url_checker::check(std::string_view message, bool truncated, const std::string& sender_domain) const {
    url_scan scan = extract_urls(message, cfg_.limits);
    if (truncated && scan.fully_scanned()) scan.stopped = scan_limit::bytes;
    return finish(std::move(scan), sender_domain);
}

url_report url_checker::check_url(std::string_view url, const std::string& sender_domain) const {
    url_scan scan;
    scan.urls.emplace_back(url.substr(0, max_url_bytes));
    return finish(std::move(scan), sender_domain);
}

}  // namespace relaygate::milter
