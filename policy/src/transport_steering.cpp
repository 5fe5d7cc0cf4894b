// transport_steering.cpp: see transport_steering.hpp.
#include "relaygate/policy/transport_steering.hpp"

#include <algorithm>

namespace relaygate::policy {
namespace {

std::string ok_reply(const steering_config& cfg, std::string_view active) {
    std::string r = "OK ";
    r += choose_transport(cfg, active);
    r += ':';
    r += cfg.nexthop;
    return r;
}

socketmap_step done(std::string reply, steering_reason why, std::string domain = {}) {
    return socketmap_step{false, std::move(reply), std::move(domain), why};
}

}  // namespace

std::string_view choose_transport(const steering_config& cfg, std::string_view active) {
    if (active.empty() || active == cfg.designated) return cfg.designated;
    if (std::find(cfg.spares.begin(), cfg.spares.end(), active) != cfg.spares.end()) return active;
    return cfg.designated;
}

std::string_view to_string(steering_reason r) {
    switch (r) {
        case steering_reason::wildcard:
            return "wildcard";
        case steering_reason::not_a_domain:
            return "not_a_domain";
        case steering_reason::domain_list:
            return "domain_list";
        case steering_reason::mx_microsoft:
            return "mx_microsoft";
        case steering_reason::mx_other:
            return "mx_other";
        case steering_reason::mx_temp:
            return "mx_temp";
        case steering_reason::mx_disabled:
            return "mx_disabled";
        case steering_reason::unknown_map:
            return "unknown_map";
        case steering_reason::need_mx:
            return "need_mx";
    }
    return "unknown";
}

socketmap_step socketmap_lookup(std::string_view payload, const steering_config& cfg, const domain_list& list,
                                mx_cache& cache, std::string_view active_transport, std::int64_t now_ms) {
    std::size_t space = payload.find(' ');
    std::string_view map = payload.substr(0, space);
    std::string_view key = space == std::string_view::npos ? std::string_view{} : payload.substr(space + 1);
    if (std::find(cfg.map_names.begin(), cfg.map_names.end(), map) == cfg.map_names.end())
        return done("PERM unknown map name", steering_reason::unknown_map);
    if (key == "*") return done("NOTFOUND ", steering_reason::wildcard);
    std::size_t at = key.rfind('@');
    std::string_view raw_domain = at == std::string_view::npos ? key : key.substr(at + 1);
    std::string domain = normalize_domain(raw_domain);
    // A bare local part ("postmaster") is not a domain; a dotted key without '@'
    // is taken as a domain (postmap -q hotmail.com).
    if (domain.empty() || (at == std::string_view::npos && domain.find('.') == std::string::npos))
        return done("NOTFOUND ", steering_reason::not_a_domain);
    if (list.matches(domain)) return done(ok_reply(cfg, active_transport), steering_reason::domain_list, domain);
    if (!cfg.mx_detection) return done("NOTFOUND ", steering_reason::mx_disabled, domain);
    if (auto v = cache.get(domain, now_ms)) {
        static constexpr steering_reason why[] = {steering_reason::mx_microsoft, steering_reason::mx_other,
                                                  steering_reason::mx_temp};
        auto reason = why[static_cast<int>(*v)];
        return done(reply_for_verdict(*v, domain, cfg, active_transport), reason, domain);
    }
    return socketmap_step{true, {}, std::move(domain), steering_reason::need_mx};
}

std::string reply_for_verdict(mx_verdict v, std::string_view domain, const steering_config& cfg,
                              std::string_view active_transport) {
    switch (v) {
        case mx_verdict::microsoft:
            return ok_reply(cfg, active_transport);
        case mx_verdict::other:
            return "NOTFOUND ";
        case mx_verdict::temp:
            break;
    }
    return "TEMP MX lookup for " + std::string(domain) + " failed or timed out";
}

}  // namespace relaygate::policy
