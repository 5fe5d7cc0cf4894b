// metrics.cpp: see metrics.hpp. Label values are escaped as the exposition
// format requires (backslash, double quote, newline).
#include "relaygate/watch/metrics.hpp"

#include <cmath>
#include <cstdio>

namespace relaygate::watch {

std::string metrics::render_labels(const labels& l) {
    if (l.empty()) return {};
    std::string out = "{";
    for (std::size_t i = 0; i < l.size(); ++i) {
        if (i) out += ',';
        out += l[i].first;
        out += "=\"";
        for (char c : l[i].second) {
            if (c == '\\') {
                out += "\\\\";
            } else if (c == '"') {
                out += "\\\"";
            } else if (c == '\n') {
                out += "\\n";
            } else {
                out += c;
            }
        }
        out += '"';
    }
    return out + "}";
}

void metrics::declare(const std::string& name, const std::string& help, bool gauge) {
    std::lock_guard lock(mu_);
    auto& f = families_[name];
    f.help = help;
    f.gauge = gauge;
}

void metrics::add(const std::string& name, const labels& l, double delta) {
    std::lock_guard lock(mu_);
    families_[name].series[render_labels(l)] += delta;
}

void metrics::set(const std::string& name, const labels& l, double value) {
    std::lock_guard lock(mu_);
    families_[name].series[render_labels(l)] = value;
}

void metrics::clear(const std::string& name) {
    std::lock_guard lock(mu_);
    families_[name].series.clear();
}

double metrics::value(const std::string& name, const labels& l) const {
    std::lock_guard lock(mu_);
    const auto f = families_.find(name);
    if (f == families_.end()) return 0;
    const auto s = f->second.series.find(render_labels(l));
    return s == f->second.series.end() ? 0 : s->second;
}

std::string metrics::render() const {
    std::lock_guard lock(mu_);
    std::string out;
    char num[64];
    for (const auto& [name, f] : families_) {
        out += "# HELP " + name + " " + f.help + "\n";
        out += "# TYPE " + name + (f.gauge ? " gauge\n" : " counter\n");
        for (const auto& [labels, v] : f.series) {
            if (v == std::floor(v) && std::fabs(v) < 1e15) {
                std::snprintf(num, sizeof num, "%.0f", v);
            } else {
                std::snprintf(num, sizeof num, "%.17g", v);
            }
            out += name + labels + " " + num + "\n";
        }
    }
    return out;
}

void declare_watch_metrics(metrics& m) {
    m.declare("relaygate_watch_deliveries_total", "Delivery attempts seen in the Postfix log.", false);
    m.declare("relaygate_watch_replies_total", "Delivery replies by class (docs/watch.md).", false);
    m.declare("relaygate_watch_alerts_total", "Alerts fired (family x transport x sender domain).", false);
    m.declare("relaygate_watch_ip_listed", "1 when the IP is listed on the zone, 0 clean, -1 unknown.", true);
    m.declare("relaygate_watch_active_transport", "1 for the active transport of each family.", true);
    m.declare("relaygate_watch_flips_total", "Failover flips (to spare or back).", false);
    m.declare("relaygate_watch_requeued_total", "Queue ids handed to postsuper -r after a flip.", false);
    m.declare("relaygate_watch_ledger_rows_total", "Rows written to the failure ledger.", false);
    m.declare("relaygate_watch_lines_total", "Log lines read.", false);
    m.declare("relaygate_watch_parse_errors_total", "Log lines rejected by the parser (or over 8192 bytes).", false);
    m.declare("relaygate_watch_dnsbl_sweeps_total", "DNSBL sweeps completed.", false);
    m.declare("relaygate_watch_hook_runs_total", "Alert hook runs by result.", false);
    m.declare("relaygate_watch_flip_failures_total", "Flips the egress store refused (retried each tick).", false);
    m.declare("relaygate_watch_egress_rewrites_total", "Unreadable egress files rewritten from the watch's state.",
              false);
    m.declare("relaygate_watch_flip_replays_total", "Flip intents finished after a restart (requeue, hook).", false);
    m.declare("relaygate_watch_state_write_failures_total",
              "Failed writes of the watch's own files (position, intent, outbox) and ledger commits.", false);
    m.declare("relaygate_milter_decisions_total", "relaygate-milter decision lines read from the log.", false);
    m.declare("relaygate_policy_decisions_total", "relaygate-policy decision lines read from the log.", false);
    m.declare("relaygate_policy_steering_total",
              "relaygate-policy socketmap (transport_maps) replies read from the log.", false);
}

}  // namespace relaygate::watch
