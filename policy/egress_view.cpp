// egress_view.cpp: see egress_view.hpp.
#include "policy/egress_view.hpp"

#include "relaygate/log/log.hpp"

namespace relaygate::policy {

egress_view::egress_view(std::shared_ptr<egress::egress_store> store, std::string family,
                         std::chrono::milliseconds refresh)
    : store_(std::move(store)), family_(std::move(family)), refresh_(refresh) {
    poll();
    thread_ = std::thread([this] {
        std::unique_lock lock(mutex_);
        while (!stop_) {
            cv_.wait_for(lock, refresh_);
            if (stop_) break;
            lock.unlock();
            poll();
            lock.lock();
        }
    });
}

egress_view::~egress_view() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

void egress_view::poll() {
    auto route = store_->active(family_);
    std::string now = route ? route->active_transport : std::string();
    std::lock_guard lock(mutex_);
    if (now != shared_) {
        log::notice("- egress_active family=" + family_ + " transport=" + (now.empty() ? "designated" : now) +
                    (route ? " reason=" + log::quote(route->reason) : std::string()));
        shared_ = std::move(now);
        version_.fetch_add(1, std::memory_order_release);
    }
}

void egress_view::refresh_now() { poll(); }

const std::string& egress_view::active() {
    std::uint64_t v = version_.load(std::memory_order_acquire);
    if (v != seen_version_) {
        std::lock_guard lock(mutex_);
        local_ = shared_;
        seen_version_ = version_.load(std::memory_order_relaxed);
    }
    return local_;
}

}  // namespace relaygate::policy
