// counter_store.hpp: the sliding-window volume counters behind one interface.
// In-process (default) or Redis (several MTAs share one quota). A window is a
// "sliding window counter": the previous fixed window's count weighted by how
// much of it still overlaps, plus the current one (error well under one
// window's worth, O(1) memory per key). apply() checks every op first and adds
// only when none is over its limit, so a deferred recipient is not counted.
// Used by volume_policy (decisions) and the benchmarks (memory).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>

namespace relaygate::policy {

enum class metric : std::uint8_t { messages = 0, recipients = 1, bytes = 2 };
inline constexpr int metric_count = 3;

struct counter_op {
    std::string key;  // "<dimension>:<value>", e.g. "sender_domain:example.com"
    metric what = metric::recipients;
    std::uint32_t window_s = 3600;
    std::uint64_t limit = 0;  // over when estimate + check > limit
    std::uint64_t check = 0;  // amount this request would add (enforced ops only)
    std::uint64_t add = 0;    // amount to add when nothing is over
    bool enforce = true;      // false: count only, never over
};

struct counter_result {
    int over = -1;               // index of the first op over its limit, -1 = none
    std::uint64_t estimate = 0;  // that op's current estimate
    bool failed = false;         // back end unavailable: nothing checked or added (fail-open)
};

class counter_store {
public:
    virtual ~counter_store() = default;
    virtual counter_result apply(std::span<const counter_op> ops, std::int64_t now_ms) = 0;
    virtual std::size_t keys() const = 0;                 // tracked keys (in-process), 0 if unknown
    virtual std::uint64_t failures() const { return 0; }  // back-end failures so far
    virtual bool healthy() const { return true; }         // false while the back end is failing (breaker open)
};

// One window counter: fixed window index, previous and current counts.
struct window_counter {
    std::uint32_t index = 0;
    std::uint64_t prev = 0;
    std::uint64_t cur = 0;
    // Rolls to the window of now_s and returns the sliding estimate.
    std::uint64_t estimate(std::uint32_t window_s, std::int64_t now_s);
};

// In-process store, bounded: two generations of at most max_keys/2 keys each;
// when the young one fills up, the old one is dropped (an approximate LRU:
// a key survives while fewer than max_keys/2 other keys were touched since it
// was). Keys are stored as 64-bit hashes of "<key>", counters for all metrics.
std::unique_ptr<counter_store> make_local_counter_store(std::size_t max_keys = 2000000);

// The Redis store (the shell's): policy/redis_counter_store.hpp.

}  // namespace relaygate::policy
