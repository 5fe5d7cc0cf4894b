// policy_config.cpp: see policy_config.hpp. The config file is fed to
// Program_options one line at a time, so every error carries its line number.
#include "policy/policy_config.hpp"

#include <boost/program_options.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

namespace relaygate::policy {
namespace po = boost::program_options;
namespace {

po::options_description describe(daemon_config& c) {
    po::options_description d("relaygate-policy options (command line or config file, key = value)");
    auto multi = [](std::vector<std::string>* v) { return po::value(v)->composing(); };
    d.add_options()("policy-listen", po::value(&c.policy_listen)->default_value(c.policy_listen),
                    "check_policy_service endpoint (inet:HOST:PORT or unix:PATH; empty = off)")(
        "socketmap-listen", po::value(&c.socketmap_listen)->default_value(c.socketmap_listen),
        "transport_maps socketmap endpoint (empty = off)")("socketmap-name", multi(&c.socketmap_names),
                                                           "socketmap name(s) answered (default transport)")(
        "microsoft-domains", po::value(&c.microsoft_domains)->default_value(c.microsoft_domains),
        "Microsoft-family domain list file")("family", po::value(&c.family)->default_value(c.family),
                                             "egress state family name")(
        "designated-transport", po::value(&c.designated_transport)->default_value(c.designated_transport),
        "master.cf transport of the designated IP")(
        "spare-transport", multi(&c.spare_transports),
        "failover transport(s) the egress state may select (default msft-spare)")(
        "transport-nexthop", po::value(&c.transport_nexthop),
        "next hop after 'transport:' (empty = MX of the recipient domain)")(
        "mx-detection", po::value(&c.mx_detection)->default_value(c.mx_detection),
        "detect Microsoft-hosted domains by MX")(
        "mx-suffix", multi(&c.mx_suffixes),
        "MX host suffix meaning Microsoft (default: mail.protection.outlook.com, olc.protection.outlook.com, "
        "mx.microsoft)")("mx-wait-ms", po::value(&c.mx_wait_ms)->default_value(c.mx_wait_ms),
                         "how long a lookup waits for its MX answer before TEMP")(
        "mx-cache-size", po::value(&c.mx_cache_size)->default_value(c.mx_cache_size), "MX verdict cache entries (LRU)")(
        "limit", multi(&c.limits), "rate limit DIMENSION:METRIC:MAX/WINDOW, e.g. sender_domain:recipients:1000/1h")(
        "size-cap", multi(&c.size_caps), "size cap CLASS:BYTES (default, operator, registered, other)")(
        "filter-mode", po::value(&c.filter_mode)->default_value(c.filter_mode),
        "answer FILTER <transport>: for Microsoft recipients at RCPT (message-wide!)")(
        "egress-file", po::value(&c.egress_file)->default_value(c.egress_file),
        "egress state JSON file (when no redis)")("redis", po::value(&c.redis),
                                                  "Redis host:port or /path.sock for shared egress state and counters")(
        "redis-prefix", po::value(&c.redis_prefix)->default_value(c.redis_prefix), "Redis key prefix")(
        "redis-timeout-ms", po::value(&c.redis_timeout_ms)->default_value(c.redis_timeout_ms), "Redis command timeout")(
        "shared-counters", po::value(&c.shared_counters)->default_value(c.shared_counters),
        "with redis: keep rate counters in Redis")("max-rate-keys",
                                                   po::value(&c.max_rate_keys)->default_value(c.max_rate_keys),
                                                   "in-process rate counter keys before the oldest are dropped")(
        "max-connections", po::value(&c.max_connections)->default_value(c.max_connections),
        "connections over both listeners")("dns-forwarder", multi(&c.dns_forwarders),
                                           "DNS server IP or IP@PORT (default: /etc/resolv.conf)")(
        "dns-timeout-ms", po::value(&c.dns_timeout_ms)->default_value(c.dns_timeout_ms), "per DNS query")(
        "log-level", po::value(&c.log_level)->default_value(c.log_level), "debug, info, notice, warning, error")(
        "log-sink", po::value(&c.log_sink)->default_value(c.log_sink), "syslog, stderr, both");
    return d;
}

std::string trim(std::string s) {
    auto b = s.find_first_not_of(" \t\r");
    auto e = s.find_last_not_of(" \t\r");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// Feeds the file line by line so an error names its line.
expected<bool, std::string> parse_file(const std::string& path, const po::options_description& desc,
                                       po::variables_map& vm) {
    std::ifstream in(path);
    if (!in) return unexpected(path + ": cannot open config file");
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        std::string t = trim(line);
        if (t.empty() || t[0] == '#') continue;
        auto eq = t.find('=');
        std::string key = trim(t.substr(0, eq));
        if (eq == std::string::npos)
            return unexpected(path + ":" + std::to_string(n) + ": " + key + ": expected key = value");
        std::istringstream one(key + "=" + trim(t.substr(eq + 1)) + "\n");
        try {
            po::store(po::parse_config_file(one, desc, false), vm);
        } catch (const std::exception& e) {
            return unexpected(path + ":" + std::to_string(n) + ": " + key + ": " + e.what());
        }
    }
    return true;
}

}  // namespace

expected<std::optional<daemon_config>, std::string> parse_daemon_config(int argc, const char* const argv[]) {
    daemon_config c;
    po::options_description desc = describe(c);
    po::options_description cli("command line only");
    cli.add_options()("help,h", "print this help")("config,c", po::value(&c.config_file), "config file");
    po::options_description all;
    all.add(cli).add(desc);
    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, all), vm);
    } catch (const std::exception& e) {
        return unexpected(std::string("command line: ") + e.what());
    }
    if (vm.count("help")) {
        std::cout << "relaygate-policy: Postfix policy service and transport_maps socketmap\n\n" << all << "\n";
        return std::optional<daemon_config>{};
    }
    if (vm.count("config")) {
        auto r = parse_file(vm["config"].as<std::string>(), desc, vm);
        if (!r) return unexpected(r.error());
    }
    try {
        po::notify(vm);
    } catch (const std::exception& e) {
        return unexpected(std::string("configuration: ") + e.what());
    }
    // composing() vectors with no value keep their defaults only when untouched.
    if (!vm.count("socketmap-name")) c.socketmap_names = {"transport"};
    if (!vm.count("spare-transport")) c.spare_transports = {"msft-spare"};
    return std::optional<daemon_config>{c};
}

expected<std::shared_ptr<const service_config>, std::string> build_service_config(const daemon_config& c) {
    auto cfg = std::make_shared<service_config>();
    auto list = domain_list::load(c.microsoft_domains);
    if (!list) return unexpected(list.error());
    cfg->microsoft_domains = std::move(*list);
    auto& s = cfg->steering;
    s.family = c.family;
    s.designated = c.designated_transport;
    s.spares = c.spare_transports;
    s.nexthop = c.transport_nexthop;
    s.mx_detection = c.mx_detection;
    if (!c.mx_suffixes.empty()) s.mx_suffixes = c.mx_suffixes;
    s.map_names = c.socketmap_names;
    if (s.designated.empty()) return unexpected(std::string("designated-transport: must not be empty"));
    for (const auto& t : s.spares) {
        if (t.empty() || t.find_first_of(" :\t") != std::string::npos)
            return unexpected("spare-transport: bad transport name '" + t + "'");
    }
    for (const auto& l : c.limits) {
        auto r = parse_rate_rule(l);
        if (!r) return unexpected(r.error());
        cfg->volume.rules.push_back(*r);
    }
    if (cfg->volume.rules.size() > 16) return unexpected(std::string("limit: at most 16 limits"));
    for (const auto& sc : c.size_caps) {
        auto r = parse_size_cap(sc);
        if (!r) return unexpected(r.error());
        cfg->volume.size_caps[r->first] = r->second;
    }
    if (c.mx_wait_ms <= 0 || c.mx_wait_ms > 60000) return unexpected(std::string("mx-wait-ms: 1..60000"));
    cfg->mx_wait_ms = c.mx_wait_ms;
    cfg->filter_mode = c.filter_mode;
    return std::shared_ptr<const service_config>(std::move(cfg));
}

}  // namespace relaygate::policy
