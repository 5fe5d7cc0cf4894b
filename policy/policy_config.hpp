// policy_config.hpp: relaygate-policy's typed configuration. Defaults live in
// the struct; Boost.Program_options reads the command line and then the config
// file (command line wins); an unknown key or bad value stops the program with
// "file:line: key: why". build_service_config() turns the reloadable part into
// a validated service_config (SIGHUP calls it again). Used by main.cpp and tests.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "policy/policy_service.hpp"
#include "relaygate/egress/egress_topology.hpp"
#include "relaygate/registry/config_file.hpp"
#include "relaygate/registry/expected.hpp"
#include "relaygate/registry/registry_options.hpp"

namespace relaygate::policy {

struct daemon_config {
    std::string config_file;                                             // --config; empty = none
    std::string policy_listen = "inet:127.0.0.1:10040";                  // check_policy_service endpoint; "" = off
    std::string socketmap_listen = "inet:127.0.0.1:10041";               // transport_maps endpoint; "" = off
    std::vector<std::string> socketmap_names{"transport"};               // map names answered
    std::string microsoft_domains = "/etc/relaygate/microsoft-domains";  // the family domain list
    std::string family = "microsoft";                                    // the family steered (egress state name)
    std::string designated_transport = "msft-out";            // designated transport when no failover= names the family
    std::vector<std::string> spare_transports{"msft-spare"};  // allowed failover transports (plus failover='s spare)
    std::string transport_nexthop;                            // appended after "transport:" (tests: [127.0.0.1]:port)
    bool mx_detection = true;                                 // MX lookups for unlisted domains
    std::vector<std::string> mx_suffixes;                     // empty = the three Microsoft suffixes
    int mx_wait_ms = 3000;                                    // bounded wait, then TEMP
    std::size_t mx_cache_size = 100000;                       // LRU entries
    std::vector<std::string> limits;                          // DIM:METRIC:MAX/WINDOW
    std::vector<std::string> size_caps;                       // CLASS:BYTES
    bool filter_mode = false;                                 // FILTER at RCPT (one recipient per message only)
    egress::egress_keys egress_keys;      // shared keys as read: failover=, egress-state-file, redis, ...
    egress::egress_topology egress;       // the same, checked (Redis: egress state, and counters below)
    bool shared_counters = true;          // with redis: counters in Redis too
    std::size_t max_rate_keys = 2000000;  // in-process counter keys (bounded memory)
    std::size_t max_connections = 20000;  // per protocol (policy, socketmap): separate pools
    int request_deadline_ms = 10000;      // a request must be complete this long after its first byte
    registry::registry_options registry;  // shared keys: admin-file, operator-domain, dns-forwarder, ...
    std::string log_level = "info";       // debug, info, notice, warning, error
    std::string log_sink = "syslog";      // syslog, stderr, both, postlog[:PATH] (log::parse_sink)
    registry::config_source source;       // where the values came from (locates later errors)
    std::string user;                     // run as this user once the listeners are open (started as root)
    std::string socket_group;             // group of the unix listeners (Postfix's); "" = as created
    std::string socket_mode = "0666";     // octal mode of the unix listeners
};

// Parses argv (and the --config file it names). nullopt result with no error
// = --help was printed. The error names file, line and key.
expected<std::optional<daemon_config>, std::string> parse_daemon_config(int argc, const char* const argv[]);

// Validates and builds the reloadable part (loads the domain list).
expected<std::shared_ptr<const service_config>, std::string> build_service_config(const daemon_config& c);

}  // namespace relaygate::policy
