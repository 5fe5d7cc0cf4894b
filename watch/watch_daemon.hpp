// watch_daemon.hpp: relaygate-watch's loop, wiring the cores together
// (docs/watch.md diagram): log_follower -> parse -> delivery_tracker ->
// alert_windows / failure_ledger / metrics; DNSBL sweeps; failover_machine ->
// egress_store + postsuper -r; alerts -> syslog + exec hook. Single-threaded
// except the sweep (std::async), the hook worker and the metrics
// server. main() builds the store and the DNS query function and calls run().
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "relaygate/egress/egress_state.hpp"
#include "relaygate/watch/alert_windows.hpp"
#include "relaygate/watch/delivery_tracker.hpp"
#include "relaygate/watch/dnsbl.hpp"
#include "relaygate/watch/failover_machine.hpp"
#include "relaygate/watch/metrics.hpp"
#include "relaygate/watch/watch_options.hpp"
#include "watch/failure_ledger.hpp"
#include "watch/log_follower.hpp"

namespace relaygate::watch {

using clock_fn = std::function<std::int64_t()>;  // unix seconds

class watch_daemon {
public:
    // query may be empty when no sweep is configured (no --dnsbl-ip).
    static expected<std::unique_ptr<watch_daemon>, std::string> create(watch_options options,
                                                                       egress::egress_store& store, async_query query,
                                                                       clock_fn clock);
    ~watch_daemon();

    // One round: read the log, evaluate windows/DNSBL/failover. Returns lines read.
    std::size_t tick();
    // Until stop is set (or the log's end with exit_at_eof): tick every poll interval.
    // on_reload runs in the loop when reload was set (SIGHUP); reload is cleared.
    void run(const std::atomic<bool>& stop, std::atomic<bool>& reload, const std::function<void()>& on_reload);
    // SIGHUP: re-applies the alert hook, its timeout and the alert thresholds.
    void apply_reload(const watch_options& fresh);
    metrics& stats() { return metrics_; }

private:
    watch_daemon(watch_options options, egress::egress_store& store, async_query query, clock_fn clock,
                 std::unique_ptr<failure_ledger> ledger, transport_map transports);
    void handle_line(std::string_view line, std::int64_t now);
    void count_decision(const maillog_record& r);
    // Label sets per decision metric are capped (the values come from a log
    // anyone on the host may write to): beyond it they count as "other".
    metrics::labels capped(const std::string& name, metrics::labels l);
    std::map<std::string, std::set<metrics::labels>> decision_series_;
    void on_alert(const alert& a);
    void evaluate_failover(std::int64_t now);
    void start_sweep_if_due(std::int64_t now);
    void collect_sweep();
    void requeue(const std::string& family);
    void run_hook(std::string json);
    void publish_active();

    watch_options options_;
    egress::egress_store& store_;
    async_query query_;
    clock_fn clock_;
    std::unique_ptr<failure_ledger> ledger_;
    transport_map transports_;
    log_follower follower_;
    delivery_tracker tracker_;
    alert_windows windows_;
    std::vector<failover_machine> machines_;
    std::vector<dnsbl_zone> zones_;
    metrics metrics_;
    std::map<std::string, ip_status> dnsbl_status_;  // by IP, from the last sweep
    std::future<std::vector<dnsbl_result>> sweep_;
    std::int64_t next_sweep_ = 0;
    // The alert hook runs on one worker thread, in order; at most
    // max_queued_hooks payloads wait (more are dropped, logged and counted).
    void hook_worker();
    std::mutex hook_mu_;
    std::condition_variable hook_cv_;
    std::deque<std::string> hook_queue_;
    bool hook_stop_ = false;
    std::thread hook_thread_;
};

}  // namespace relaygate::watch
