// mx_wait_queue.hpp: socketmap replies waiting for an MX answer, pure. One
// lookup per domain however many replies wait for it (bounded: max_domains
// lookups in flight); each wait has a deadline (wait_ms from the injected
// clock) after which the caller answers TEMP. A domain stays "in flight" until
// its answer comes, even when every waiter has expired, so a retry does not
// start a second lookup. Single-threaded: policy_service owns it on the loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "relaygate/policy/socketmap_reply.hpp"

namespace relaygate::policy {

struct mx_wait_limits {
    std::int64_t wait_ms = 3000;      // then TEMP; the lookup goes on and fills the cache
    std::size_t max_domains = 10000;  // MX lookups in flight
};

class mx_wait_queue {
public:
    explicit mx_wait_queue(std::function<std::int64_t()> now_ms) : now_ms_(std::move(now_ms)) {}

    enum class admission {
        start_lookup,  // queued; the caller starts the MX lookup of the domain and calls answer() with it
        joined,        // queued behind a lookup already in flight
        full,          // not queued: max_domains lookups are in flight (answer TEMP now)
    };
    // Queues a reply slot for domain's MX answer; key is the lookup key (for the log).
    admission wait(const std::string& domain, reply_token token, std::string key, const mx_wait_limits& limits);

    struct waiter {
        reply_token token;
        std::string key;
        std::string domain;
    };
    // The MX answer for domain came: its waiters, in arrival order, removed; the lookup is over.
    std::vector<waiter> answer(const std::string& domain);
    // The waiters whose deadline is past now, in deadline order, removed.
    std::vector<waiter> expire();

    bool has_deadlines() const { return !deadlines_.empty(); }
    std::size_t lookups_in_flight() const { return waiting_.size(); }

private:
    struct deadline {
        std::int64_t at;
        std::string domain;
        reply_token token;
    };
    std::function<std::int64_t()> now_ms_;
    std::unordered_map<std::string, std::vector<waiter>> waiting_;  // domain -> replies waiting for its MX
    std::deque<deadline> deadlines_;                                // FIFO: every wait has the same length
};

}  // namespace relaygate::policy
