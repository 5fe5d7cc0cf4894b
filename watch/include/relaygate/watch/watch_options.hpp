// watch_options.hpp: relaygate-watch's typed configuration, defaults in one
// place, read by the registry's one config reader: every key is a command-line
// flag and a key of the operator config (top level or [watch]; the command line
// wins). The shared keys are declared once elsewhere: the egress topology
// (egress/egress_topology.hpp) and the registry's (dns-forwarder, ...).
// parse_watch_options() is called by main() and by SIGHUP's reload.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "relaygate/egress/egress_topology.hpp"
#include "relaygate/registry/expected.hpp"
#include "relaygate/registry/registry_options.hpp"

namespace relaygate::watch {

struct watch_options {
    std::string config_file;                             // operator config ([watch] section); "" = none
    std::string maillog = "/var/log/postfix.log";        // maillog_file or a syslog file
    std::string state_dir = "/var/lib/relaygate/watch";  // maillog.position, ledger.sqlite
    std::string postfix_config_dir = "/etc/postfix";     // for postsuper -c
    std::string postsuper = "/usr/sbin/postsuper";       // requeue program
    std::string postkick = "/usr/sbin/postkick";         // wakes pickup after the requeue
    egress::egress_topology egress;                 // failover=, transport=, egress-state-file, redis (shared keys)
    registry::registry_options registry;            // shared keys: dns-forwarder; all of them with reverify on
    std::vector<std::string> dnsbl_ips;             // IPs to sweep (pool, designated, spares)
    std::vector<std::string> dnsbl_zones;           // "NAME[;listed=..][;unknown=..]"; empty = defaults
    std::int64_t dnsbl_interval = 3600;             // seconds between sweeps; 0 = no sweeps
    std::int64_t dnsbl_timeout_ms = 5000;           // deadline of one sweep
    std::int64_t alert_window = 600;                // seconds
    std::uint64_t alert_min = 10;                   // reputation replies in the window
    double alert_ratio = 0.2;                       // reputation replies / attempts
    std::string alert_hook;                         // "/bin/sh -c" command, alert JSON on stdin
    std::int64_t alert_hook_timeout_ms = 5000;      // the hook is killed after this
    std::int64_t hold_down = 3600;                  // seconds clean before switching back
    std::int64_t long_deferred = 3600;              // deferrals this old go to the ledger
    bool requeue = true;                            // postsuper -r after a flip to the spare
    std::string metrics_listen = "127.0.0.1:9465";  // loopback only; "" = no metrics
    std::int64_t poll_interval_ms = 200;            // log poll period
    std::string log_sink = "syslog";                // syslog, stderr, both, postlog[:PATH]
    // Re-verification (docs/admin.md): the watch is the one scheduler per host. The registry
    // keys (admin-file, state-file, outbound-ip, reverify-interval, grace-period, ...) come
    // from the top level of the --config file, as for the other programs.
    bool reverify = true;                         // on|off
    std::int64_t reverify_tick = 60;              // seconds between passes (new domains wait at most this)
    std::int64_t reverify_pending_alert = 86400;  // tell once when a domain is unverified this long
    std::string user;                             // run as this user before reading anything (started as root)
    bool exit_at_eof = false;                     // process the log to its end and exit (tests, replay)
};

// Returns the options, or an error naming the source (file:line or the
// command line) and the key. help_text is set (and the options left default)
// when --help was given.
struct parsed_options {
    watch_options options;
    std::string help_text;
};
expected<parsed_options, std::string> parse_watch_options(int argc, const char* const* argv);

}  // namespace relaygate::watch
