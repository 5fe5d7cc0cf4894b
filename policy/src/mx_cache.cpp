// mx_cache.cpp: see mx_cache.hpp.
#include "relaygate/policy/mx_cache.hpp"

#include <algorithm>

namespace relaygate::policy {

std::string_view to_string(mx_verdict v) {
    switch (v) {
        case mx_verdict::microsoft:
            return "microsoft";
        case mx_verdict::other:
            return "other";
        case mx_verdict::temp:
            return "temp";
    }
    return "unknown";
}

bool host_under_suffix(std::string_view host, const std::vector<std::string>& suffixes) {
    for (const auto& s : suffixes) {
        if (host == s) return true;
        if (host.size() > s.size() && host.ends_with(s) && host[host.size() - s.size() - 1] == '.') return true;
    }
    return false;
}

mx_classification classify_mx(const dns::answer& a, const std::vector<std::string>& suffixes,
                              const mx_ttl_policy& ttl) {
    mx_classification c;
    switch (a.result) {
        case dns::status::nxdomain:
        case dns::status::nodata:
            c.verdict = mx_verdict::other;
            c.ttl = std::clamp(a.ttl, ttl.min_negative, ttl.max_negative);
            c.evidence = std::string(dns::to_string(a.result));
            return c;
        case dns::status::servfail:
        case dns::status::timeout:
        case dns::status::error:
            c.verdict = mx_verdict::temp;
            c.ttl = ttl.temp;
            c.evidence = std::string(dns::to_string(a.result));
            return c;
        case dns::status::ok:
            break;
    }
    c.ttl = std::clamp(a.ttl, ttl.min_positive, ttl.max_positive);
    c.verdict = mx_verdict::other;
    if (a.mx.empty()) {
        c.evidence = "no_mx";
        c.ttl = std::clamp(a.ttl, ttl.min_negative, ttl.max_negative);
        return c;
    }
    std::uint16_t best = a.mx.front().preference;
    for (const auto& mx : a.mx) best = std::min(best, mx.preference);
    c.evidence = a.mx.front().exchange;
    for (const auto& mx : a.mx) {
        if (mx.preference != best) continue;
        std::string_view host = mx.exchange;
        if (!host.empty() && host.back() == '.') host.remove_suffix(1);
        if (host_under_suffix(host, suffixes)) {
            c.verdict = mx_verdict::microsoft;
            c.evidence = std::string(host);
            return c;
        }
    }
    return c;
}

std::optional<mx_verdict> mx_cache::get(std::string_view domain, std::int64_t now_ms) {
    auto it = map_.find(domain);
    if (it == map_.end()) return std::nullopt;
    if (it->second->expires_ms <= now_ms) {
        auto node = it->second;
        map_.erase(it);
        lru_.erase(node);
        return std::nullopt;
    }
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->verdict;
}

void mx_cache::put(std::string_view domain, mx_verdict v, std::uint32_t ttl_s, std::int64_t now_ms) {
    std::int64_t expires = now_ms + static_cast<std::int64_t>(ttl_s) * 1000;
    if (auto it = map_.find(domain); it != map_.end()) {
        it->second->verdict = v;
        it->second->expires_ms = expires;
        lru_.splice(lru_.begin(), lru_, it->second);
        return;
    }
    while (map_.size() >= capacity_) {
        map_.erase(std::string_view(lru_.back().domain));
        lru_.pop_back();
        ++evictions_;
    }
    lru_.push_front(entry{std::string(domain), v, expires});
    map_.emplace(std::string_view(lru_.front().domain), lru_.begin());
}

}  // namespace relaygate::policy
