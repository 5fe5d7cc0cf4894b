// reverify_service.cpp: see reverify_service.hpp. The scheduler's pass runs on
// its own thread; on_pass runs there too and only touches the thread-safe
// metrics and the hook queue.
#include "watch/reverify_service.hpp"

#include "relaygate/log/log.hpp"
#include "relaygate/registry/state_store.hpp"
#include "relaygate/verify/verification_events.hpp"
#include "relaygate/watch/verification_alert.hpp"

namespace relaygate::watch {

void declare_reverify_metrics(metrics& m) {
    m.declare("relaygate_watch_reverify_passes_total", "Re-verification passes (result=ok|state_not_written).", false);
    m.declare("relaygate_watch_reverify_checks_total", "Domain checks recorded by re-verification, by resulting state.",
              false);
    m.declare("relaygate_watch_reverify_temporary_total",
              "Domain checks that hit a temporary DNS failure (state kept).", false);
    m.declare("relaygate_watch_verification_events_total",
              "Verification events told to the alert hook (verified, grace_started, demoted, recovered, "
              "pending_overdue).",
              false);
}

expected<std::unique_ptr<reverify_service>, std::string> reverify_service::start(reverify_settings settings,
                                                                                 metrics& stats, hook_fn hook) {
    auto first = registry::load_snapshot(settings.registry);
    if (!first) return unexpected{first.error()};
    declare_reverify_metrics(stats);
    std::unique_ptr<reverify_service> s(new reverify_service(std::move(settings), stats, std::move(hook), *first));
    s->scheduler_.start(s->settings_.tick);
    log::notice("- reverify_start domains=" + std::to_string((*first)->size()) +
                " tick=" + std::to_string(s->settings_.tick.count()) +
                "s interval=" + std::to_string(s->settings_.registry.reverify_interval.count()) +
                "s grace_period=" + std::to_string(s->settings_.registry.grace_period.count()) + "s");
    return s;
}

reverify_service::reverify_service(reverify_settings settings, metrics& stats, hook_fn hook,
                                   std::shared_ptr<const registry::domain_registry> first)
    : settings_(std::move(settings)),
      stats_(stats),
      hook_(std::move(hook)),
      handle_(std::move(first)),
      reloader_(settings_.registry, handle_),
      resolver_(dns::resolver_options{.forwarders = settings_.registry.dns_forwarders,
                                      .timeout = settings_.registry.dns_timeout}),
      verifier_(resolver_, settings_.registry.all_outbound_ips(), settings_.registry.min_rsa_bits),
      scheduler_(settings_.registry, handle_, verifier_, registry::system_clock_seconds,
                 [this](const auto& pass, const auto& recorded) { on_pass(pass, recorded); }) {}

reverify_service::~reverify_service() { scheduler_.stop(); }

void reverify_service::reload() {
    // The reloader's own thread builds the snapshot: a large admin file never stalls the log loop.
    reloader_.request_reload();
    log::notice("- reverify_reload registry=requested");
}

void reverify_service::on_pass(const registry::reverify_scheduler::pass_summary& pass,
                               const std::vector<registry::recorded_report>& recorded) {
    stats_.add("relaygate_watch_reverify_passes_total", {{"result", pass.error.empty() ? "ok" : "state_not_written"}});
    for (const auto& r : recorded) {
        stats_.add("relaygate_watch_reverify_checks_total",
                   {{"state", std::string(registry::to_string(r.result.next.state))}});
        if (r.result.next.temporary_failure) stats_.add("relaygate_watch_reverify_temporary_total", {});
    }
    auto events = registry::select_events(recorded, settings_.registry.grace_period, settings_.pending_alert);
    for (auto& e : registry::select_rotation_events(recorded, settings_.registry.rotation_overlap)) {
        events.push_back(std::move(e));
    }
    if (events.empty()) return;
    const auto snapshot = handle_.current();
    for (const auto& e : events) {
        const bool bad = e.kind == registry::verification_event_kind::demoted;
        log::write(bad ? log::level::warning : log::level::notice, verification_log_line(e));
        stats_.add("relaygate_watch_verification_events_total", {{"event", std::string(to_string(e.kind))}});
        const auto* entry = snapshot->find(e.domain);
        if (hook_) hook_(verification_hook_json(e, entry ? entry->owner : std::string()));
    }
}

}  // namespace relaygate::watch
