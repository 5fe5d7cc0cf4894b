// reverify_service.hpp: re-verification inside relaygate-watch, the one
// scheduler per host (docs/admin.md says why). Owns a registry snapshot kept
// current by a registry_reloader, a resolver, a domain_verifier and the
// reverify_scheduler thread; every pass's events (verification_events.hpp)
// become a log line, a metric and an alert-hook call. Built by main().
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "relaygate/dns/dns_resolver.hpp"
#include "relaygate/registry/expected.hpp"
#include "relaygate/registry/registry_loader.hpp"
#include "relaygate/verify/domain_verifier.hpp"
#include "relaygate/verify/reverify_scheduler.hpp"
#include "relaygate/watch/metrics.hpp"

namespace relaygate::watch {

struct reverify_settings {
    registry::registry_options registry;
    std::chrono::seconds tick{60};
    std::chrono::seconds pending_alert{86400};
};

class reverify_service {
public:
    using hook_fn = std::function<void(std::string json)>;  // the watch's alert hook queue
    // Loads the first snapshot (an error stops the watch at start) and starts the thread;
    // the first pass runs at once.
    static expected<std::unique_ptr<reverify_service>, std::string> start(reverify_settings settings, metrics& stats,
                                                                          hook_fn hook);
    ~reverify_service();  // stops the scheduler, then the reloader
    reverify_service(const reverify_service&) = delete;
    reverify_service& operator=(const reverify_service&) = delete;

    // SIGHUP: the reloader re-reads the admin and state files at once (on its thread); new
    // domains are verified at the next tick.
    void reload();

private:
    reverify_service(reverify_settings settings, metrics& stats, hook_fn hook,
                     std::shared_ptr<const registry::domain_registry> first);
    void on_pass(const registry::reverify_scheduler::pass_summary& pass,
                 const std::vector<registry::recorded_report>& recorded);

    reverify_settings settings_;
    metrics& stats_;
    hook_fn hook_;
    registry::registry_handle handle_;
    registry::registry_reloader reloader_;
    dns::resolver resolver_;
    registry::domain_verifier verifier_;
    registry::reverify_scheduler scheduler_;
};

void declare_reverify_metrics(metrics& m);

}  // namespace relaygate::watch
