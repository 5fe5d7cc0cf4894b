// watch_options.cpp: Boost.Program_options binding of watch_options. The
// config file is the operator's INI file; only its [watch] section is ours
// (other sections belong to other programs and are skipped), and an unknown
// key inside [watch] is an error naming file, line and key.
#include "relaygate/watch/watch_options.hpp"

#include <boost/program_options.hpp>
#include <fstream>
#include <sstream>

#include "relaygate/log/log.hpp"
#include "relaygate/watch/delivery_tracker.hpp"
#include "relaygate/watch/dnsbl.hpp"
#include "relaygate/watch/failover_machine.hpp"

namespace relaygate::watch {
namespace {

namespace po = boost::program_options;

po::options_description describe(watch_options& o) {
    po::options_description d("relaygate-watch options");
    d.add_options()("maillog", po::value(&o.maillog)->default_value(o.maillog),
                    "Postfix log to follow (maillog_file or syslog file)")(
        "state-dir", po::value(&o.state_dir)->default_value(o.state_dir),
        "directory for maillog.position and ledger.sqlite")(
        "postfix-config-dir", po::value(&o.postfix_config_dir)->default_value(o.postfix_config_dir),
        "Postfix config dir for postsuper -c")("postsuper", po::value(&o.postsuper)->default_value(o.postsuper),
                                               "postsuper program")(
        "postkick", po::value(&o.postkick)->default_value(o.postkick),
        "postkick program (wakes pickup after postsuper -r)")(
        "egress-state-file", po::value(&o.egress_state_file)->default_value(o.egress_state_file),
        "egress state JSON file (read by relaygate-policy)")(
        "redis", po::value(&o.redis), "HOST:PORT of Redis: share the egress state there instead of the file")(
        "redis-prefix", po::value(&o.redis_prefix)->default_value(o.redis_prefix), "Redis key prefix")(
        "transport", po::value(&o.transports)->composing(), "SYSLOG_SERVICE=TRANSPORT,FAMILY,SOURCE_IP (repeatable)")(
        "failover", po::value(&o.failovers)->composing(), "FAMILY=DESIGNATED,SPARE,DESIGNATED_IP (repeatable)")(
        "dnsbl-ip", po::value(&o.dnsbl_ips)->composing(), "outbound IP to check on DNSBLs (repeatable)")(
        "dnsbl-zone", po::value(&o.dnsbl_zones)->composing(),
        "ZONE[;listed=A-B,..][;unknown=A,..] (repeatable; default ZEN, SpamCop, Barracuda)")(
        "dnsbl-interval", po::value(&o.dnsbl_interval)->default_value(o.dnsbl_interval),
        "seconds between DNSBL sweeps (0 = none)")(
        "dnsbl-timeout-ms", po::value(&o.dnsbl_timeout_ms)->default_value(o.dnsbl_timeout_ms), "deadline of one sweep")(
        "dns-forwarder", po::value(&o.dns_forwarders)->composing(),
        "DNS server IP[@PORT] (repeatable; default /etc/resolv.conf)")(
        "alert-window", po::value(&o.alert_window)->default_value(o.alert_window), "alert window, seconds")(
        "alert-min", po::value(&o.alert_min)->default_value(o.alert_min), "reputation replies in the window to alert")(
        "alert-ratio", po::value(&o.alert_ratio)->default_value(o.alert_ratio, "0.2"),
        "reputation replies / attempts to alert")("alert-hook", po::value(&o.alert_hook),
                                                  "command run by /bin/sh -c with the alert JSON on stdin")(
        "alert-hook-timeout-ms", po::value(&o.alert_hook_timeout_ms)->default_value(o.alert_hook_timeout_ms),
        "the hook is killed after this")("hold-down", po::value(&o.hold_down)->default_value(o.hold_down),
                                         "seconds clean before switching back")(
        "long-deferred", po::value(&o.long_deferred)->default_value(o.long_deferred),
        "deferrals this old (seconds) go to the ledger")("requeue", po::value(&o.requeue)->default_value(o.requeue),
                                                         "postsuper -r the family's deferred mail after a flip")(
        "metrics-listen", po::value(&o.metrics_listen)->default_value(o.metrics_listen),
        "loopback HOST:PORT for Prometheus (\"\" = off)")(
        "poll-interval-ms", po::value(&o.poll_interval_ms)->default_value(o.poll_interval_ms), "log poll period")(
        "log-sink", po::value(&o.log_sink)->default_value(o.log_sink), log::sink_help.data())(
        "user", po::value(&o.user), "run as this user before reading the maillog (when started as root)");
    return d;
}

std::string line_of(const std::string& file, const std::string& key) {
    std::ifstream in(file);
    int n = 0;
    for (std::string l; std::getline(in, l);) {
        ++n;
        const auto start = l.find_first_not_of(" \t");
        if (start != std::string::npos && l.compare(start, key.size(), key) == 0) return file + ":" + std::to_string(n);
    }
    return file;
}

std::string validate(const watch_options& o) {
    if (o.poll_interval_ms <= 0 || o.poll_interval_ms > 60000) return "poll-interval-ms: must be 1..60000";
    if (o.alert_window < 60) return "alert-window: must be >= 60";
    if (o.alert_ratio < 0 || o.alert_ratio > 1) return "alert-ratio: must be 0..1";
    if (o.alert_min == 0) return "alert-min: must be >= 1";
    if (o.hold_down < 0 || o.long_deferred < 0 || o.dnsbl_interval < 0)
        return "hold-down/long-deferred/dnsbl-interval: must be >= 0";
    if (o.dnsbl_timeout_ms <= 0 || o.alert_hook_timeout_ms <= 0)
        return "dnsbl-timeout-ms/alert-hook-timeout-ms: must be > 0";
    if (!log::parse_sink(o.log_sink)) return "log-sink: syslog, stderr, both, postlog or postlog:/PATH";
    transport_map tm;
    for (const auto& t : o.transports) {
        if (!tm.add(t)) return "transport: '" + t + "' is not SERVICE=TRANSPORT,FAMILY,IP";
    }
    for (const auto& f : o.failovers) {
        if (!failover_spec::parse(f)) return "failover: '" + f + "' is not FAMILY=DESIGNATED,SPARE,IP";
    }
    for (const auto& z : o.dnsbl_zones) {
        if (!dnsbl_zone::parse(z)) return "dnsbl-zone: '" + z + "' is not ZONE[;listed=..][;unknown=..]";
    }
    for (const auto& ip : o.dnsbl_ips) {
        if (!dnsbl_query_name(ip, "x")) return "dnsbl-ip: '" + ip + "' is not an IP address";
    }
    return {};
}

}  // namespace

expected<parsed_options, std::string> parse_watch_options(int argc, const char* const* argv) {
    parsed_options out;
    watch_options& o = out.options;
    po::options_description cli = describe(o);
    cli.add_options()("help,h", "this help")("config", po::value(&o.config_file),
                                             "operator config file; its [watch] section holds the same keys")(
        "exit-at-eof", po::bool_switch(&o.exit_at_eof), "read the log to its end once, then exit")(
        "list-failures", po::bool_switch(&o.list_failures), "list the failure ledger and exit")(
        "since", po::value(&o.since)->default_value(o.since),
        "with --list-failures: unix seconds, YYYY-MM-DD, ...Z, 30m/2h/7d")("family", po::value(&o.family),
                                                                           "with --list-failures: only this family")(
        "json", po::bool_switch(&o.json), "with --list-failures: one JSON object per line")(
        "ledger", po::value(&o.ledger), "with --list-failures: ledger file (default STATE_DIR/ledger.sqlite)");
    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, cli), vm);
        if (vm.count("help")) {
            std::ostringstream s;
            s << cli;
            out.help_text = s.str();
            return out;
        }
        if (vm.count("config")) {
            // Keys of [watch] are the flags' names; other sections are not ours.
            const std::string file = vm["config"].as<std::string>();
            std::ifstream in(file);
            if (!in) return unexpected{file + ": cannot open"};
            const po::options_description none;
            const auto raw = po::parse_config_file(in, none, true);
            po::parsed_options ours(&cli);
            for (const auto& opt : raw.options) {
                if (!opt.string_key.starts_with("watch.")) continue;
                const std::string key = opt.string_key.substr(6);
                if (key == "help" || key == "config" || !cli.find_nothrow(key, false)) {
                    return unexpected{line_of(file, key) + ": unknown key '" + key + "' in [watch]"};
                }
                ours.options.emplace_back(key, opt.value);
            }
            try {
                po::store(ours, vm);  // after the command line: values given there win
            } catch (const po::error& e) {
                return unexpected{file + ": [watch] " + e.what()};
            }
        }
        po::notify(vm);
    } catch (const po::error& e) {
        return unexpected{std::string("command line: ") + e.what()};
    }
    if (const std::string err = validate(o); !err.empty()) {
        const auto key = err.substr(0, err.find(':'));
        return unexpected{(o.config_file.empty() ? std::string("command line") : line_of(o.config_file, key)) + ": " +
                          err};
    }
    return out;
}

}  // namespace relaygate::watch
