// alert_windows.hpp: sliding-window counters of delivery attempts and
// reputation replies per family x transport x sender domain, and the alert
// rule of docs/watch.md (reputation >= min AND reputation/attempts >= ratio,
// once per episode). Each key also feeds its family x transport aggregate
// (sender_domain "(all)"), which the failover machine reads. Pure, injected
// time (unix seconds); called by the watch daemon.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace relaygate::watch {

struct alert_options {
    std::int64_t window_seconds = 600;  // sliding window, split in 60 buckets
    std::uint64_t min_reputation = 10;  // reputation replies in the window
    double min_ratio = 0.2;             // reputation replies / attempts in the window
    std::size_t max_keys = 10000;       // further sender domains share the key "*"
};

struct alert_key {
    std::string family;
    std::string transport;
    std::string sender_domain;  // "(all)" for the aggregate of a family x transport
    auto operator<=>(const alert_key&) const =
        default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
};

struct alert {
    alert_key key;
    std::int64_t time = 0;
    std::uint64_t attempts = 0;
    std::uint64_t reputation = 0;
    std::string last_class;  // class of the reply that tipped it
};

inline constexpr std::string_view aggregate_domain = "(all)";

class alert_windows {
public:
    explicit alert_windows(alert_options options) : options_(options) {}

    // Counts one attempt; returns the alerts that start with it (0, 1 or 2:
    // the sender-domain key and the aggregate).
    std::vector<alert> add(const std::string& family, const std::string& transport, const std::string& sender_domain,
                           bool reputation, std::string_view cls, std::int64_t now);
    // Ends episodes that fell below the thresholds and forgets empty keys.
    // Returns the keys whose alert ended.
    std::vector<alert_key> tick(std::int64_t now);
    // Whether the aggregate of family x transport is over the thresholds now.
    bool over(const std::string& family, const std::string& transport, std::int64_t now);
    std::size_t keys() const { return windows_.size(); }
    const alert_options& options() const { return options_; }
    void set_options(alert_options options) { options_ = options; }

private:
    static constexpr std::size_t buckets = 60;
    struct window {
        std::array<std::uint64_t, buckets> attempts{};
        std::array<std::uint64_t, buckets> reputation{};
        std::int64_t head = 0;  // absolute bucket index of the newest bucket
        bool alerting = false;
    };
    std::int64_t bucket_of(std::int64_t now) const;
    void advance(window& w, std::int64_t now) const;
    bool over(const window& w, std::uint64_t& attempts, std::uint64_t& reputation) const;
    std::vector<alert> count(const alert_key& key, bool reputation, std::string_view cls, std::int64_t now);

    alert_options options_;
    std::map<alert_key, window> windows_;
};

}  // namespace relaygate::watch
