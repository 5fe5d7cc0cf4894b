// watch_daemon.hpp: relaygate-watch's loop, wiring the cores together
// (docs/watch.md diagram): log_follower -> parse -> delivery_tracker ->
// alert_windows / failure_ledger / metrics; DNSBL sweeps; failover_machine ->
// egress_store + postsuper -r; alerts -> syslog + exec hook. Single-threaded
// except the sweep (std::async), the hook worker and the metrics
// server. main() builds the store and the DNS query function and calls run().
// Crash consistency (docs/watch.md): a flip is journaled (flip_intent) before
// the store is written and replayed after a restart; hook payloads go through
// a durable outbox; the log position advances only after the ledger commits.
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
#include "relaygate/watch/flip_intent.hpp"
#include "relaygate/watch/metrics.hpp"
#include "relaygate/watch/watch_options.hpp"
#include "watch/failure_ledger.hpp"
#include "watch/hook_outbox.hpp"
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
    // Queues payload for the alert hook (thread-safe; also the re-verification events' path).
    void run_hook(std::string payload);

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
    void requeue(const std::string& family, const std::vector<std::string>& ids);
    void publish_active();
    // Flip journal (STATE_DIR/flip.intent): saved before the store is written,
    // finished (hook into the outbox, requeue) and removed after.
    bool save_intents();
    void finish_intent(const flip_intent& in);
    void replay_intents(std::int64_t now);
    // Writes the route; a corrupt egress file is rewritten from the machines' state.
    bool set_route(const egress::family_route& route);
    bool rewrite_egress_file(const egress::family_route& route);
    void note_flip_failure(const std::string& family, const std::string& what);
    // A failure of one of the watch's own files or of the ledger: logged at error
    // when it starts and at notice when it ends (not every tick), always counted.
    void note_state_write(const std::string& what, bool ok, const std::string& detail);
    bool commit_ledger();
    void queue_hook(std::string name, std::string payload, bool startup);
    // Test-only crash points (RELAYGATE_WATCH_TEST_CRASH=after_flip): SIGKILL to self.
    void crash_point(std::string_view where) const;

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
    std::deque<std::pair<std::string, std::string>> hook_queue_;  // {outbox file ("" = not persisted), payload}
    hook_outbox outbox_;
    std::vector<flip_intent> intents_;  // journaled, not yet finished
    bool replayed_ = false;             // the journal and the outbox of an earlier run were picked up
    struct ledger_op {
        bool close = false;  // a delivery closing rows; else a failure row
        failure_record record;
    };
    std::vector<ledger_op> pending_ledger_;  // not yet committed: the position waits for them
    bool position_dirty_ = false;
    bool ledger_blocked_ = false;  // rows were dropped: the position stays until a restart re-reads them
    std::map<std::string, std::string> flip_failing_;  // family -> what failed (logged once)
    std::set<std::string> state_failing_;              // which of the watch's own writes are failing
    std::string crash_at_;                             // RELAYGATE_WATCH_TEST_CRASH (tests only)
    bool hook_stop_ = false;
    std::thread hook_thread_;
};

}  // namespace relaygate::watch
