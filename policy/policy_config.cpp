// policy_config.cpp: see policy_config.hpp. The config file goes through the
// registry's read_config(), so every error carries file:line: key 'k'.
#include "policy/policy_config.hpp"

#include <algorithm>
#include <boost/program_options.hpp>
#include <iostream>

#include "relaygate/log/log.hpp"
#include "relaygate/registry/config_file.hpp"

namespace relaygate::policy {
namespace po = boost::program_options;
namespace rl = relaygate::log;
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
    add("shared-counters", po::value(&c.shared_counters)->default_value(c.shared_counters),
        "with redis: keep rate counters in Redis");
    add("max-rate-keys", po::value(&c.max_rate_keys)->default_value(c.max_rate_keys),
        "in-process rate counter keys before the oldest are dropped");
    add("max-connections", po::value(&c.max_connections)->default_value(c.max_connections),
        "connections per protocol (policy and socketmap each have this many)");
    add("request-deadline-ms", po::value(&c.request_deadline_ms)->default_value(c.request_deadline_ms),
        "a request must be complete this long after its first byte, else the connection is closed");
    add("log-level", po::value(&c.log_level)->default_value(c.log_level), "debug, info, notice, warning, error");
    add("log-sink", po::value(&c.log_sink)->default_value(c.log_sink), relaygate::log::sink_help.data());
    add("user", po::value(&c.user), "run as this user once the listeners are open (when started as root)");
    add("socket-group", po::value(&c.socket_group), "group of the unix listeners (e.g. postfix); empty = as created");
    add("socket-mode", po::value(&c.socket_mode)->default_value(c.socket_mode), "octal mode of the unix listeners");
    registry::add_registry_options(d, c.registry);
    egress::add_egress_options(d, c.egress_keys);
    return d;
}

}  // namespace

expected<std::optional<daemon_config>, std::string> parse_daemon_config(int argc, const char* const argv[]) {
    daemon_config c;
    po::options_description keys = describe(c);
    auto read =
        registry::read_config(argc, argv,
                              {.program = "policy",
                               .keys = &keys,
                               .usage = "relaygate-policy: Postfix policy service and transport_maps socketmap\n"
                                        "usage: relaygate-policy [--config FILE] [options]"});
    if (!read) return unexpected(read.error());
    if (read->help) {
        std::cout << read->help_text << "\n";
        return std::optional<daemon_config>{};
    }
    c.config_file = read->source.file();
    c.source = read->source;
    auto egress = egress::build_egress_topology(c.egress_keys, c.source);
    if (!egress) return unexpected(egress.error());
    c.egress = std::move(*egress);
    // The registry keys are validated when the shared file configures outbound
    // IPs (the milter needs them; the policy daemon uses only the admin file,
    // the operator domains and DNS, so it runs without them too).
    if (!c.registry.outbound_ips.empty()) {
        if (auto valid = registry::validate(c.registry, c.source); !valid) return unexpected(valid.error());
    }
    if (!rl::parse_level(c.log_level)) return unexpected(c.source.error("log-level", "unknown level", c.log_level));
    if (!rl::parse_sink(c.log_sink)) {
        return unexpected(
            c.source.error("log-sink", "want syslog, stderr, both, postlog or postlog:/PATH", c.log_sink));
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
    if (const auto* f = c.egress.family(c.family)) {  // failover= names the family: its transports win
        s.designated = f->designated;
        if (std::find(s.spares.begin(), s.spares.end(), f->spare) == s.spares.end()) s.spares.push_back(f->spare);
    }
    s.nexthop = c.transport_nexthop;
    s.mx_detection = c.mx_detection;
    if (!c.mx_suffixes.empty()) s.mx_suffixes = c.mx_suffixes;
    s.map_names = c.socketmap_names;
    const auto& src = c.source;
    if (s.designated.empty()) return unexpected(src.error("designated-transport", "must not be empty"));
    for (const auto& t : s.spares) {
        if (t.empty() || t.find_first_of(" :\t") != std::string::npos)
            return unexpected(src.error("spare-transport", "bad transport name", t));
    }
    for (const auto& l : c.limits) {  // each one first, so the error names its line
        if (auto r = parse_rate_rule(l); !r) return unexpected(src.error("limit", r.error(), l));
    }
    auto rules = parse_rate_rules(c.limits);
    if (!rules) return unexpected(src.error("limit", rules.error()));
    cfg->volume.rules = std::move(*rules);
    for (const auto& sc : c.size_caps) {
        auto r = parse_size_cap(sc);
        if (!r) return unexpected(src.error("size-cap", r.error(), sc));
        cfg->volume.size_caps[r->first] = r->second;
    }
    if (c.mx_wait_ms <= 0 || c.mx_wait_ms > 60000) {
        return unexpected(src.error("mx-wait-ms", "must be 1..60000", std::to_string(c.mx_wait_ms)));
    }
    cfg->mx_wait_ms = c.mx_wait_ms;
    if (c.request_deadline_ms < 100 || c.request_deadline_ms > 600000) {
        return unexpected(
            src.error("request-deadline-ms", "must be 100..600000", std::to_string(c.request_deadline_ms)));
    }
    cfg->filter_mode = c.filter_mode;
    return std::shared_ptr<const service_config>(std::move(cfg));
}

}  // namespace relaygate::policy
