// spf_include_cache.cpp: see spf_include_cache.hpp. The map holds a
// shared_future per name, inserted before the lookup starts, so a name asked by
// many threads at once is still sent to the resolver once.
#include "relaygate/verify/spf_include_cache.hpp"

namespace relaygate::registry {

dns::answer spf_include_cache::resolve(dns::resolver& resolver, const std::string& name, dns::rr_type type) {
    auto key = std::make_pair(name, static_cast<int>(type));
    std::promise<dns::answer> mine;
    {
        std::unique_lock lock(mutex_);
        if (auto it = answers_.find(key); it != answers_.end()) {
            auto answer = it->second;  // copy: the map may change once unlocked
            lock.unlock();
            ++hits_;
            return answer.get();
        }
        if (answers_.size() < max_names_) {
            answers_.emplace(key, mine.get_future().share());
        } else {
            lock.unlock();
            ++resolved_;
            return resolver.resolve(name, type);  // full: this pass's other names go uncached
        }
    }
    ++resolved_;
    try {
        auto a = resolver.resolve(name, type);
        mine.set_value(a);
        return a;
    } catch (...) {
        mine.set_exception(std::current_exception());  // waiters see the same failure
        throw;
    }
}

std::size_t spf_include_cache::size() const {
    std::lock_guard lock(mutex_);
    return answers_.size();
}

}  // namespace relaygate::registry
