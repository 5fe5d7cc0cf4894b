// watch_daemon_failover.cpp: the failover half of watch_daemon (see
// watch_daemon.hpp), apart from the log loop because it is the crash-consistent
// part: a flip is journaled in STATE_DIR/flip.intent (family, target, queue ids
// to requeue, the hook payload) before the egress store is written; then the
// payload goes into the hook outbox, postsuper -r runs, and the journal entry
// is removed. A restart replays what the journal still holds (docs/watch.md
// "Crash consistency"). Log lines: flip, flip_failed, flip_recovered,
// flip_replayed, egress_rewritten, requeue.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "relaygate/log/log.hpp"
#include "watch/durable_file.hpp"
#include "watch/process_runner.hpp"
#include "watch/watch_daemon.hpp"

namespace relaygate::watch {
namespace {

std::string kv(std::string_view key, std::string_view value) {
    return " " + std::string(key) + "=" + log::quote(value);
}

}  // namespace

void watch_daemon::crash_point(std::string_view where) const {
    if (crash_at_ == where) {
        log::warning("- test_crash at=" + std::string(where));
        ::raise(SIGKILL);
    }
}

bool watch_daemon::save_intents() {
    const std::string path = options_.state_dir + "/flip.intent";
    auto ok = intents_.empty() ? remove_durable(path) : write_durable(path, encode_flip_intents(intents_));
    note_state_write("flip.intent", ok.has_value(), ok ? "" : ok.error());
    return ok.has_value();
}

void watch_daemon::evaluate_failover(std::int64_t now) {
    for (auto& m : machines_) {
        const auto& spec = m.spec();
        failover_inputs in;
        const bool swept = query_ && options_.dnsbl_interval > 0 &&
                           std::find(options_.dnsbl_ips.begin(), options_.dnsbl_ips.end(), spec.designated_ip) !=
                               options_.dnsbl_ips.end();
        if (swept) {
            const auto it = dnsbl_status_.find(spec.designated_ip);
            in.dnsbl = it == dnsbl_status_.end() ? dnsbl_verdict::unknown : it->second.verdict;
            if (it != dnsbl_status_.end()) in.dnsbl_detail = it->second.detail;
        } else {
            in.dnsbl = dnsbl_verdict::clean;  // not checked on DNSBLs: only the replies decide
        }
        in.reputation_alert = windows_.over(spec.family, spec.designated, now);
        in.reputation_detail = "transport=" + spec.designated;
        const auto f = m.step(in, now);
        if (!f) continue;
        flip_intent intent{.family = f->family, .from = f->from, .to = f->to, .reason = f->reason, .time = now};
        if (f->to == spec.spare && options_.requeue) intent.queue_ids = tracker_.deferred_queue_ids(f->family);
        intent.hook_payload = nlohmann::json{{"type", "flip"},  {"time", now}, {"family", f->family},
                                             {"from", f->from}, {"to", f->to}, {"reason", f->reason}}
                                  .dump();
        // Journal first. When it cannot be written (state dir read-only, full) the
        // flip still happens: mail must not keep leaving a listed IP for want of a file.
        intents_.push_back(intent);
        save_intents();
        if (!set_route({f->family, f->to, f->reason, now})) {
            intents_.pop_back();
            save_intents();
            continue;
        }
        m.applied(*f, now);
        metrics_.add("relaygate_watch_flips_total", {{"family", f->family}, {"to", f->to}});
        log::warning("- flip family=" + f->family + kv("from", f->from) + kv("to", f->to) + kv("reason", f->reason));
        publish_active();
        crash_point("after_flip");
        finish_intent(intent);
    }
}

// The flip is in the store: tell the hook (through the outbox), requeue, forget the intent.
void watch_daemon::finish_intent(const flip_intent& in) {
    run_hook(in.hook_payload);
    const auto* m = options_.egress.family(in.family);
    if (m != nullptr && in.to == m->spare && options_.requeue) requeue(in.family, in.queue_ids);
    std::erase_if(intents_, [&](const flip_intent& x) { return x.family == in.family && x.time == in.time; });
    save_intents();
}

void watch_daemon::replay_intents(std::int64_t now) {
    replayed_ = true;
    std::vector<std::string> errors;
    for (auto& [name, payload] : outbox_.pending(errors)) {
        log::notice("- hook_replayed" + kv("file", name));
        queue_hook(std::move(name), std::move(payload), true);
    }
    for (const auto& e : errors) log::error("- hook_outbox_failed" + kv("error", e));
    const std::string path = options_.state_dir + "/flip.intent";
    auto text = read_small_file(path, max_intent_bytes);
    if (!text) {
        note_state_write("flip.intent", false, text.error());
        return;
    }
    if (!*text) return;
    auto intents = decode_flip_intents(**text);
    if (!intents) {
        // Kept for a look; a half-finished flip is then finished by the machines' next step.
        const std::string aside = path + ".corrupt";
        std::filesystem::rename(path, aside);
        log::error("- flip_intent_unreadable" + kv("file", aside) + kv("error", intents.error()));
        metrics_.add("relaygate_watch_state_write_failures_total", {{"file", "flip.intent"}});
        return;
    }
    intents_ = *intents;
    for (const auto& in : *intents) {
        auto m = std::find_if(machines_.begin(), machines_.end(),
                              [&](const failover_machine& x) { return x.spec().family == in.family; });
        if (m == machines_.end() || (in.to != m->spec().spare && in.to != m->spec().designated)) {
            log::warning("- flip_replayed family=" + in.family + kv("to", in.to) + " skipped=not_configured");
            std::erase_if(intents_, [&](const flip_intent& x) { return x.family == in.family && x.time == in.time; });
            continue;
        }
        // The crash may have come before the store was written: finish the flip itself.
        const auto route = store_.active(in.family);
        if ((!route || route->active_transport != in.to) && !set_route({in.family, in.to, in.reason, in.time})) {
            continue;  // stays journaled; the next start tries again
        }
        m->restore(in.to, now);
        metrics_.add("relaygate_watch_flip_replays_total", {{"family", in.family}});
        log::warning("- flip_replayed family=" + in.family + kv("to", in.to) + kv("reason", in.reason) +
                     " queue_ids=" + std::to_string(in.queue_ids.size()));
        finish_intent(in);
    }
    save_intents();
    publish_active();
}

bool watch_daemon::set_route(const egress::family_route& route) {
    if (store_.set_active(route)) {
        note_flip_failure(route.family, "");
        return true;
    }
    // The file back end refuses to write over a file it cannot parse: rewrite it
    // whole from what the watch knows (it is the one writer of the routes).
    if (!options_.egress.redis && rewrite_egress_file(route)) {
        note_flip_failure(route.family, "");
        return true;
    }
    note_flip_failure(route.family, options_.egress.redis ? "redis_write" : "egress_file_write");
    return false;
}

// Builds the routes of every family in a fresh file beside the egress file,
// keeps the unreadable one as <file>.corrupt, and renames the fresh one over it.
bool watch_daemon::rewrite_egress_file(const egress::family_route& route) {
    const std::string& path = options_.egress.state_file;
    const int lock_fd = ::open((path + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd < 0 || ::flock(lock_fd, LOCK_EX) != 0) {
        if (lock_fd >= 0) ::close(lock_fd);
        return false;
    }
    const std::string fresh = path + ".rebuild." + std::to_string(::getpid());
    ::unlink(fresh.c_str());
    bool ok = true;
    {
        auto store = egress::make_file_egress_store(fresh);
        for (const auto& m : machines_) {
            const auto& family = m.spec().family;
            egress::family_route r =
                family == route.family
                    ? route
                    : egress::family_route{family, m.active(), "rewritten_unreadable_file", route.since};
            ok = ok && store->set_active(r);
        }
    }
    std::error_code ec;
    if (ok) std::filesystem::copy_file(path, path + ".corrupt", std::filesystem::copy_options::overwrite_existing, ec);
    ok = ok && std::rename(fresh.c_str(), path.c_str()) == 0;
    if (!ok) ::unlink(fresh.c_str());
    ::unlink((fresh + ".lock").c_str());  // the fresh store's own lock file
    ::flock(lock_fd, LOCK_UN);
    ::close(lock_fd);
    if (ok) {
        metrics_.add("relaygate_watch_egress_rewrites_total", {});
        log::error("- egress_rewritten" + kv("path", path) + kv("kept", path + ".corrupt") +
                   " families=" + std::to_string(machines_.size()));
    }
    return ok;
}

void watch_daemon::note_flip_failure(const std::string& family, const std::string& what) {
    const auto it = flip_failing_.find(family);
    if (what.empty()) {
        if (it != flip_failing_.end()) {
            log::notice("- flip_recovered family=" + family + kv("was", it->second));
            flip_failing_.erase(it);
        }
        return;
    }
    metrics_.add("relaygate_watch_flip_failures_total", {{"family", family}, {"reason", what}});
    if (it == flip_failing_.end() || it->second != what) {
        // Once per change of state, at error: the alert rules watch the counter.
        log::error("- flip_failed family=" + family + kv("reason", what) + " retry=each_tick");
        flip_failing_[family] = what;
    }
}

void watch_daemon::requeue(const std::string& family, const std::vector<std::string>& ids) {
    if (ids.empty()) {
        log::info("- requeue family=" + family + " queue_ids=0");
        return;
    }
    std::string input;
    for (const auto& id : ids) input += id + "\n";
    // Only the deferred queue: a message qmgr has moved to the active queue in
    // the meantime is in delivery (requeueing it would deliver it twice); it
    // comes back deferred or leaves through the spare at its next attempt.
    const auto r = run_process({options_.postsuper, "-c", options_.postfix_config_dir, "-r", "-", "deferred"}, input,
                               std::chrono::seconds(60), true);
    std::string out = r.output.substr(0, 200);
    std::replace(out.begin(), out.end(), '\n', ' ');
    log::write(r.exit_code == 0 ? log::level::notice : log::level::error,
               "- requeue family=" + family + " queue_ids=" + std::to_string(ids.size()) +
                   " exit=" + std::to_string(r.exit_code) + kv("output", out));
    if (r.exit_code == 0) {
        // postsuper -r leaves them in maildrop, which pickup scans only every 60 s:
        // wake it up as sendmail does after a submission.
        const auto kick = run_process({options_.postkick, "-c", options_.postfix_config_dir, "public", "pickup", "W"},
                                      "", std::chrono::seconds(10), true);
        if (kick.exit_code != 0) log::warning("- postkick_failed exit=" + std::to_string(kick.exit_code));
        tracker_.requeued(ids);
        metrics_.add("relaygate_watch_requeued_total", {{"family", family}}, static_cast<double>(ids.size()));
    }
}

}  // namespace relaygate::watch
