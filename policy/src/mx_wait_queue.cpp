// mx_wait_queue.cpp: see mx_wait_queue.hpp.
#include "relaygate/policy/mx_wait_queue.hpp"

#include <algorithm>

namespace relaygate::policy {

mx_wait_queue::admission mx_wait_queue::wait(const std::string& domain, reply_token token, std::string key,
                                             const mx_wait_limits& limits) {
    auto it = waiting_.find(domain);
    admission result = admission::joined;
    if (it == waiting_.end()) {
        if (waiting_.size() >= limits.max_domains) return admission::full;
        it = waiting_.emplace(domain, std::vector<waiter>{}).first;
        result = admission::start_lookup;
    }
    it->second.push_back(waiter{token, std::move(key), domain});
    deadlines_.push_back(deadline{now_ms_() + limits.wait_ms, domain, token});
    return result;
}

std::vector<mx_wait_queue::waiter> mx_wait_queue::answer(const std::string& domain) {
    auto it = waiting_.find(domain);
    if (it == waiting_.end()) return {};
    std::vector<waiter> out = std::move(it->second);
    waiting_.erase(it);
    // Their deadlines stay queued and find no waiter when they come due.
    return out;
}

std::vector<mx_wait_queue::waiter> mx_wait_queue::expire() {
    std::vector<waiter> out;
    if (deadlines_.empty()) return out;  // the common case: no clock read, no allocation
    const std::int64_t now = now_ms_();
    while (!deadlines_.empty() && deadlines_.front().at <= now) {
        deadline d = std::move(deadlines_.front());
        deadlines_.pop_front();
        auto it = waiting_.find(d.domain);
        if (it == waiting_.end()) continue;  // answered in time
        auto& ws = it->second;
        auto w = std::find_if(ws.begin(), ws.end(), [&](const waiter& x) { return x.token == d.token; });
        if (w == ws.end()) continue;
        out.push_back(std::move(*w));
        ws.erase(w);
        // The entry stays (perhaps empty) until the answer: a retry joins the lookup in flight.
    }
    return out;
}

}  // namespace relaygate::policy
