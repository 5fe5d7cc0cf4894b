// url_lookup.hpp: the URL check's DNS side — every "<domain>.<zone> A" query of
// one message started at once through the project's resolver (libunbound,
// asynchronous), waited for until ONE deadline, read by classify_answer. Queries
// still open at the deadline are "unknown" (code "deadline"); their answers are
// still cached when they come. Answers are cached by name for their TTL (capped
// at an hour; servfail/timeout never cached). Thread-safe. Called by the milter
// shell at end of message and by relaygate-admin check-url / scan.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "relaygate/dns/dns_resolver.hpp"
#include "relaygate/milter/url_check.hpp"

namespace relaygate::milter {

class url_lookup {
public:
    url_lookup(dns::resolver& resolver, std::vector<blocklist_zone> zones, std::chrono::milliseconds deadline);
    ~url_lookup();
    url_lookup(const url_lookup&) = delete;
    url_lookup& operator=(const url_lookup&) = delete;

    // One result per domain and zone, in that order.
    std::vector<zone_result> check(const std::vector<std::string>& domains);
    const std::vector<blocklist_zone>& zones() const { return zones_; }
    std::size_t cache_size() const;

private:
    struct cache;
    dns::resolver& resolver_;
    std::vector<blocklist_zone> zones_;
    std::chrono::milliseconds deadline_;
    std::shared_ptr<cache> cache_;  // shared with callbacks that outlive a deadline
};

}  // namespace relaygate::milter
