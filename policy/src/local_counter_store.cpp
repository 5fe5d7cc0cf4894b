// local_counter_store.cpp: the in-process counter_store (see counter_store.hpp).
// Single-threaded: the event loop owns it.
#include <array>
#include <functional>
#include <string_view>

#include "relaygate/policy/counter_store.hpp"

namespace relaygate::policy {

std::uint64_t window_counter::estimate(std::uint32_t window_s, std::int64_t now_s) {
    auto idx = static_cast<std::uint32_t>(now_s / window_s);
    if (idx != index) {
        prev = idx == index + 1 ? cur : 0;
        cur = 0;
        index = idx;
    }
    std::int64_t elapsed = now_s - static_cast<std::int64_t>(idx) * window_s;
    // prev weighted by the part of the previous window still inside the sliding
    // one, rounded up: a limiter errs on the side of the limit.
    std::uint64_t remaining = static_cast<std::uint64_t>(window_s - elapsed);
    std::uint64_t weighted = (prev * remaining + window_s - 1) / window_s;
    return weighted + cur;
}

namespace {

struct key_counters {
    std::array<window_counter, metric_count> by_metric;
};

class local_counter_store final : public counter_store {
public:
    explicit local_counter_store(std::size_t max_keys) : half_(max_keys / 2 < 16 ? 16 : max_keys / 2) {
        young_.reserve(half_);
    }

    counter_result apply(std::span<const counter_op> ops, std::int64_t now_ms) override {
        std::int64_t now_s = now_ms / 1000;
        counter_result r;
        // At most a handful of ops per request: remember each op's entry.
        std::array<key_counters*, 16> entries{};
        std::size_t n = ops.size() < entries.size() ? ops.size() : entries.size();
        for (std::size_t i = 0; i < n; ++i) {
            const auto& op = ops[i];
            entries[i] = &find_or_insert(hash(op.key, op.window_s));
            auto& c = entries[i]->by_metric[static_cast<int>(op.what)];
            std::uint64_t est = c.estimate(op.window_s, now_s);
            if (op.enforce && r.over < 0 && est + op.check > op.limit) {
                r.over = static_cast<int>(i);
                r.estimate = est;
            }
        }
        if (r.over >= 0) return r;
        for (std::size_t i = 0; i < n; ++i) entries[i]->by_metric[static_cast<int>(ops[i].what)].cur += ops[i].add;
        return r;
    }

    std::size_t keys() const override { return young_.size() + old_.size(); }

private:
    // The window is part of the counter's identity (as in the Redis store's key):
    // two limits on one dimension and metric with different windows must not
    // share a window_counter, or each would reset the other's window.
    static std::uint64_t hash(std::string_view key, std::uint32_t window_s) {
        return std::hash<std::string_view>{}(key) ^ (std::uint64_t{window_s} * 0x9E3779B97F4A7C15ull);
    }

    key_counters& find_or_insert(std::uint64_t h) {
        if (auto it = young_.find(h); it != young_.end()) return it->second;
        key_counters moved{};
        if (auto it = old_.find(h); it != old_.end()) {
            moved = it->second;
            old_.erase(it);
        }
        if (young_.size() >= half_) {
            old_.clear();  // frees the least recently used half
            old_.swap(young_);
            young_.reserve(half_);
        }
        return young_.emplace(h, moved).first->second;
    }

    std::size_t half_;
    std::unordered_map<std::uint64_t, key_counters> young_, old_;
};

}  // namespace

std::unique_ptr<counter_store> make_local_counter_store(std::size_t max_keys) {
    return std::make_unique<local_counter_store>(max_keys);
}

}  // namespace relaygate::policy
