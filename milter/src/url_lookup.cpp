// url_lookup.cpp: concurrent blocklist queries with one deadline and a TTL cache (see url_lookup.hpp).
#include "relaygate/milter/url_lookup.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <unordered_map>

namespace relaygate::milter {

namespace {
constexpr std::size_t max_cache_entries = 100000;  // beyond this the cache starts over (bounded memory)
constexpr std::uint32_t max_cache_ttl = 3600;      // seconds; lists change, a day-old "clean" is stale
using steady = std::chrono::steady_clock;
}  // namespace

struct url_lookup::cache {
    struct entry {
        dns::status status;
        std::vector<std::string> addresses;
        steady::time_point expires;
    };
    mutable std::mutex mu;
    std::unordered_map<std::string, entry> entries;

    bool find(const std::string& name, dns::status& s, std::vector<std::string>& a) {
        std::lock_guard lock(mu);
        auto it = entries.find(name);
        if (it == entries.end()) return false;
        if (it->second.expires <= steady::now()) {
            entries.erase(it);
            return false;
        }
        s = it->second.status;
        a = it->second.addresses;
        return true;
    }
    void store(const dns::answer& ans) {
        if (ans.result != dns::status::ok && ans.result != dns::status::nxdomain && ans.result != dns::status::nodata)
            return;
        std::lock_guard lock(mu);
        if (entries.size() >= max_cache_entries) entries.clear();
        auto ttl = std::chrono::seconds(std::min(ans.ttl, max_cache_ttl));
        entries[ans.qname] = {ans.result, ans.addresses, steady::now() + ttl};
    }
};

url_lookup::url_lookup(dns::resolver& resolver, std::vector<blocklist_zone> zones, std::chrono::milliseconds deadline)
    : resolver_(resolver), zones_(std::move(zones)), deadline_(deadline), cache_(std::make_shared<cache>()) {}

url_lookup::~url_lookup() = default;

std::size_t url_lookup::cache_size() const {
    std::lock_guard lock(cache_->mu);
    return cache_->entries.size();
}

std::vector<zone_result> url_lookup::check(const std::vector<std::string>& domains) {
    struct pending {
        std::mutex mu;
        std::condition_variable cv;
        std::vector<std::optional<zone_result>> results;
        std::size_t open = 0;
    };
    auto state = std::make_shared<pending>();
    state->results.resize(domains.size() * zones_.size());
    const auto until = steady::now() + deadline_;
    std::size_t i = 0;
    for (const auto& d : domains) {
        for (const auto& z : zones_) {
            const std::string name = d + "." + z.zone;
            dns::status s{};
            std::vector<std::string> addrs;
            if (cache_->find(name, s, addrs)) {
                state->results[i] = classify_answer(z, d, s, addrs);
            } else {
                {
                    std::lock_guard lock(state->mu);
                    ++state->open;
                }
                resolver_.resolve_async(name, dns::rr_type::a, [state, c = cache_, z, d, i](const dns::answer& ans) {
                    c->store(ans);
                    std::lock_guard lock(state->mu);
                    state->results[i] = classify_answer(z, d, ans.result, ans.addresses);
                    if (--state->open == 0) state->cv.notify_all();
                });
            }
            ++i;
        }
    }
    std::unique_lock lock(state->mu);
    state->cv.wait_until(lock, until, [&] { return state->open == 0; });
    std::vector<zone_result> out;
    out.reserve(state->results.size());
    i = 0;
    for (const auto& d : domains) {
        for (const auto& z : zones_) {
            auto& r = state->results[i++];
            out.push_back(r ? *r : zone_result{d, z.zone, zone_answer::unknown, "deadline"});
        }
    }
    return out;
}

}  // namespace relaygate::milter
