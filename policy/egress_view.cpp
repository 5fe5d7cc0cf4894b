// egress_view.cpp: see egress_view.hpp. Last-good file:
// {"family":"microsoft","active_transport":"msft-spare"} ("" = designated).
#include "policy/egress_view.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "relaygate/log/log.hpp"

namespace relaygate::policy {
namespace {

store_status to_status(egress::read_status s) {
    switch (s) {
        case egress::read_status::found:
            return store_status::found;
        case egress::read_status::unset:
            return store_status::unset;
        case egress::read_status::unavailable:
            return store_status::unavailable;
    }
    return store_status::unavailable;
}

constexpr std::size_t max_last_good_bytes = 4096;  // a hostile or broken file is not read whole

}  // namespace

egress_view::egress_view(std::shared_ptr<egress::egress_store> store, std::string family, std::string last_good_file,
                         std::chrono::milliseconds refresh)
    : store_(std::move(store)),
      family_(std::move(family)),
      last_good_file_(std::move(last_good_file)),
      refresh_(refresh) {
    load_last_good();
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

void egress_view::load_last_good() {
    if (last_good_file_.empty()) return;
    std::ifstream in(last_good_file_);
    if (!in) return;  // none yet (first start), or unreadable: nothing known
    std::string text(max_last_good_bytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (text.size() > max_last_good_bytes || j.is_discarded() || !j.is_object() || !j.contains("family") ||
        !j["family"].is_string() || j["family"].get<std::string>() != family_ || !j.contains("active_transport") ||
        !j["active_transport"].is_string()) {
        log::error("- egress_last_good_unreadable path=" + log::quote(last_good_file_) + " using=nothing");
        return;
    }
    last_good_ = j["active_transport"].get<std::string>();
    log::notice("- egress_last_good_loaded family=" + family_ +
                " transport=" + (last_good_->empty() ? std::string("designated") : *last_good_));
}

bool egress_view::save_last_good(const std::string& transport) const {
    if (last_good_file_.empty()) return true;
    const std::string text = nlohmann::json{{"family", family_}, {"active_transport", transport}}.dump() + "\n";
    const std::string tmp = last_good_file_ + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) return false;
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
    ok = ::close(fd) == 0 && ok;
    if (!ok || ::rename(tmp.c_str(), last_good_file_.c_str()) != 0) {
        ::unlink(tmp.c_str());
        return false;
    }
    return true;
}

void egress_view::poll() {
    egress::route_read read = store_->read(family_);
    const std::string store_transport = read.route ? read.route->active_transport : std::string();
    route_decision d = decide_route(to_status(read.status), store_transport, last_good_);
    bool saved = true;
    if (d.remember) {
        last_good_ = d.transport;
        saved = save_last_good(d.transport);
    }
    egress_route next{d.transport, d.source};
    std::lock_guard lock(mutex_);
    if (read.status == egress::read_status::unavailable) ++stats_.store_failures;
    if (!saved) {
        ++stats_.save_failures;
        log::error("- egress_last_good_write_failed path=" + log::quote(last_good_file_) +
                   " failures=" + std::to_string(stats_.save_failures));
    }
    if (have_shared_ && next.transport == shared_.transport && next.source == shared_.source) return;
    if (next.source != route_source::store && (!have_shared_ || shared_.source == route_source::store))
        ++stats_.degraded;
    // One line per change: the route steering uses from now on, and where it comes from.
    const std::string name = next.source == route_source::unknown ? std::string("none")
                             : next.transport.empty()             ? std::string("designated")
                                                                  : next.transport;
    std::string line =
        "- egress_active family=" + family_ + " transport=" + name + " source=" + std::string(to_string(next.source));
    if (read.route) line += " reason=" + log::quote(read.route->reason);
    if (read.status == egress::read_status::unavailable) line += " store_error=" + log::quote(read.error);
    if (next.source == route_source::store) {
        log::notice(line);
    } else {
        line += " store_failures=" + std::to_string(stats_.store_failures) +
                " degraded_total=" + std::to_string(stats_.degraded);
        log::warning(line + (next.source == route_source::unknown ? " steered=temp" : ""));
    }
    shared_ = std::move(next);
    have_shared_ = true;
    version_.fetch_add(1, std::memory_order_release);
}

void egress_view::refresh_now() { poll(); }

egress_view_stats egress_view::stats() {
    std::lock_guard lock(mutex_);
    return stats_;
}

const egress_route& egress_view::route() {
    std::uint64_t v = version_.load(std::memory_order_acquire);
    if (v != seen_version_) {
        std::lock_guard lock(mutex_);
        local_ = shared_;
        seen_version_ = version_.load(std::memory_order_relaxed);
    }
    return local_;
}

}  // namespace relaygate::policy
