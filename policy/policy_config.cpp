// policy_config.cpp: see policy_config.hpp. The config file goes through the
// registry's parse_config_file(), so every error carries file:line:key.
#include "policy/policy_config.hpp"

#include <boost/program_options.hpp>
#include <iostream>

#include "relaygate/log/log.hpp"

namespace relaygate::policy {
namespace po = boost::program_options;
namespace {

po::options_description describe(daemon_config& c) {
    po::options_description d("relaygate-policy options (command line or config file, key = value)");
    auto multi = [](std::vector<std::string>* v) { return po::value(v)->composing(); };
    auto add = d.add_options();
    add("policy-listen", po::value(&c.policy_listen)->default_value(c.policy_listen),
        "check_policy_service endpoint (inet:HOST:PORT or unix:PATH; empty = off)");
    add("socketmap-listen", po::value(&c.socketmap_listen)->default_value(c.socketmap_listen),
        "transport_maps socketmap endpoint (empty = off)");
    add("socketmap-name", multi(&c.socketmap_names), "socketmap name(s) answered (default transport)");
    add("microsoft-domains", po::value(&c.microsoft_domains)->default_value(c.microsoft_domains),
        "Microsoft-family domain list file");
    add("family", po::value(&c.family)->default_value(c.family), "egress state family name");
    add("designated-transport", po::value(&c.designated_transport)->default_value(c.designated_transport),
        "master.cf transport of the designated IP");
    add("spare-transport", multi(&c.spare_transports),
        "failover transport(s) the egress state may select (default msft-spare)");
    add("transport-nexthop", po::value(&c.transport_nexthop),
        "next hop after 'transport:' (empty = MX of the recipient domain)");
    add("mx-detection", po::value(&c.mx_detection)->default_value(c.mx_detection),
        "detect Microsoft-hosted domains by MX");
    add("mx-suffix", multi(&c.mx_suffixes),
        "MX host suffix meaning Microsoft (default: mail.protection.outlook.com, olc.protection.outlook.com, "
        "mx.microsoft)");
    add("mx-wait-ms", po::value(&c.mx_wait_ms)->default_value(c.mx_wait_ms),
        "how long a lookup waits for its MX answer before TEMP");
    add("mx-cache-size", po::value(&c.mx_cache_size)->default_value(c.mx_cache_size), "MX verdict cache entries (LRU)");
    add("limit", multi(&c.limits), "rate limit DIMENSION:METRIC:MAX/WINDOW, e.g. sender_domain:recipients:1000/1h");
    add("size-cap", multi(&c.size_caps), "size cap CLASS:BYTES (default, operator, registered, other)");
    add("filter-mode", po::value(&c.filter_mode)->default_value(c.filter_mode),
        "answer FILTER <transport>: for Microsoft recipients at RCPT (message-wide!)");
    add("egress-file", po::value(&c.egress_file)->default_value(c.egress_file), "egress state JSON file (no redis)");
    // The same key under relaygate-watch's name, so one shared config file can serve both.
    add("egress-state-file", po::value(&c.egress_file), "same as egress-file (relaygate-watch's key)");
    add("redis", po::value(&c.redis), "Redis host:port or /path.sock: shared egress state and counters");
    add("redis-prefix", po::value(&c.redis_prefix)->default_value(c.redis_prefix), "Redis key prefix");
    add("redis-timeout-ms", po::value(&c.redis_timeout_ms)->default_value(c.redis_timeout_ms), "Redis command timeout");
    add("shared-counters", po::value(&c.shared_counters)->default_value(c.shared_counters),
        "with redis: keep rate counters in Redis");
    add("max-rate-keys", po::value(&c.max_rate_keys)->default_value(c.max_rate_keys),
        "in-process rate counter keys before the oldest are dropped");
    add("max-connections", po::value(&c.max_connections)->default_value(c.max_connections),
        "connections over both listeners");
    add("log-level", po::value(&c.log_level)->default_value(c.log_level), "debug, info, notice, warning, error");
    add("log-sink", po::value(&c.log_sink)->default_value(c.log_sink), relaygate::log::sink_help.data());
    add("user", po::value(&c.user), "run as this user once the listeners are open (when started as root)");
    add("socket-group", po::value(&c.socket_group), "group of the unix listeners (e.g. postfix); empty = as created");
    add("socket-mode", po::value(&c.socket_mode)->default_value(c.socket_mode), "octal mode of the unix listeners");
    registry::add_registry_options(d, c.registry);
    return d;
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
        // [milter] / [watch] sections of a shared file belong to the other daemons; [policy] is ours.
        auto r = registry::parse_config_file(vm["config"].as<std::string>(), desc, vm, {"milter", "watch", "admin"},
                                             "policy");
        if (!r) return unexpected(r.error());
    }
    try {
        po::notify(vm);
    } catch (const std::exception& e) {
        return unexpected(std::string("configuration: ") + e.what());
    }
    // The registry keys are validated when the shared file configures outbound
    // IPs (the milter needs them; the policy daemon uses only the admin file,
    // the operator domains and DNS, so it runs without them too).
    if (!c.registry.outbound_ips.empty()) {
        auto valid =
            c.config_file.empty() ? registry::validate(c.registry) : registry::validate(c.registry, c.config_file);
        if (!valid) return unexpected(valid.error());
    }
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
    auto rules = parse_rate_rules(c.limits);
    if (!rules) return unexpected(rules.error());
    cfg->volume.rules = std::move(*rules);
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
