// milter_config.cpp: Program_options binding and checks for relaygate-milter (see milter_config.hpp).
#include "relaygate/milter/milter_config.hpp"

#include <boost/program_options.hpp>
#include <fstream>
#include <sstream>

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
        ("help,h", "print this help and exit")
        ("config,c", po::value(&c.config_file), "config file (key = value lines; same keys as below)")
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
        ("max-header-bytes", po::value(&c.limits.max_bytes)->default_value(c.limits.max_bytes), "longest From/Sender "
            "value")
        ("max-mailboxes", po::value(&c.limits.max_mailboxes)->default_value(c.limits.max_mailboxes), "most mailboxes "
            "in one From/Sender");
    // clang-format on
    registry::add_registry_options(d, c.registry);
    return d;
}

std::string where(const milter_config& c, const std::string& key, const std::string& value) {
    if (c.config_file.empty()) return "command line";
    auto at = registry::config_location(c.config_file, key, value);
    return at != c.config_file ? at : registry::config_location(c.config_file, "milter." + key, value);
}

// Checks the values Program_options stored as text; the error names the key.
std::optional<std::string> check(milter_config& c, const raw_values& raw) {
    auto bad = [&](const std::string& key, const std::string& value, const std::string& why) {
        return where(c, key, value) + ": key '" + key + "': " + why + " (got '" + value + "')";
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
    static const std::pair<const char*, log::level> levels[] = {{"debug", log::level::debug},
                                                                {"info", log::level::info},
                                                                {"notice", log::level::notice},
                                                                {"warning", log::level::warning},
                                                                {"error", log::level::error}};
    if (auto s = log::parse_sink(raw.log_sink)) {
        c.log_sink = *s;
    } else {
        return bad("log-sink", raw.log_sink, "expected syslog, stderr, both, postlog or postlog:/PATH");
    }
    bool found = false;
    for (auto [name, l] : levels) found = found || (raw.log_level == name && (c.log_level = l, true));
    if (!found) return bad("log-level", raw.log_level, "expected debug, info, notice, warning or error");
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

// Reads the config file: registry keys at the top, milter keys at the top or in
// a [milter] section (the file relaygate-admin and the other daemons share);
// [policy], [watch] and [admin] sections belong to the others and are skipped.
expected<bool, std::string> read_config_file(const std::string& path, const po::options_description& desc,
                                             po::variables_map& vm) {
    std::ifstream in(path);
    if (!in) return unexpected(path + ": cannot open config file");
    std::string key;
    try {
        auto parsed = po::parse_config_file(in, desc, /*allow_unregistered=*/true);
        std::vector<po::option> kept;
        for (auto& opt : parsed.options) {
            key = opt.string_key;
            if (opt.unregistered && key.starts_with("milter.")) {
                opt.string_key = key.substr(7);
                opt.unregistered = desc.find_nothrow(opt.string_key, false) == nullptr;
            }
            auto dot = key.find('.');
            auto section = dot == std::string::npos ? std::string() : key.substr(0, dot);
            if (opt.unregistered && (section == "policy" || section == "watch" || section == "admin")) continue;
            if (opt.unregistered) {
                return unexpected(registry::config_location(path, key) + ": key '" + key + "': unknown key");
            }
            kept.push_back(std::move(opt));
        }
        parsed.options = std::move(kept);
        po::store(parsed, vm);
    } catch (const po::error& e) {
        return unexpected(registry::config_location(path, key) + ": key '" + key + "': " + e.what());  // key as written
    }
    return true;
}

}  // namespace

config_result parse_milter_config(int argc, const char* const argv[]) {
    config_result r;
    raw_values raw;
    auto desc = describe(r.config, raw);
    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, desc), vm);
        if (vm.count("help")) {
            std::ostringstream os;
            os << "usage: relaygate-milter [--config FILE] [options]\n" << desc;
            return {config_result::outcome::help, {}, os.str()};
        }
        if (vm.count("config")) {
            // the command line wins over the file: values stored first are kept
            auto ok = read_config_file(vm["config"].as<std::string>(), desc, vm);
            if (!ok) return {config_result::outcome::error, {}, ok.error()};
        }
        po::notify(vm);
    } catch (const po::error& e) {
        return {config_result::outcome::error, {}, std::string("command line: ") + e.what()};
    }
    if (auto e = check(r.config, raw)) return {config_result::outcome::error, {}, *e};
    auto ok = r.config.config_file.empty() ? registry::validate(r.config.registry)
                                           : registry::validate(r.config.registry, r.config.config_file);
    if (!ok) return {config_result::outcome::error, {}, ok.error()};
    return r;
}

}  // namespace relaygate::milter
