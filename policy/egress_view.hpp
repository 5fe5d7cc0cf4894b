// egress_view.hpp: the event loop's cheap view of one family's egress route.
// A background thread reads the egress_store every refresh period (100 ms by
// default, so a flip applies to lookups within that time, and a slow or hung
// Redis never blocks the loop) and decides the route with decide_route()
// (last_good_route.hpp): a store that is unreachable, hung or corrupt never
// sends steering back to the designated transport; the last route read is
// kept in memory and in last_good_file (written atomically: temp + fsync +
// rename), so a restart during a store outage still knows it. One log line
// per change of route or source. The loop reads a version number and copies
// the route only when it changed.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "relaygate/egress/egress_state.hpp"
#include "relaygate/policy/last_good_route.hpp"

namespace relaygate::policy {

struct egress_route {
    std::string transport;                      // "" = designated
    route_source source = route_source::store;  // unknown: steered lookups get TEMP
};

struct egress_view_stats {
    std::uint64_t store_failures = 0;  // reads that found the store unavailable
    std::uint64_t degraded = 0;        // times the route left the store (to last_good or unknown)
    std::uint64_t save_failures = 0;   // last-good file writes that failed
};

class egress_view {
public:
    // last_good_file: "" = memory only (tests); otherwise loaded now, rewritten on each new route.
    egress_view(std::shared_ptr<egress::egress_store> store, std::string family, std::string last_good_file = {},
                std::chrono::milliseconds refresh = std::chrono::milliseconds(100));
    ~egress_view();
    egress_view(const egress_view&) = delete;
    egress_view& operator=(const egress_view&) = delete;

    // Loop thread only: the route steering uses now.
    const egress_route& route();
    void refresh_now();  // synchronous poll (start-up, tests)
    egress_view_stats stats();

private:
    void poll();
    void load_last_good();
    bool save_last_good(const std::string& transport) const;

    std::shared_ptr<egress::egress_store> store_;
    std::string family_;
    std::string last_good_file_;
    std::chrono::milliseconds refresh_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stop_ = false;
    std::optional<std::string> last_good_;  // poll thread only
    egress_route shared_;                   // guarded by mutex_
    bool have_shared_ = false;              // guarded by mutex_: a route was published
    egress_view_stats stats_;               // guarded by mutex_
    std::atomic<std::uint64_t> version_{0};
    std::uint64_t seen_version_ = 0;
    egress_route local_;  // loop thread's copy
    std::thread thread_;
};

}  // namespace relaygate::policy
