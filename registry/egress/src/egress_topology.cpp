// egress_topology.cpp: the shared egress keys and their one check (see egress_topology.hpp).
#include "relaygate/egress/egress_topology.hpp"

#include <algorithm>
#include <boost/program_options.hpp>

namespace po = boost::program_options;

namespace relaygate::egress {
namespace {

// Splits "a,b,c" into exactly n non-empty parts; false otherwise.
bool split_exact(std::string_view text, std::size_t n, std::vector<std::string>& out) {
    out.clear();
    for (;;) {
        auto comma = text.find(',');
        out.emplace_back(text.substr(0, comma));
        if (out.back().empty() || out.size() > n) return false;
        if (comma == std::string_view::npos) return out.size() == n;
        text.remove_prefix(comma + 1);
    }
}

// Transport and family names as master.cf allows them (no spaces, no ':', no '=').
bool is_name(std::string_view s) {
    return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '/';
    });
}

}  // namespace

std::optional<failover_family> failover_family::parse(std::string_view spec) {
    const auto eq = spec.find('=');
    std::vector<std::string> parts;
    if (eq == std::string_view::npos || eq == 0 || !split_exact(spec.substr(eq + 1), 3, parts)) return std::nullopt;
    failover_family f{std::string(spec.substr(0, eq)), parts[0], parts[1], parts[2]};
    if (f.designated == f.spare || !is_name(f.family) || !is_name(f.designated) || !is_name(f.spare)) {
        return std::nullopt;
    }
    return f;
}

std::optional<transport_binding> transport_binding::parse(std::string_view spec) {
    const auto eq = spec.find('=');
    if (eq == std::string_view::npos || eq == 0) return std::nullopt;
    // The source IP may be empty ("postfix/smtp=smtp,other,"): split by hand.
    std::string_view rest = spec.substr(eq + 1);
    const auto c1 = rest.find(',');
    const auto c2 = c1 == std::string_view::npos ? c1 : rest.find(',', c1 + 1);
    if (c2 == std::string_view::npos) return std::nullopt;
    transport_binding b{std::string(spec.substr(0, eq)), std::string(rest.substr(0, c1)),
                        std::string(rest.substr(c1 + 1, c2 - c1 - 1)), std::string(rest.substr(c2 + 1))};
    if (b.transport.empty() || b.family.empty()) return std::nullopt;
    return b;
}

const failover_family* egress_topology::family(std::string_view name) const {
    auto it = std::find_if(families.begin(), families.end(), [&](const auto& f) { return f.family == name; });
    return it == families.end() ? nullptr : &*it;
}

std::unique_ptr<egress_store> open_egress_store(const egress_topology& t) {
    return t.redis ? make_redis_egress_store(*t.redis, t.redis_prefix) : make_file_egress_store(t.state_file);
}

void add_egress_options(po::options_description& desc, egress_keys& k) {
    auto add = desc.add_options();
    // Two names of one value: neither has a Program_options default, else the
    // defaulted one would overwrite the other at notify().
    add("egress-state-file", po::value(&k.state_file),
        ("egress state JSON file, when no redis is given (default " + k.state_file + ")").c_str());
    add("egress-file", po::value(&k.state_file), "same as egress-state-file");
    add("redis", po::value(&k.redis), "Redis HOST:PORT or /path.sock: the egress state (and policy counters) there");
    add("redis-prefix", po::value(&k.redis_prefix)->default_value(k.redis_prefix), "Redis key prefix");
    add("redis-timeout-ms", po::value(&k.redis_timeout_ms)->default_value(k.redis_timeout_ms),
        "Redis command timeout of the policy's counters");
    add("failover", po::value(&k.failovers)->composing(),
        "FAMILY=DESIGNATED,SPARE,DESIGNATED_IP: a family's transports (repeatable, one per family)");
    add("transport", po::value(&k.transports)->composing(),
        "SYSLOG_SERVICE=TRANSPORT,FAMILY,SOURCE_IP: a transport as the maillog names it (repeatable)");
}

expected<egress_topology, std::string> build_egress_topology(const egress_keys& k,
                                                             const registry::config_source& source) {
    egress_topology t;
    t.state_file = k.state_file;
    t.redis_prefix = k.redis_prefix;
    if (!k.redis.empty()) {
        t.redis = redis_endpoint::parse(k.redis);
        if (!t.redis) return unexpected(source.error("redis", "want HOST:PORT or /path.sock", k.redis));
    } else if (t.state_file.empty()) {
        return unexpected(source.error("egress-state-file", "must not be empty without redis"));
    }
    if (k.redis_timeout_ms <= 0 || k.redis_timeout_ms > 60000) {
        return unexpected(source.error("redis-timeout-ms", "must be 1..60000", std::to_string(k.redis_timeout_ms)));
    }
    t.redis_timeout = std::chrono::milliseconds(k.redis_timeout_ms);
    for (const auto& spec : k.failovers) {
        auto f = failover_family::parse(spec);
        if (!f) return unexpected(source.error("failover", "not FAMILY=DESIGNATED,SPARE,DESIGNATED_IP", spec));
        if (t.family(f->family) != nullptr) {
            return unexpected(source.error("failover", "family " + f->family + " is given twice", spec));
        }
        t.families.push_back(std::move(*f));
    }
    for (const auto& spec : k.transports) {
        auto b = transport_binding::parse(spec);
        if (!b) return unexpected(source.error("transport", "not SERVICE=TRANSPORT,FAMILY,IP", spec));
        t.transports.push_back(std::move(*b));
    }
    return t;
}

}  // namespace relaygate::egress
