// policy_service.cpp: see policy_service.hpp. Log levels: NOTFOUND / DUNNO at
// debug (they are the bulk), steering at info, TEMP and deferrals at notice,
// fail-open at warning.
#include "policy/policy_service.hpp"

#include <chrono>

#include "relaygate/log/log.hpp"

namespace relaygate::policy {
namespace {

std::int64_t wall_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string_view or_dash(std::string_view s) { return s.empty() ? std::string_view("-") : s; }

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
            lvl = log::level::warning;
            break;
    }
    if (lvl < min_log_level_) return reply;  // the logger would drop it: do not build it (hot path)
    std::string line = std::string(or_dash(req.queue_id));
    line += " policy action=";
    line += to_string(d.what);
    line += " state=" + std::string(or_dash(req.protocol_state));
    line += " sender=" + log::quote(req.sender) + " recipient=" + log::quote(req.recipient);
    line += " client=" + std::string(or_dash(req.client_address));
    if (!req.sasl_username.empty()) line += " sasl=" + log::quote(req.sasl_username);
    if (!d.detail.empty()) line += " " + d.detail;
    if (d.what == verdict::filter) line += " filter=" + d.text;
    if (d.what == verdict::fail_open) line += " failures=" + std::to_string(counters_->failures());
    log::write(lvl, line);
    return reply;
}

void policy_service::log_lookup(std::string_view key, std::string_view domain, std::string_view reply,
                                std::string_view reason) {
    log::level lvl = log::level::notice;
    if (reply.starts_with("OK")) {
        ++stats_.steered;
        lvl = log::level::info;
    } else if (reply.starts_with("NOTFOUND")) {
        ++stats_.not_steered;
        lvl = log::level::debug;
    } else {
        ++stats_.temp;
    }
    if (lvl < min_log_level_) return;  // not built when the logger would drop it
    log::write(lvl, "- socketmap key=" + log::quote(key) + " domain=" + std::string(or_dash(domain)) +
                        " reply=" + log::quote(reply) + " reason=" + std::string(reason));
}

std::optional<std::string> policy_service::on_socketmap(std::string_view payload, reply_token token) {
    std::int64_t now = steady_now_ms();
    std::string_view active = active_transport();
    socketmap_step step = socketmap_lookup(payload, cfg_->steering, cfg_->microsoft_domains, cache_, active, now);
    std::string_view key =
        payload.substr(payload.find(' ') == std::string_view::npos ? payload.size() : payload.find(' ') + 1);
    if (!step.need_mx) {
        log_lookup(key, step.domain, step.reply, to_string(step.reason));
        return step.reply;
    }
    if (server_ == nullptr || !mx_lookup_) {
        std::string r = reply_for_verdict(mx_verdict::temp, step.domain, cfg_->steering, active);
        log_lookup(key, step.domain, r, "no_resolver");
        return r;
    }
    auto it = waiting_.find(step.domain);
    if (it == waiting_.end()) {
        if (waiting_.size() >= cfg_->max_mx_in_flight) {
            std::string r = reply_for_verdict(mx_verdict::temp, step.domain, cfg_->steering, active);
            log_lookup(key, step.domain, r, "mx_in_flight_limit");
            return r;
        }
        it = waiting_.emplace(step.domain, std::vector<waiter>{}).first;
        ++stats_.mx_lookups;
        policy_server* server = server_;
        std::string domain = step.domain;
        mx_lookup_(domain, [this, server, domain](dns::answer a) {
            server->post([this, domain, a = std::move(a)] { on_mx_answer(domain, a); });
        });
    }
    it->second.push_back(waiter{token, std::string(key)});
    deadlines_.push_back(deadline{now + cfg_->mx_wait_ms, step.domain, token.connection, token.seq});
    return std::nullopt;
}

void policy_service::on_mx_answer(const std::string& domain, const dns::answer& a) {
    mx_classification c = classify_mx(a, cfg_->steering.mx_suffixes, cfg_->mx_ttl);
    cache_.put(domain, c.verdict, c.ttl, steady_now_ms());
    auto it = waiting_.find(domain);
    if (it == waiting_.end()) return;
    std::vector<waiter> waiters = std::move(it->second);
    waiting_.erase(it);
    std::string_view active = active_transport();
    std::string reply = reply_for_verdict(c.verdict, domain, cfg_->steering, active);
    std::string reason =
        "mx_" + std::string(to_string(c.verdict)) + " mx=" + log::quote(c.evidence) + " ttl=" + std::to_string(c.ttl);
    for (auto& w : waiters) {
        log_lookup(w.key, domain, reply, reason);
        server_->complete(w.token, reply);
    }
}

void policy_service::on_tick(std::int64_t now_ms) {
    while (!deadlines_.empty() && deadlines_.front().at <= now_ms) {
        deadline d = std::move(deadlines_.front());
        deadlines_.pop_front();
        auto it = waiting_.find(d.domain);
        if (it == waiting_.end()) continue;  // answered in time
        auto& ws = it->second;
        for (auto w = ws.begin(); w != ws.end(); ++w) {
            if (w->token.connection != d.connection || w->token.seq != d.seq) continue;
            ++stats_.mx_timeouts;
            std::string reply = reply_for_verdict(mx_verdict::temp, d.domain, cfg_->steering, active_transport());
            log_lookup(w->key, d.domain, reply, "mx_wait_expired");
            reply_token tok = w->token;
            ws.erase(w);
            server_->complete(tok, reply);
            break;
        }
        // The lookup itself goes on: its answer fills the cache for the retry.
        // (waiting_ keeps the empty entry so a second lookup is not started.)
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
