// egress_view.hpp: the event loop's cheap view of one family's active
// transport. A background thread asks the egress_store every refresh period
// (100 ms by default, so a flip applies to lookups within that time, and a
// slow Redis never blocks the loop); the loop reads a version number and
// copies the name only when it changed. Unset or unreadable = "" (the caller
// uses the designated transport: the documented fail-open).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "relaygate/egress/egress_state.hpp"

namespace relaygate::policy {

class egress_view {
public:
    egress_view(std::shared_ptr<egress::egress_store> store, std::string family,
                std::chrono::milliseconds refresh = std::chrono::milliseconds(100));
    ~egress_view();
    egress_view(const egress_view&) = delete;
    egress_view& operator=(const egress_view&) = delete;

    // Loop thread only: the active transport ("" = designated).
    const std::string& active();
    void refresh_now();  // synchronous poll (start-up, tests)

private:
    void poll();
    std::shared_ptr<egress::egress_store> store_;
    std::string family_;
    std::chrono::milliseconds refresh_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stop_ = false;
    std::string shared_;  // guarded by mutex_
    std::atomic<std::uint64_t> version_{0};
    std::uint64_t seen_version_ = 0;
    std::string local_;  // loop thread's copy
    std::thread thread_;
};

}  // namespace relaygate::policy
