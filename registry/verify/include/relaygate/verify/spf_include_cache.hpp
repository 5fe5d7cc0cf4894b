// spf_include_cache.hpp: the DNS answers of names an SPF evaluation reaches
// through include:/redirect= (an ESP's "_spf.operator" record and what it
// names), shared by every domain of one verification pass, so that a record a
// million customers include is resolved once per pass, not once per domain and
// IP. Each name is resolved by its first asker; concurrent askers wait for
// that answer. Bounded: past max_names new names are resolved uncached.
// Thread-safe. Made by domain_verifier::verify_all, used by spf_verifier.
#pragma once

#include <atomic>
#include <cstddef>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "relaygate/dns/dns_resolver.hpp"

namespace relaygate::registry {

class spf_include_cache {
public:
    explicit spf_include_cache(std::size_t max_names = 10000) : max_names_(max_names) {}

    // The answer for (name, type): cached, or resolved now (blocking) and kept for the pass.
    dns::answer resolve(dns::resolver& resolver, const std::string& name, dns::rr_type type);

    std::size_t size() const;                                  // names held
    std::size_t resolved() const { return resolved_.load(); }  // lookups sent to the resolver
    std::size_t hits() const { return hits_.load(); }          // lookups answered from the cache

private:
    const std::size_t max_names_;
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, int>, std::shared_future<dns::answer>> answers_;
    std::atomic<std::size_t> resolved_{0}, hits_{0};
};

}  // namespace relaygate::registry
