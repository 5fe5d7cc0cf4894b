// mx_cache.hpp: Microsoft-hosted domain detection by MX, with relaygate-policy's
// own verdict cache. classify_mx() is pure: the most-preferred MX hosts decide
// (what Postfix would deliver to); a host under one of the suffixes
// (mail.protection.outlook.com, olc.protection.outlook.com, mx.microsoft) makes
// the domain Microsoft-family. mx_cache is an LRU of verdicts with TTLs taken
// from the answer and clamped; bounded entries; the clock is injected (ms).
// Single-threaded: the server's event loop owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "relaygate/dns/dns_resolver.hpp"

namespace relaygate::policy {

enum class mx_verdict {
    microsoft,  // most-preferred MX under a Microsoft suffix
    other,      // any other MX, no MX, null MX, NXDOMAIN
    temp,       // SERVFAIL / timeout / error: cannot decide now
};
std::string_view to_string(mx_verdict v);

struct mx_ttl_policy {
    std::uint32_t min_positive = 60, max_positive = 86400;  // verdicts from MX records
    std::uint32_t min_negative = 60, max_negative = 3600;   // NXDOMAIN / NODATA
    std::uint32_t temp = 5;                                 // SERVFAIL and friends: re-ask soon
};

struct mx_classification {
    mx_verdict verdict = mx_verdict::temp;
    std::uint32_t ttl = 0;  // seconds the verdict may be cached
    std::string evidence;   // the MX host that decided, or the DNS status, for the log
};

inline const std::vector<std::string>& default_microsoft_mx_suffixes() {
    static const std::vector<std::string> s{"mail.protection.outlook.com", "olc.protection.outlook.com",
                                            "mx.microsoft"};
    return s;
}

// True when host equals a suffix or ends with "." + suffix (host lower case, no trailing dot).
bool host_under_suffix(std::string_view host, const std::vector<std::string>& suffixes);

mx_classification classify_mx(const dns::answer& a, const std::vector<std::string>& suffixes,
                              const mx_ttl_policy& ttl = {});

class mx_cache {
public:
    explicit mx_cache(std::size_t capacity = 100000) : capacity_(capacity == 0 ? 1 : capacity) {}

    // The cached verdict of a normalised domain, or nullopt (missing or expired).
    std::optional<mx_verdict> get(std::string_view domain, std::int64_t now_ms);
    void put(std::string_view domain, mx_verdict v, std::uint32_t ttl_s, std::int64_t now_ms);
    std::size_t size() const { return map_.size(); }
    std::uint64_t evictions() const { return evictions_; }

private:
    struct entry {
        std::string domain;
        mx_verdict verdict;
        std::int64_t expires_ms;
    };
    std::size_t capacity_;
    std::list<entry> lru_;                                                  // front = most recently used
    std::unordered_map<std::string_view, std::list<entry>::iterator> map_;  // views into lru_ nodes
    std::uint64_t evictions_ = 0;
};

}  // namespace relaygate::policy
