// milter_config.cpp: Program_options binding and checks for relaygate-milter (see milter_config.hpp).
#include "relaygate/milter/milter_config.hpp"

#include <boost/program_options.hpp>

#include "relaygate/registry/config_file.hpp"
#include "relaygate/registry/domain_name.hpp"

namespace po = boost::program_options;

namespace relaygate::milter {
namespace {

struct raw_values {
    std::string socket_mode = "0660", mode = "reject", missing_from = "reject", log_sink = "syslog", log_level = "info";
    std::vector<std::string> operator_keys;
};

po::options_description describe(milter_config& c, raw_values& raw) {
    po::options_description d("relaygate-milter options");
    // clang-format off
    d.add_options()
        ("socket", po::value(&c.socket)->default_value(c.socket), "listen on unix:/path or inet:PORT@127.0.0.1")
        ("user", po::value(&c.user), "run as this user after opening the socket (when started as root)")
        ("socket-mode", po::value(&raw.socket_mode)->default_value(raw.socket_mode), "octal mode of a unix socket")
        ("socket-group", po::value(&c.socket_group), "group of a unix socket (e.g. postfix); empty = as created")
        ("mode", po::value(&raw.mode)->default_value(raw.mode), "reject | tempfail | tag (accept, add "
            "X-Relaygate-Verdict, log)")
        ("missing-from", po::value(&raw.missing_from)->default_value(raw.missing_from), "reject | accept a message "
            "without From:")
        ("signing", po::value(&c.signing)->default_value(c.signing), "DKIM-sign mail of verified customer domains")
        ("operator-dkim-key", po::value(&raw.operator_keys)->composing(), "DOMAIN:SELECTOR:PEM-PATH; signs an "
            "operator domain (repeatable)")
        ("rejection-log", po::value(&c.rejection_log)->default_value(c.rejection_log), "JSON-lines file of "
            "rejections; empty = none")
        ("log-sink", po::value(&raw.log_sink)->default_value(raw.log_sink), log::sink_help.data())
        ("log-level", po::value(&raw.log_level)->default_value(raw.log_level), "debug | info | notice | warning | "
            "error")
        ("milter-timeout", po::value(&c.milter_timeout)->default_value(c.milter_timeout), "seconds to wait on the MTA")
        ("packet-timeout", po::value(&c.packet_timeout)->default_value(c.packet_timeout), "seconds a connection may "
            "stop in the middle of a packet before it is closed")
        ("max-connections", po::value(&c.max_connections)->default_value(c.max_connections), "concurrent MTA "
            "connections; more are answered 451 4.3.2 at connect")
        ("max-header-bytes", po::value(&c.limits.max_bytes)->default_value(c.limits.max_bytes), "longest From/Sender "
            "value")
        ("max-mailboxes", po::value(&c.limits.max_mailboxes)->default_value(c.limits.max_mailboxes), "most mailboxes "
            "in one From/Sender");
    // clang-format on
    registry::add_registry_options(d, c.registry);
    return d;
}

// Checks the values Program_options stored as text; the error names the key.
std::optional<std::string> check(milter_config& c, const raw_values& raw, const registry::config_source& source) {
    auto bad = [&](const std::string& key, const std::string& value, const std::string& why) {
        return source.error(key, why, value);
    };
    if (auto m = parse_enforcement_mode(raw.mode)) {
        c.mode = *m;
    } else {
        return bad("mode", raw.mode, "expected reject, tempfail or tag");
    }
    if (auto p = parse_missing_from_policy(raw.missing_from)) {
        c.missing_from = *p;
    } else {
        return bad("missing-from", raw.missing_from, "expected reject or accept");
    }
    std::size_t used = 0;
    unsigned long mode = 0;
    try {
        mode = std::stoul(raw.socket_mode, &used, 8);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != raw.socket_mode.size() || mode > 0777) return bad("socket-mode", raw.socket_mode, "expected octal");
    c.socket_mode = static_cast<unsigned>(mode);
    if (!(c.socket.starts_with("unix:") || c.socket.starts_with("local:") || c.socket.starts_with("inet:") ||
          c.socket.starts_with("inet6:"))) {
        return bad("socket", c.socket, "expected unix:/path or inet:PORT@HOST");
    }
    if (auto s = log::parse_sink(raw.log_sink)) {
        c.log_sink = *s;
    } else {
        return bad("log-sink", raw.log_sink, "expected syslog, stderr, both, postlog or postlog:/PATH");
    }
    if (auto l = log::parse_level(raw.log_level)) {
        c.log_level = *l;
    } else {
        return bad("log-level", raw.log_level, "expected debug, info, notice, warning or error");
    }
    if (c.packet_timeout == 0 || c.packet_timeout > 3600) {
        return bad("packet-timeout", std::to_string(c.packet_timeout), "must be 1..3600 seconds");
    }
    if (c.max_connections == 0 || c.max_connections > 1000000) {
        return bad("max-connections", std::to_string(c.max_connections), "must be 1..1000000");
    }
    if (c.limits.max_bytes == 0 || c.limits.max_mailboxes == 0) {
        return bad("max-header-bytes", std::to_string(c.limits.max_bytes), "limits must be positive");
    }
    for (const auto& spec : raw.operator_keys) {
        auto a = spec.find(':'), b = a == std::string::npos ? a : spec.find(':', a + 1);
        if (b == std::string::npos || a == 0 || b == a + 1 || b + 1 == spec.size()) {
            return bad("operator-dkim-key", spec, "expected DOMAIN:SELECTOR:PEM-PATH");
        }
        auto domain = registry::normalise_domain(spec.substr(0, a));
        if (!domain) return bad("operator-dkim-key", spec, domain.error());
        c.operator_keys.push_back({*domain, spec.substr(a + 1, b - a - 1), spec.substr(b + 1)});
    }
    return std::nullopt;
}

}  // namespace

config_result parse_milter_config(int argc, const char* const argv[]) {
    config_result r;
    raw_values raw;
    auto keys = describe(r.config, raw);
    auto read = registry::read_config(
        argc, argv, {.program = "milter", .keys = &keys, .usage = "usage: relaygate-milter [--config FILE] [options]"});
    if (!read) return {config_result::outcome::error, {}, read.error()};
    if (read->help) return {config_result::outcome::help, {}, read->help_text};
    r.config.config_file = read->source.file();
    if (auto e = check(r.config, raw, read->source)) return {config_result::outcome::error, {}, *e};
    if (auto ok = registry::validate(r.config.registry, read->source); !ok) {
        return {config_result::outcome::error, {}, ok.error()};
    }
    return r;
}

}  // namespace relaygate::milter
