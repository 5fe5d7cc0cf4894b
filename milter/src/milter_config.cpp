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
    std::vector<std::string> url_zones, url_sender_actions;
    std::string url_listed = "warn", url_shortener = "warn", url_unknown = "warn", url_incomplete = "warn";
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
            "in one From/Sender")
        ("url-check", po::value(&c.url.enabled)->default_value(c.url.enabled), "scan message bodies for risky URLs "
            "(negotiates the body step)")
        ("url-blocklist", po::value(&raw.url_zones)->composing(), "ZONE=CODES: a URI blocklist and the answers that "
            "mean listed (127.0.1.2-127.0.1.99, mask:N; repeatable)")
        ("url-shortener-file", po::value(&c.url.shortener_file)->default_value(c.url.shortener_file), "shortener "
            "domains, one per line; empty = none")
        ("url-allow-file", po::value(&c.url.allow_file), "domains never flagged, one per line; empty = none")
        ("url-public-suffix-file", po::value(&c.url.public_suffix_file)->default_value(c.url.public_suffix_file),
            "Public Suffix List (Debian package publicsuffix)")
        ("url-listed-action", po::value(&raw.url_listed)->default_value(raw.url_listed), "pass | warn | hold | "
            "tempfail | reject a link to a listed domain")
        ("url-shortener-action", po::value(&raw.url_shortener)->default_value(raw.url_shortener), "action for a "
            "shortener link")
        ("url-unknown-action", po::value(&raw.url_unknown)->default_value(raw.url_unknown), "action when a lookup "
            "failed or missed the deadline")
        ("url-incomplete-action", po::value(&raw.url_incomplete)->default_value(raw.url_incomplete), "action when a "
            "message was not fully scanned")
        ("url-sender-action", po::value(&raw.url_sender_actions)->composing(), "DOMAIN:RISK=ACTION: another action "
            "for mail from DOMAIN (repeatable)")
        ("url-dns-deadline-ms", po::value(&c.url.dns_deadline_ms)->default_value(c.url.dns_deadline_ms), "one "
            "deadline for all blocklist queries of a message")
        ("url-max-scan-bytes", po::value(&c.url.limits.max_bytes)->default_value(c.url.limits.max_bytes), "message "
            "bytes scanned")
        ("url-max-urls", po::value(&c.url.limits.max_urls)->default_value(c.url.limits.max_urls), "distinct URLs "
            "kept per message")
        ("url-max-depth", po::value(&c.url.limits.max_depth)->default_value(c.url.limits.max_depth), "MIME nesting "
            "read");
    // clang-format on
    registry::add_registry_options(d, c.registry);
    return d;
}

// The url-* values stored as text; the error names the key.
std::optional<std::string> check_url(url_check_config& u, const raw_values& raw,
                                     const registry::config_source& source) {
    auto bad = [&](const std::string& key, const std::string& value, const std::string& why) {
        return source.error(key, why, value);
    };
    const std::pair<const char*, const std::string*> actions[] = {{"url-listed-action", &raw.url_listed},
                                                                  {"url-shortener-action", &raw.url_shortener},
                                                                  {"url-unknown-action", &raw.url_unknown},
                                                                  {"url-incomplete-action", &raw.url_incomplete}};
    for (std::size_t i = 0; i < std::size(actions); ++i) {
        auto a = parse_url_action(*actions[i].second);
        if (!a) return bad(actions[i].first, *actions[i].second, "expected pass, warn, hold, tempfail or reject");
        u.policy.actions.set(static_cast<url_risk>(i), *a);
    }
    for (const auto& spec : raw.url_zones) {
        auto z = parse_blocklist_zone(spec);
        if (!z) return bad("url-blocklist", spec, z.error());
        u.zones.push_back(std::move(*z));
    }
    for (const auto& spec : raw.url_sender_actions) {
        auto colon = spec.find(':'), eq = spec.find('=');
        if (colon == std::string::npos || eq == std::string::npos || eq < colon) {
            return bad("url-sender-action", spec, "expected DOMAIN:RISK=ACTION");
        }
        auto domain = registry::normalise_domain(spec.substr(0, colon));
        auto risk = parse_url_risk(spec.substr(colon + 1, eq - colon - 1));
        auto action = parse_url_action(spec.substr(eq + 1));
        if (!domain) return bad("url-sender-action", spec, domain.error());
        if (!risk) return bad("url-sender-action", spec, "RISK is listed, shortener, unknown or incomplete");
        if (!action) return bad("url-sender-action", spec, "ACTION is pass, warn, hold, tempfail or reject");
        auto [it, fresh] = u.policy.by_sender_domain.try_emplace(*domain, u.policy.actions);
        it->second.set(*risk, *action);
    }
    if (u.dns_deadline_ms == 0 || u.dns_deadline_ms > 60000) {
        return bad("url-dns-deadline-ms", std::to_string(u.dns_deadline_ms), "expected 1..60000");
    }
    if (u.limits.max_bytes < 1024 || u.limits.max_urls == 0 || u.limits.max_depth == 0) {
        return bad("url-max-scan-bytes", std::to_string(u.limits.max_bytes), "limits must be positive (bytes >= 1024)");
    }
    return std::nullopt;
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
    return check_url(c.url, raw, source);
}

}  // namespace

config_result parse_milter_config(int argc, const char* const argv[], bool registry_keys) {
    config_result r;
    raw_values raw;
    auto keys = describe(r.config, raw);
    auto read = registry::read_config(
        argc, argv, {.program = "milter", .keys = &keys, .usage = "usage: relaygate-milter [--config FILE] [options]"});
    if (!read) return {config_result::outcome::error, {}, read.error()};
    if (read->help) return {config_result::outcome::help, {}, read->help_text};
    r.config.config_file = read->source.file();
    if (auto e = check(r.config, raw, read->source)) return {config_result::outcome::error, {}, *e};
    if (!registry_keys) return r;
    if (auto ok = registry::validate(r.config.registry, read->source); !ok) {
        return {config_result::outcome::error, {}, ok.error()};
    }
    return r;
}

}  // namespace relaygate::milter
