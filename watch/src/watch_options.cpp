// watch_options.cpp: the watch's keys for the registry's one config reader
// (see watch_options.hpp); the shared keys come from add_registry_options()
// and add_egress_options(). Every error is "FILE:LINE: key 'k': ...".
#include "relaygate/watch/watch_options.hpp"

#include <boost/program_options.hpp>

#include "relaygate/log/log.hpp"
#include "relaygate/registry/config_file.hpp"
#include "relaygate/watch/dnsbl.hpp"

namespace relaygate::watch {
namespace {

namespace po = boost::program_options;

po::options_description describe(watch_options& o) {
    po::options_description d("relaygate-watch options");
    auto add = d.add_options();
    add("maillog", po::value(&o.maillog)->default_value(o.maillog),
        "Postfix log to follow (maillog_file or syslog file)");
    add("state-dir", po::value(&o.state_dir)->default_value(o.state_dir),
        "directory for maillog.position and ledger.sqlite");
    add("postfix-config-dir", po::value(&o.postfix_config_dir)->default_value(o.postfix_config_dir),
        "Postfix config dir for postsuper -c");
    add("postsuper", po::value(&o.postsuper)->default_value(o.postsuper), "postsuper program");
    add("postkick", po::value(&o.postkick)->default_value(o.postkick),
        "postkick program (wakes pickup after postsuper -r)");
    add("dnsbl-ip", po::value(&o.dnsbl_ips)->composing(), "outbound IP to check on DNSBLs (repeatable)");
    add("dnsbl-zone", po::value(&o.dnsbl_zones)->composing(),
        "ZONE[;listed=A-B,..][;unknown=A,..] (repeatable; default ZEN, SpamCop, Barracuda)");
    add("dnsbl-interval", po::value(&o.dnsbl_interval)->default_value(o.dnsbl_interval),
        "seconds between DNSBL sweeps (0 = none)");
    add("dnsbl-timeout-ms", po::value(&o.dnsbl_timeout_ms)->default_value(o.dnsbl_timeout_ms), "deadline of one sweep");
    add("alert-window", po::value(&o.alert_window)->default_value(o.alert_window), "alert window, seconds");
    add("alert-min", po::value(&o.alert_min)->default_value(o.alert_min), "reputation replies in the window to alert");
    add("alert-ratio", po::value(&o.alert_ratio)->default_value(o.alert_ratio, "0.2"),
        "reputation replies / attempts to alert");
    add("alert-hook", po::value(&o.alert_hook), "command run by /bin/sh -c with the alert JSON on stdin");
    add("alert-hook-timeout-ms", po::value(&o.alert_hook_timeout_ms)->default_value(o.alert_hook_timeout_ms),
        "the hook is killed after this");
    add("hold-down", po::value(&o.hold_down)->default_value(o.hold_down), "seconds clean before switching back");
    add("long-deferred", po::value(&o.long_deferred)->default_value(o.long_deferred),
        "deferrals this old (seconds) go to the ledger");
    add("requeue", po::value(&o.requeue)->default_value(o.requeue),
        "postsuper -r the family's deferred mail after a flip");
    add("metrics-listen", po::value(&o.metrics_listen)->default_value(o.metrics_listen),
        "loopback HOST:PORT for Prometheus (\"\" = off)");
    add("poll-interval-ms", po::value(&o.poll_interval_ms)->default_value(o.poll_interval_ms), "log poll period");
    add("reverify", po::value(&o.reverify)->default_value(o.reverify, "on"),
        "on|off: verify registered domains on a schedule (registry keys from --config)");
    add("reverify-tick", po::value(&o.reverify_tick)->default_value(o.reverify_tick),
        "seconds between re-verification passes (1..3600)");
    add("reverify-pending-alert", po::value(&o.reverify_pending_alert)->default_value(o.reverify_pending_alert),
        "seconds a domain may stay unverified after its first check before the alert");
    add("log-sink", po::value(&o.log_sink)->default_value(o.log_sink), log::sink_help.data());
    add("user", po::value(&o.user), "run as this user before reading the maillog (when started as root)");
    return d;
}

po::options_description command_line_only(watch_options& o) {
    po::options_description d("command line only");
    d.add_options()("exit-at-eof", po::bool_switch(&o.exit_at_eof), "read the log to its end once, then exit");
    return d;
}

// The first bad value, as config_source::error() formats it; "" when all are good.
std::string check(const watch_options& o, const registry::config_source& src) {
    auto range = [&](const char* key, auto value, auto lo, auto hi) {
        return value < lo || value > hi
                   ? src.error(key, "must be >= " + std::to_string(lo) + " and <= " + std::to_string(hi),
                               std::to_string(value))
                   : std::string();
    };
    constexpr std::int64_t max_seconds = 10ll * 365 * 86400;
    for (auto err :
         {range("poll-interval-ms", o.poll_interval_ms, 1, 60000),
          range("alert-window", o.alert_window, 60, max_seconds),
          range("alert-min", o.alert_min, std::uint64_t{1}, std::uint64_t{1} << 40),
          range("hold-down", o.hold_down, 0, max_seconds), range("long-deferred", o.long_deferred, 0, max_seconds),
          range("dnsbl-interval", o.dnsbl_interval, 0, max_seconds),
          range("dnsbl-timeout-ms", o.dnsbl_timeout_ms, 1, 3600000),
          range("alert-hook-timeout-ms", o.alert_hook_timeout_ms, 1, 3600000),
          range("reverify-tick", o.reverify_tick, 1, 3600),
          range("reverify-pending-alert", o.reverify_pending_alert, 1, max_seconds)}) {
        if (!err.empty()) return err;
    }
    if (o.alert_ratio < 0 || o.alert_ratio > 1) return src.error("alert-ratio", "must be 0..1");
    if (!log::parse_sink(o.log_sink)) {
        return src.error("log-sink", "want syslog, stderr, both, postlog or postlog:/PATH", o.log_sink);
    }
    for (const auto& z : o.dnsbl_zones) {
        if (!dnsbl_zone::parse(z)) return src.error("dnsbl-zone", "not ZONE[;listed=..][;unknown=..]", z);
    }
    for (const auto& ip : o.dnsbl_ips) {
        if (!dnsbl_query_name(ip, "x")) return src.error("dnsbl-ip", "not an IP address", ip);
    }
    return {};
}

}  // namespace

expected<parsed_options, std::string> parse_watch_options(int argc, const char* const* argv) {
    parsed_options out;
    watch_options& o = out.options;
    egress::egress_keys egress_keys;
    po::options_description keys = describe(o);
    registry::add_registry_options(keys, o.registry);
    egress::add_egress_options(keys, egress_keys);
    po::options_description cli = command_line_only(o);
    auto read = registry::read_config(argc, argv,
                                      {.program = "watch",
                                       .keys = &keys,
                                       .cli_only = &cli,
                                       .usage = "usage: relaygate-watch [--config FILE] [options]"});
    if (!read) return unexpected{read.error()};
    if (read->help) {
        out.help_text = read->help_text;
        return out;
    }
    o.config_file = read->source.file();
    auto egress = egress::build_egress_topology(egress_keys, read->source);
    if (!egress) return unexpected{egress.error()};
    o.egress = std::move(*egress);
    if (auto err = check(o, read->source); !err.empty()) return unexpected{err};
    // Re-verification needs the registry keys (admin-file, state-file, outbound-ip, ...)
    // from the shared file, checked as every other program checks them.
    if (o.reverify) {
        if (o.config_file.empty()) {
            return unexpected{
                std::string("reverify: on needs --config FILE with the registry keys (admin-file, "
                            "state-file, outbound-ip, ...) at its top level; or reverify = off")};
        }
        if (auto v = registry::validate(o.registry, read->source); !v) return unexpected{v.error()};
    }
    return out;
}

}  // namespace relaygate::watch
