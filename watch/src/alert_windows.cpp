// alert_windows.cpp: ring buffers of 60 buckets per key (see alert_windows.hpp).
#include "relaygate/watch/alert_windows.hpp"

#include <algorithm>

namespace relaygate::watch {

std::int64_t alert_windows::bucket_of(std::int64_t now) const {
    const std::int64_t width = std::max<std::int64_t>(1, options_.window_seconds / static_cast<std::int64_t>(buckets));
    return now / width;
}

// Moves the window's head to now, zeroing the buckets that fell out.
void alert_windows::advance(window& w, std::int64_t now) const {
    const std::int64_t b = bucket_of(now);
    if (b <= w.head) return;
    const std::int64_t steps = std::min<std::int64_t>(b - w.head, buckets);
    for (std::int64_t i = 1; i <= steps; ++i) {
        const auto slot = static_cast<std::size_t>((w.head + i) % static_cast<std::int64_t>(buckets));
        w.attempts[slot] = 0;
        w.reputation[slot] = 0;
    }
    w.head = b;
}

bool alert_windows::over(const window& w, std::uint64_t& attempts, std::uint64_t& reputation) const {
    attempts = 0;
    reputation = 0;
    for (std::size_t i = 0; i < buckets; ++i) {
        attempts += w.attempts[i];
        reputation += w.reputation[i];
    }
    return attempts > 0 && reputation >= options_.min_reputation &&
           static_cast<double>(reputation) >= options_.min_ratio * static_cast<double>(attempts);
}

std::vector<alert> alert_windows::count(const alert_key& key, bool reputation, std::string_view cls, std::int64_t now) {
    auto it = windows_.find(key);
    if (it == windows_.end()) {
        window w;
        w.head = bucket_of(now);
        it = windows_.emplace(key, w).first;
    }
    window& w = it->second;
    advance(w, now);
    const auto slot = static_cast<std::size_t>(w.head % static_cast<std::int64_t>(buckets));
    ++w.attempts[slot];
    if (reputation) ++w.reputation[slot];
    std::uint64_t a = 0, r = 0;
    if (!w.alerting && over(w, a, r)) {
        w.alerting = true;
        return {alert{key, now, a, r, std::string(cls)}};
    }
    return {};
}

std::vector<alert> alert_windows::add(const std::string& family, const std::string& transport,
                                      const std::string& sender_domain, bool reputation, std::string_view cls,
                                      std::int64_t now) {
    alert_key key{family, transport, sender_domain};
    if (windows_.size() >= options_.max_keys && !windows_.count(key)) {
        // Too many keys: this sender domain shares the overflow key.
        key = alert_key{family, transport, std::string(1, '*')};
    }
    std::vector<alert> out = count(key, reputation, cls, now);
    std::vector<alert> agg = count(alert_key{family, transport, std::string(aggregate_domain)}, reputation, cls, now);
    out.insert(out.end(), agg.begin(), agg.end());
    return out;
}

std::vector<alert_key> alert_windows::tick(std::int64_t now) {
    std::vector<alert_key> ended;
    for (auto it = windows_.begin(); it != windows_.end();) {
        advance(it->second, now);
        std::uint64_t a = 0, r = 0;
        const bool is_over = over(it->second, a, r);
        if (it->second.alerting && !is_over) {
            it->second.alerting = false;
            ended.push_back(it->first);
        }
        if (a == 0 && !it->second.alerting) {
            it = windows_.erase(it);
        } else {
            ++it;
        }
    }
    return ended;
}

bool alert_windows::over(const std::string& family, const std::string& transport, std::int64_t now) {
    const auto it = windows_.find(alert_key{family, transport, std::string(aggregate_domain)});
    if (it == windows_.end()) return false;
    advance(it->second, now);
    std::uint64_t a = 0, r = 0;
    return over(it->second, a, r);
}

}  // namespace relaygate::watch
