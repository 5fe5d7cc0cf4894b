// milter_config.hpp: relaygate-milter's typed configuration — one struct with
// its defaults here, read by Boost.Program_options from the command line and
// an optional config file (--config), plus the shared registry keys
// (add_registry_options). Errors name the file, line and key. Called by main().
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "relaygate/log/log.hpp"
#include "relaygate/milter/decision.hpp"
#include "relaygate/milter/url_checker.hpp"
#include "relaygate/registry/expected.hpp"
#include "relaygate/registry/registry_options.hpp"

namespace relaygate::milter {

struct operator_key_spec {
    std::string domain;    // normalised operator domain (d=)
    std::string selector;  // s=
    std::string key_path;  // PEM private key
};

struct milter_config {
    std::string config_file;                                 // --config; "" = command line only
    std::string socket = "unix:/run/relaygate/milter.sock";  // libmilter spec: unix:/path or inet:PORT@127.0.0.1
    std::string user;                                        // run as this user after opening the socket; "" = stay
    unsigned socket_mode = 0660;                             // permissions of a unix socket (Postfix must reach it)
    std::string socket_group;                                // group of a unix socket (Postfix's); "" = as created
    enforcement_mode mode = enforcement_mode::reject;        // reject | tempfail | tag
    missing_from_policy missing_from = missing_from_policy::reject;  // a message without From:
    bool signing = true;                                             // DKIM-sign mail of verified customer domains
    std::vector<operator_key_spec> operator_keys;                    // optional keys for operator domains
    std::string rejection_log = "/var/log/relaygate/milter-rejections.log";  // JSON lines; "" = none
    log::sink_spec log_sink;                                                 // syslog | stderr | both | postlog[:PATH]
    log::level log_level = log::level::info;                                 // debug | info | notice | warning | error
    unsigned milter_timeout = 300;        // seconds libmilter waits on the MTA (smfi_settimeout)
    unsigned packet_timeout = 10;         // seconds a connection may stop in the middle of a packet
    unsigned max_connections = 1000;      // concurrent MTA connections; more are answered 451 at connect
    from_header_limits limits;            // per From/Sender header
    url_check_config url;                 // url-* keys: the body's URL check (off by default)
    registry::registry_options registry;  // shared keys: admin-file, state-file, operator-domain, ...
};

struct config_result {
    enum class outcome { run, help, error } what = outcome::run;
    milter_config config;
    std::string text;  // help text or the error (file:line: key 'k': message)
};

// registry_keys = false: the registry keys are read but not required nor
// validated (relaygate-admin check-url / scan need only the url-* keys).
config_result parse_milter_config(int argc, const char* const argv[], bool registry_keys = true);

}  // namespace relaygate::milter
