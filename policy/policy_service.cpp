// policy_service.cpp: see policy_service.hpp. Log levels: NOTFOUND / DUNNO at
// debug (they are the bulk), steering at info, TEMP and deferrals at notice,
// fail-open at warning.
#include "policy/policy_service.hpp"

#include <chrono>

#include "relaygate/log/decision_line.hpp"
#include "relaygate/log/log.hpp"

namespace relaygate::policy {
namespace {

std::int64_t wall_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The reply's status in the decision-line codec's vocabulary (which also reads TIMEOUT and unknown words).
log::socketmap_status log_status(socketmap_status s) {
    switch (s) {
        case socketmap_status::ok:
            return log::socketmap_status::ok;
        case socketmap_status::notfound:
            return log::socketmap_status::notfound;
        case socketmap_status::temp:
            return log::socketmap_status::temp;
        case socketmap_status::perm:
            return log::socketmap_status::perm;
    }
    return log::socketmap_status::other;
}

}  // namespace

policy_service::policy_service(std::shared_ptr<const service_config> cfg, std::unique_ptr<counter_store> counters,
                               std::unique_ptr<egress_view> egress, mx_lookup_fn mx_lookup,
                               const registry::registry_handle* registry, std::size_t mx_cache_size)
    : cfg_(std::move(cfg)),
      counters_(std::move(counters)),
      egress_(std::move(egress)),
      mx_lookup_(std::move(mx_lookup)),
      registry_(registry),
      cache_(mx_cache_size) {}

std::string policy_service::filter_action(const policy_request& req) {
    // FILTER is message-wide (postfix-tech.md §1): only for one-recipient-per-message senders.
    std::string domain = address_domain(req.recipient);
    if (domain.empty()) return {};
    bool family = cfg_->microsoft_domains.matches(domain);
    if (!family && cfg_->steering.mx_detection)
        family = cache_.get(domain, steady_now_ms()) == mx_verdict::microsoft;  // cache only: never wait here
    if (!family) return {};
    if (route_now() == route_source::unknown) return {};  // no route known: the socketmap answers TEMP
    std::string t(choose_transport(cfg_->steering, active_transport()));
    return t + ":" + cfg_->steering.nexthop;
}

std::string policy_service::on_policy(const policy_request& req) {
    std::shared_ptr<const registry::domain_registry> snapshot;
    if (registry_ != nullptr && !cfg_->volume.size_caps.empty()) snapshot = registry_->current();  // only caps use it
    policy_decision d = decide_volume(req, cfg_->volume, *counters_, snapshot.get(), wall_now_ms());
    if (d.what == verdict::dunno && cfg_->filter_mode && req.protocol_state == "RCPT") {
        std::string target = filter_action(req);
        if (!target.empty()) {
            d.what = verdict::filter;
            d.text = std::move(target);
        }
    }
    std::string reply = format_action(d);
    log::level lvl = log::level::debug;
    switch (d.what) {
        case verdict::dunno:
            ++stats_.dunno;
            break;
        case verdict::filter:
            ++stats_.filtered;
            lvl = log::level::info;
            break;
        case verdict::defer_rate:
        case verdict::defer_size:
            ++stats_.deferred;
            lvl = log::level::notice;
            break;
        case verdict::fail_open:
            ++stats_.fail_open;
            // One warning per outage (the first request), the rest at debug; the Redis
            // client logs the breaker's changes, fail_open_ended closes the outage.
            lvl = failing_open_ ? log::level::debug : log::level::warning;
            break;
    }
    note_fail_open(d.what == verdict::fail_open);
    if (lvl < min_log_level_) return reply;  // the logger would drop it: do not build it (hot path)
    static constexpr log::policy_action actions[] = {log::policy_action::dunno, log::policy_action::defer_rate,
                                                     log::policy_action::defer_size, log::policy_action::fail_open,
                                                     log::policy_action::filter};
    const std::string line = log::write_policy_line(
        {.queue_id = req.queue_id,
         .action = actions[static_cast<int>(d.what)],
         .state = req.protocol_state,
         .sender = req.sender,
         .recipient = req.recipient,
         .client = req.client_address,
         .sasl = req.sasl_username,
         .detail = d.detail,
         .filter = d.text,
         .failures =
             d.what == verdict::fail_open ? std::optional<std::uint64_t>(counters_->failures()) : std::nullopt});
    log::write(lvl, line);
    return reply;
}

// Every 10 s in which MX lookups were started: the bounded resources and their
// totals (the DNS-outage ceiling in docs/policy.md "Faults" is checked by them).
void policy_service::summarise(std::int64_t now_ms) {
    if (now_ms < next_summary_ms_) return;
    next_summary_ms_ = now_ms + 10000;
    if (stats_.mx_lookups == summary_lookups_) return;
    summary_lookups_ = stats_.mx_lookups;
    log::notice("- mx_summary in_flight=" + std::to_string(waits_.lookups_in_flight()) +
                " limit=" + std::to_string(cfg_->max_mx_in_flight) + " mx_cache=" + std::to_string(cache_.size()) +
                " lookups_total=" + std::to_string(stats_.mx_lookups) + " wait_expired_total=" +
                std::to_string(stats_.mx_timeouts) + " refused_total=" + std::to_string(stats_.mx_refused));
}

void policy_service::note_fail_open(bool failing) {
    if (failing) {
        failing_open_ = true;
        ++fail_open_since_;
        return;
    }
    if (!failing_open_ || !counters_->healthy()) return;
    log::notice("- fail_open_ended requests=" + std::to_string(fail_open_since_) + " fail_open_total=" +
                std::to_string(stats_.fail_open) + " failures=" + std::to_string(counters_->failures()));
    failing_open_ = false;
    fail_open_since_ = 0;
}

socketmap_reply policy_service::guarded(socketmap_reply reply, std::string& reason) {
    if (reply.status() != socketmap_status::ok) return reply;
    const route_source source = route_now();
    if (source == route_source::last_good) {
        ++stats_.steered_last_good;
        reason += " egress=last_good";
    } else if (source == route_source::unknown) {
        ++stats_.steered_temp;
        reason += " egress=unknown";
    }
    return guard_steering(std::move(reply), source);
}

void policy_service::log_lookup(std::string_view key, std::string_view domain, const socketmap_reply& reply,
                                std::string_view reason) {
    log::level lvl = log::level::notice;
    if (reply.status() == socketmap_status::ok) {
        ++stats_.steered;
        lvl = log::level::info;
    } else if (reply.status() == socketmap_status::notfound) {
        ++stats_.not_steered;
        lvl = log::level::debug;
    } else {
        ++stats_.temp;
    }
    if (lvl < min_log_level_) return;  // not built when the logger would drop it
    log::write(lvl, log::write_socketmap_line({.key = key,
                                               .domain = domain,
                                               .status = log_status(reply.status()),
                                               .value = reply.value(),
                                               .reason = reason}));
}

// TEMP at once, without waiting for an MX answer (no resolver, too many lookups in flight).
socketmap_reply policy_service::temp_now(std::string_view key, const std::string& domain, std::string_view reason) {
    socketmap_reply r = reply_for_verdict(mx_verdict::temp, domain, cfg_->steering, active_transport());
    log_lookup(key, domain, r, reason);
    return r;
}

std::optional<socketmap_reply> policy_service::on_socketmap(std::string_view payload, reply_token token) {
    socketmap_step step =
        socketmap_lookup(payload, cfg_->steering, cfg_->microsoft_domains, cache_, active_transport(), steady_now_ms());
    std::string_view key =
        payload.substr(payload.find(' ') == std::string_view::npos ? payload.size() : payload.find(' ') + 1);
    if (!step.need_mx) {
        std::string reason(to_string(step.reason));
        socketmap_reply reply = guarded(std::move(step.reply), reason);
        log_lookup(key, step.domain, reply, reason);
        return reply;
    }
    if (server_ == nullptr || !mx_lookup_) return temp_now(key, step.domain, "no_resolver");
    const mx_wait_limits limits{.wait_ms = cfg_->mx_wait_ms, .max_domains = cfg_->max_mx_in_flight};
    const auto admitted = waits_.wait(step.domain, token, std::string(key), limits);
    if ((admitted == mx_wait_queue::admission::full) != mx_full_) {  // one line per change, with the counts
        mx_full_ = !mx_full_;
        log::write(mx_full_ ? log::level::warning : log::level::notice,
                   std::string("- mx_in_flight_limit state=") + (mx_full_ ? "full" : "below") + " in_flight=" +
                       std::to_string(waits_.lookups_in_flight()) + " limit=" + std::to_string(cfg_->max_mx_in_flight) +
                       " mx_cache=" + std::to_string(cache_.size()) +
                       " refused_total=" + std::to_string(stats_.mx_refused));
    }
    switch (admitted) {
        case mx_wait_queue::admission::full:
            ++stats_.mx_refused;
            return temp_now(key, step.domain, "mx_in_flight_limit");
        case mx_wait_queue::admission::joined:
            return std::nullopt;
        case mx_wait_queue::admission::start_lookup:
            break;
    }
    ++stats_.mx_lookups;
    policy_server* server = server_;
    mx_lookup_(step.domain, [this, server, domain = step.domain](dns::answer a) {
        server->post([this, domain, a = std::move(a)] { on_mx_answer(domain, a); });
    });
    return std::nullopt;
}

void policy_service::on_mx_answer(const std::string& domain, const dns::answer& a) {
    mx_classification c = classify_mx(a, cfg_->steering.mx_suffixes, cfg_->mx_ttl);
    cache_.put(domain, c.verdict, c.ttl, steady_now_ms());
    auto waiters = waits_.answer(domain);
    if (waiters.empty()) return;
    std::string reason =
        "mx_" + std::string(to_string(c.verdict)) + " mx=" + log::quote(c.evidence) + " ttl=" + std::to_string(c.ttl);
    socketmap_reply reply = guarded(reply_for_verdict(c.verdict, domain, cfg_->steering, active_transport()), reason);
    for (auto& w : waiters) {
        log_lookup(w.key, domain, reply, reason);
        server_->complete(w.token, reply);
    }
}

// The lookup itself goes on after a wait expires: its answer fills the cache for the retry.
void policy_service::on_tick(std::int64_t now_ms) {
    summarise(now_ms);
    if (!waits_.has_deadlines()) return;  // every loop turn: nothing to do, nothing to build
    for (auto& w : waits_.expire()) {
        ++stats_.mx_timeouts;
        socketmap_reply reply = reply_for_verdict(mx_verdict::temp, w.domain, cfg_->steering, active_transport());
        log_lookup(w.key, w.domain, reply, "mx_wait_expired");
        server_->complete(w.token, reply);
    }
}

void policy_service::on_reload() {
    if (reload_hook_) reload_hook_();
    if (!loader_) return;
    auto next = loader_();
    if (!next) {
        ++stats_.reload_failures;
        log::error("- reload_failed keeping=old_config error=" + log::quote(next.error()));
        return;
    }
    cfg_ = *next;
    ++stats_.reloads;
    log::notice("- reload_done microsoft_domains=" + std::to_string(cfg_->microsoft_domains.size()) +
                " limits=" + std::to_string(cfg_->volume.rules.size()));
}

}  // namespace relaygate::policy
