// watch_daemon.cpp: see watch_daemon.hpp. Log lines of this file are the
// decisions: alert, alert_end, dnsbl, hook, failure, state_write_failed; the
// failover half (flip, journal, requeue) is watch_daemon_failover.cpp.
#include "watch/watch_daemon.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>
#include <tuple>

#include "relaygate/log/log.hpp"
#include "watch/process_runner.hpp"

namespace relaygate::watch {
namespace {

using json = nlohmann::json;

std::string kv(std::string_view key, std::string_view value) {
    return " " + std::string(key) + "=" + log::quote(value);
}

constexpr std::size_t max_queued_hooks = 100;
constexpr std::size_t max_decision_series = 256;  // per decision metric
constexpr std::size_t max_pending_ledger_ops = 100'000;

}  // namespace

expected<std::unique_ptr<watch_daemon>, std::string> watch_daemon::create(watch_options options,
                                                                          egress::egress_store& store,
                                                                          async_query query, clock_fn clock) {
    std::error_code ec;
    std::filesystem::create_directories(options.state_dir, ec);
    if (ec) return unexpected{"state-dir " + options.state_dir + ": " + ec.message()};
    auto ledger = failure_ledger::open(options.state_dir + "/ledger.sqlite");
    if (!ledger) return unexpected{ledger.error()};
    transport_map transports;
    for (const auto& t : options.egress.transports) transports.add(t);
    return std::unique_ptr<watch_daemon>(new watch_daemon(std::move(options), store, std::move(query), std::move(clock),
                                                          std::move(*ledger), transports));
}

watch_daemon::watch_daemon(watch_options options, egress::egress_store& store, async_query query, clock_fn clock,
                           std::unique_ptr<failure_ledger> ledger, transport_map transports)
    : options_(std::move(options)),
      store_(store),
      query_(std::move(query)),
      clock_(std::move(clock)),
      ledger_(std::move(ledger)),
      transports_(transports),
      follower_(options_.maillog, options_.state_dir + "/maillog.position"),
      tracker_({.long_deferred_seconds = static_cast<double>(options_.long_deferred)}, std::move(transports)),
      windows_({.window_seconds = options_.alert_window,
                .min_reputation = options_.alert_min,
                .min_ratio = options_.alert_ratio}),
      outbox_(options_.state_dir + "/hook-outbox") {
    declare_watch_metrics(metrics_);
    if (const char* crash = std::getenv("RELAYGATE_WATCH_TEST_CRASH")) crash_at_ = crash;
    const std::int64_t now = clock_();
    for (const auto& f : options_.egress.families) {
        failover_machine m(f, options_.hold_down);
        const auto route = store_.active(m.spec().family);
        m.restore(route ? route->active_transport : std::string(), now);
        log::info("- failover family=" + m.spec().family + kv("active", m.active()) +
                  kv("designated", m.spec().designated) + kv("spare", m.spec().spare));
        machines_.push_back(std::move(m));
    }
    for (const auto& z : options_.dnsbl_zones) zones_.push_back(*dnsbl_zone::parse(z));
    if (zones_.empty()) zones_ = default_dnsbl_zones();
    publish_active();
}

watch_daemon::~watch_daemon() {
    // Queued hooks still run (each bounded by its timeout), then the worker ends.
    {
        std::lock_guard lock(hook_mu_);
        hook_stop_ = true;
    }
    hook_cv_.notify_all();
    if (hook_thread_.joinable()) hook_thread_.join();
    if (sweep_.valid()) sweep_.wait();
}

void watch_daemon::handle_line(std::string_view line, std::int64_t now) {
    metrics_.add("relaygate_watch_lines_total", {});
    const auto r = parse_maillog_line(line, now);
    if (!r) {
        metrics_.add("relaygate_watch_parse_errors_total", {{"reason", std::string(to_string(r.error()))}});
        return;
    }
    if (r->kind == line_kind::milter_decision || r->kind == line_kind::policy_decision ||
        r->kind == line_kind::policy_steering) {
        count_decision(*r);
    }
    auto o = tracker_.observe(*r);
    if (o.event) {
        const auto& e = *o.event;
        const std::string status(to_string(e.status)), cls(to_string(e.cls));
        metrics_.add("relaygate_watch_deliveries_total",
                     {{"family", e.family}, {"transport", e.transport}, {"status", status}});
        metrics_.add("relaygate_watch_replies_total",
                     {{"family", e.family}, {"transport", e.transport}, {"class", cls}});
        for (const auto& a : windows_.add(e.family, e.transport, e.sender_domain, is_reputation(e.cls), cls, now)) {
            on_alert(a);
        }
    }
    // Written by commit_ledger() at the end of the batch; kept until a commit succeeds.
    for (auto& f : o.failures) pending_ledger_.push_back({false, std::move(f)});
    if (o.delivered) pending_ledger_.push_back({true, std::move(*o.delivered)});
}

bool watch_daemon::commit_ledger() {
    if (pending_ledger_.empty()) return true;
    bool ok = ledger_->begin();
    for (const auto& op : pending_ledger_) {
        if (!ok) break;
        ok = op.close ? ledger_->close(op.record) : ledger_->record(op.record);
    }
    ok = ok && ledger_->commit();
    if (!ok) {
        ledger_->rollback();  // the same rows go into the next batch; the position waits
        note_state_write("ledger", false, "pending_rows=" + std::to_string(pending_ledger_.size()));
        return false;
    }
    note_state_write("ledger", true, "");
    for (const auto& op : pending_ledger_) {
        if (op.close) continue;
        const auto& f = op.record;
        metrics_.add("relaygate_watch_ledger_rows_total", {{"family", f.family}, {"status", f.status}});
        log::info(f.queue_id + " failure" + kv("status", f.status) + kv("to", f.recipient) + kv("family", f.family) +
                  kv("transport", f.transport) + kv("class", f.cls) + kv("dsn", f.dsn));
    }
    pending_ledger_.clear();
    return true;
}

void watch_daemon::note_state_write(const std::string& what, bool ok, const std::string& detail) {
    const bool was_failing = state_failing_.count(what) > 0;
    if (ok) {
        if (was_failing) log::notice("- state_write_recovered file=" + what);
        state_failing_.erase(what);
        return;
    }
    metrics_.add("relaygate_watch_state_write_failures_total", {{"file", what}});
    if (!was_failing) {
        log::error("- state_write_failed file=" + what + kv("state_dir", options_.state_dir) + kv("detail", detail));
    }
    state_failing_.insert(what);
}

metrics::labels watch_daemon::capped(const std::string& name, metrics::labels l) {
    auto& seen = decision_series_[name];
    if (seen.count(l)) return l;
    if (seen.size() < max_decision_series) {
        seen.insert(l);
        return l;
    }
    for (auto& kv : l) kv.second = "other";
    return l;
}

void watch_daemon::count_decision(const maillog_record& r) {
    if (r.kind == line_kind::milter_decision) {
        const std::string name = "relaygate_milter_decisions_total";
        metrics_.add(name, capped(name, {{"action", std::string(r.action)}, {"reason", std::string(r.reason)}}));
    } else if (r.kind == line_kind::policy_decision) {
        const std::string name = "relaygate_policy_decisions_total";
        metrics_.add(name, capped(name, {{"action", std::string(r.action)}}));
    } else {
        const std::string name = "relaygate_policy_steering_total";
        // status= and transport= of the line (the codec derives them from reply= on older lines).
        metrics_.add(name, capped(name, {{"reply", std::string(log::to_string(r.decision.status))},
                                         {"transport", std::string(r.decision.transport)},
                                         {"reason", std::string(r.reason)}}));
    }
}

void watch_daemon::on_alert(const alert& a) {
    const double ratio = a.attempts ? static_cast<double>(a.reputation) / static_cast<double>(a.attempts) : 0;
    metrics_.add("relaygate_watch_alerts_total",
                 {{"family", a.key.family}, {"transport", a.key.transport}, {"sender_domain", a.key.sender_domain}});
    log::warning("- alert family=" + a.key.family + kv("transport", a.key.transport) +
                 kv("sender_domain", a.key.sender_domain) + " reputation=" + std::to_string(a.reputation) +
                 " attempts=" + std::to_string(a.attempts) + kv("class", a.last_class));
    run_hook(json{{"type", "alert"},
                  {"time", a.time},
                  {"family", a.key.family},
                  {"transport", a.key.transport},
                  {"sender_domain", a.key.sender_domain},
                  {"attempts", a.attempts},
                  {"reputation", a.reputation},
                  {"ratio", ratio},
                  {"class", a.last_class},
                  {"window_seconds", options_.alert_window}}
                 .dump());
}

void watch_daemon::run_hook(std::string payload) {
    {
        std::lock_guard lock(hook_mu_);  // also called from the re-verification thread
        if (options_.alert_hook.empty()) return;
    }
    // Persisted first (at-least-once across a crash); a failure to persist still calls the hook.
    auto name = outbox_.add(payload);
    if (!name) log::error("- hook_outbox_failed" + kv("error", name.error()));
    queue_hook(name ? *name : std::string(), std::move(payload), false);
}

void watch_daemon::queue_hook(std::string name, std::string payload, bool startup) {
    {
        std::lock_guard lock(hook_mu_);
        if (!startup && hook_queue_.size() >= max_queued_hooks) {
            // Persisted payloads stay in the outbox and are sent at the next start.
            log::warning("- hook skipped=queue_full queued=" + std::to_string(hook_queue_.size()) +
                         (name.empty() ? "" : " kept=outbox"));
            metrics_.add("relaygate_watch_hook_runs_total", {{"result", "skipped"}});
            return;
        }
        hook_queue_.emplace_back(std::move(name), std::move(payload));
        if (!hook_thread_.joinable()) hook_thread_ = std::thread([this] { hook_worker(); });
    }
    hook_cv_.notify_one();
}

void watch_daemon::hook_worker() {
    for (;;) {
        std::string name, payload, cmd;
        std::chrono::milliseconds timeout{0};
        {
            std::unique_lock lock(hook_mu_);
            hook_cv_.wait(lock, [&] { return hook_stop_ || !hook_queue_.empty(); });
            if (hook_queue_.empty()) return;
            std::tie(name, payload) = std::move(hook_queue_.front());
            hook_queue_.pop_front();
            cmd = options_.alert_hook;  // a reload may change it: read under the lock
            timeout = std::chrono::milliseconds(options_.alert_hook_timeout_ms);
        }
        const auto r = run_process({"/bin/sh", "-c", cmd}, payload + "\n", timeout);
        const std::string result = !r.started         ? "not_started"
                                   : r.timed_out      ? "timeout"
                                   : r.exit_code == 0 ? "ok"
                                                      : "failed";
        metrics_.add("relaygate_watch_hook_runs_total", {{"result", result}});
        // Only a hook that exited 0 empties its outbox file; a failed one is sent again at the next start.
        if (result == "ok" && !name.empty()) {
            if (auto gone = outbox_.remove(name); !gone) log::error("- hook_outbox_failed" + kv("error", gone.error()));
        }
        log::write(result == "ok" ? log::level::info : log::level::warning,
                   "- hook result=" + result + " exit=" + std::to_string(r.exit_code));
    }
}

void watch_daemon::start_sweep_if_due(std::int64_t now) {
    if (!query_ || options_.dnsbl_ips.empty() || options_.dnsbl_interval <= 0 || sweep_.valid() || now < next_sweep_) {
        return;
    }
    next_sweep_ = now + options_.dnsbl_interval;
    sweep_ = std::async(std::launch::async, [ips = options_.dnsbl_ips, zones = zones_, q = query_,
                                             deadline = std::chrono::milliseconds(options_.dnsbl_timeout_ms)] {
        return dnsbl_sweep(ips, zones, q, deadline);
    });
}

void watch_daemon::collect_sweep() {
    if (!sweep_.valid() || sweep_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return;
    const auto results = sweep_.get();
    metrics_.clear("relaygate_watch_ip_listed");
    for (const auto& r : results) {
        const double v = r.verdict == dnsbl_verdict::listed ? 1 : r.verdict == dnsbl_verdict::clean ? 0 : -1;
        metrics_.set("relaygate_watch_ip_listed", {{"ip", r.ip}, {"zone", r.zone}}, v);
    }
    for (const auto& ip : options_.dnsbl_ips) {
        const auto s = combine(results, ip);
        const auto old = dnsbl_status_.find(ip);
        if (old == dnsbl_status_.end() || old->second.verdict != s.verdict || s.verdict != dnsbl_verdict::clean) {
            log::write(s.verdict == dnsbl_verdict::listed ? log::level::warning : log::level::info,
                       "- dnsbl ip=" + ip + kv("verdict", to_string(s.verdict)) + kv("detail", s.detail));
        }
        dnsbl_status_[ip] = s;
    }
    metrics_.add("relaygate_watch_dnsbl_sweeps_total", {});
}

void watch_daemon::publish_active() {
    for (const auto& m : machines_) {
        const auto& s = m.spec();
        metrics_.set("relaygate_watch_active_transport", {{"family", s.family}, {"transport", s.designated}},
                     m.on_spare() ? 0 : 1);
        metrics_.set("relaygate_watch_active_transport", {{"family", s.family}, {"transport", s.spare}},
                     m.on_spare() ? 1 : 0);
    }
}

std::size_t watch_daemon::tick() {
    const std::int64_t now = clock_();
    if (!replayed_) replay_intents(now);
    const auto overlong_before = follower_.overlong_lines();
    const std::size_t lines = follower_.poll([&](std::string_view l) { handle_line(l, now); });
    if (pending_ledger_.size() > max_pending_ledger_ops) {
        // The ledger has failed for long: keep memory bounded. The position still
        // waits, so a restart reads these lines (and writes their rows) again.
        metrics_.add("relaygate_watch_state_write_failures_total", {{"file", "ledger_dropped"}},
                     static_cast<double>(pending_ledger_.size()));
        log::error("- ledger_rows_dropped rows=" + std::to_string(pending_ledger_.size()) + " kept=position");
        pending_ledger_.clear();
        ledger_blocked_ = true;
    }
    // The position moves only past lines whose ledger rows are committed.
    const bool committed = commit_ledger() && !ledger_blocked_;
    if (lines > 0) position_dirty_ = true;
    if (position_dirty_ && committed) {
        const bool saved = follower_.save_position();
        note_state_write("maillog.position", saved, "write or fsync failed");
        position_dirty_ = !saved;
    }
    if (const auto n = follower_.overlong_lines() - overlong_before; n > 0) {
        metrics_.add("relaygate_watch_parse_errors_total", {{"reason", "line_too_long"}}, static_cast<double>(n));
    }
    for (const auto& k : windows_.tick(now)) {
        log::info("- alert_end family=" + k.family + kv("transport", k.transport) +
                  kv("sender_domain", k.sender_domain));
    }
    collect_sweep();
    start_sweep_if_due(now);
    evaluate_failover(now);
    return lines;
}

void watch_daemon::apply_reload(const watch_options& fresh) {
    {
        std::lock_guard lock(hook_mu_);
        options_.alert_hook = fresh.alert_hook;
        options_.alert_hook_timeout_ms = fresh.alert_hook_timeout_ms;
    }
    options_.alert_min = fresh.alert_min;
    options_.alert_ratio = fresh.alert_ratio;
    auto a = windows_.options();
    a.min_reputation = fresh.alert_min;
    a.min_ratio = fresh.alert_ratio;
    windows_.set_options(a);
    log::notice("- reload applied=alert-hook,alert-hook-timeout-ms,alert-min,alert-ratio");
}

void watch_daemon::run(const std::atomic<bool>& stop, std::atomic<bool>& reload,
                       const std::function<void()>& on_reload) {
    while (!stop) {
        if (reload.exchange(false) && on_reload) on_reload();
        const std::size_t lines = tick();
        if (options_.exit_at_eof && lines == 0) {
            if (sweep_.valid()) sweep_.wait();
            tick();
            return;
        }
        if (lines == 0) std::this_thread::sleep_for(std::chrono::milliseconds(options_.poll_interval_ms));
    }
}

}  // namespace relaygate::watch
