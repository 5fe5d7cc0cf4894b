// policy_service.hpp: relaygate-policy's request_handler: glues the pure cores
// (volume_policy, transport_steering, mx_cache) to their state (counters,
// egress view, registry snapshot, the current config) and to asynchronous MX
// lookups. Lives on the server's loop thread; MX answers come back through
// policy_server::post(). The socketmap answer is decided in policy_core
// (socketmap_lookup, then mx_wait_queue and reply_for_verdict when the MX is
// not cached); this class only starts lookups, completes replies and logs.
// One log line per decision, queue id first.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "policy/egress_view.hpp"
#include "policy/policy_server.hpp"
#include "relaygate/dns/dns_resolver.hpp"
#include "relaygate/log/log.hpp"
#include "relaygate/policy/counter_store.hpp"
#include "relaygate/policy/domain_list.hpp"
#include "relaygate/policy/mx_cache.hpp"
#include "relaygate/policy/mx_wait_queue.hpp"
#include "relaygate/policy/transport_steering.hpp"
#include "relaygate/policy/volume_policy.hpp"
#include "relaygate/registry/domain_registry.hpp"
#include "relaygate/registry/expected.hpp"

namespace relaygate::policy {

// Everything a SIGHUP may replace, built and validated whole before it is used.
struct service_config {
    steering_config steering;
    volume_config volume;
    domain_list microsoft_domains;
    bool filter_mode = false;        // FILTER steering at RCPT (one-recipient-per-message deployments only)
    std::int64_t mx_wait_ms = 3000;  // then TEMP; the lookup goes on and fills the cache
    std::size_t max_mx_in_flight = 10000;
    mx_ttl_policy mx_ttl;
};

// Starts an MX lookup; cb may run on any thread, exactly once.
using mx_lookup_fn = std::function<void(std::string domain, std::function<void(dns::answer)> cb)>;
using config_loader = std::function<expected<std::shared_ptr<const service_config>, std::string>()>;

struct service_stats {
    std::uint64_t steered = 0, not_steered = 0, temp = 0, mx_lookups = 0, mx_timeouts = 0;
    std::uint64_t dunno = 0, deferred = 0, fail_open = 0, filtered = 0, reloads = 0, reload_failures = 0;
    std::uint64_t steered_last_good = 0;  // steered from the last known route (egress store failed or forgot)
    std::uint64_t steered_temp = 0;       // steering turned into TEMP: store failed, no route ever known
    std::uint64_t mx_refused = 0;         // TEMP at once: max_mx_in_flight lookups were in flight
};

class policy_service final : public request_handler {
public:
    policy_service(std::shared_ptr<const service_config> cfg, std::unique_ptr<counter_store> counters,
                   std::unique_ptr<egress_view> egress, mx_lookup_fn mx_lookup,
                   const registry::registry_handle* registry, std::size_t mx_cache_size = 100000);
    void attach(policy_server& server) { server_ = &server; }
    void set_config_loader(config_loader loader) { loader_ = std::move(loader); }
    // The logger's configured minimum: decision lines below it are not even built.
    void set_min_log_level(log::level lvl) { min_log_level_ = lvl; }
    void set_mx_lookup(mx_lookup_fn fn) { mx_lookup_ = std::move(fn); }
    void set_reload_hook(std::function<void()> hook) { reload_hook_ = std::move(hook); }

    std::string on_policy(const policy_request& req) override;
    std::optional<socketmap_reply> on_socketmap(std::string_view payload, reply_token token) override;
    void on_tick(std::int64_t now_ms) override;
    bool has_deadlines() const override { return waits_.has_deadlines(); }
    void on_reload() override;

    const service_stats& stats() const { return stats_; }
    const mx_cache& cache() const { return cache_; }

private:
    std::string_view active_transport() {
        return egress_ ? std::string_view(egress_->route().transport) : std::string_view();
    }
    route_source route_now() { return egress_ ? egress_->route().source : route_source::store; }
    // Applies the egress route's source to a reply (TEMP when unknown) and counts it.
    socketmap_reply guarded(socketmap_reply reply, std::string& reason);
    void note_fail_open(bool failing);
    void summarise(std::int64_t now_ms);
    void on_mx_answer(const std::string& domain, const dns::answer& a);
    void log_lookup(std::string_view key, std::string_view domain, const socketmap_reply& reply,
                    std::string_view reason);
    socketmap_reply temp_now(std::string_view key, const std::string& domain, std::string_view reason);
    std::string filter_action(const policy_request& req);

    std::shared_ptr<const service_config> cfg_;
    std::unique_ptr<counter_store> counters_;
    std::unique_ptr<egress_view> egress_;
    mx_lookup_fn mx_lookup_;
    const registry::registry_handle* registry_;
    mx_cache cache_;
    policy_server* server_ = nullptr;
    config_loader loader_;
    std::function<void()> reload_hook_;
    mx_wait_queue waits_{steady_now_ms};  // socketmap replies waiting for an MX answer
    service_stats stats_;
    log::level min_log_level_ = log::level::debug;
    bool failing_open_ = false;          // the last counter call failed (one warning per change, not per request)
    std::uint64_t fail_open_since_ = 0;  // requests answered fail-open in the current outage
    bool mx_full_ = false;               // the in-flight cap is being hit (one line per change)
    std::int64_t next_summary_ms_ = 0;   // the periodic mx_summary line (only when lookups were started)
    std::uint64_t summary_lookups_ = 0;  // stats_.mx_lookups at the last summary
};

}  // namespace relaygate::policy
