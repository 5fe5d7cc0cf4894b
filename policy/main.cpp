// main.cpp: relaygate-policy. Reads the config, opens the two listeners
// (policy delegation, transport_maps socketmap), wires the state back ends
// (in-process or Redis counters, file or Redis egress state), the DNS resolver
// and the registry snapshot, then runs the event loop until SIGTERM. SIGHUP
// reloads the config file's reloadable part and the domain list.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <iostream>
#include <optional>

#include "policy/listen_address.hpp"
#include "policy/policy_config.hpp"
#include "policy/policy_server.hpp"
#include "policy/policy_service.hpp"
#include "relaygate/dns/dns_resolver.hpp"
#include "relaygate/log/log.hpp"
#include "relaygate/registry/privilege_drop.hpp"
#include "relaygate/registry/registry_loader.hpp"
#include "relaygate/registry/service_notify.hpp"

namespace rp = relaygate::policy;
namespace rl = relaygate::log;

namespace {

bool parse_level(const std::string& s, rl::level& out) {
    static const std::pair<const char*, rl::level> names[] = {{"debug", rl::level::debug},
                                                              {"info", rl::level::info},
                                                              {"notice", rl::level::notice},
                                                              {"warning", rl::level::warning},
                                                              {"error", rl::level::error}};
    for (auto& [n, l] : names) {
        if (s == n) {
            out = l;
            return true;
        }
    }
    return false;
}

// "host:port" or "/path.sock" into hiredis arguments.
bool split_redis(const std::string& spec, std::string& host, int& port) {
    if (spec.starts_with("/")) {
        host = spec;
        port = 0;
        return true;
    }
    auto colon = spec.rfind(':');
    if (colon == std::string::npos) return false;
    host = spec.substr(0, colon);
    try {
        port = std::stoi(spec.substr(colon + 1));
    } catch (...) {
        return false;
    }
    return port > 0 && port < 65536;
}

std::optional<unsigned> parse_mode(const std::string& s) {
    unsigned mode = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), mode, 8);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || mode > 0777) return std::nullopt;
    return mode;
}

int fail(const std::string& why) {
    std::cerr << "relaygate-policy: " << why << "\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    auto parsed = rp::parse_daemon_config(argc, argv);
    if (!parsed) return fail(parsed.error());
    if (!parsed->has_value()) return 0;  // --help
    rp::daemon_config cfg = **parsed;

    rl::level lvl{};
    if (!parse_level(cfg.log_level, lvl)) return fail("log-level: unknown level '" + cfg.log_level + "'");
    const auto where = rl::parse_sink(cfg.log_sink);
    if (!where)
        return fail("log-sink: want syslog, stderr, both, postlog or postlog:/PATH, got '" + cfg.log_sink + "'");
    rl::configure("relaygate-policy", *where, lvl);

    auto service_cfg = rp::build_service_config(cfg);
    if (!service_cfg) return fail(service_cfg.error());

    std::optional<unsigned> socket_mode = parse_mode(cfg.socket_mode);
    if (!socket_mode) return fail("socket-mode: want an octal mode like 0660, got '" + cfg.socket_mode + "'");

    std::string redis_host;
    int redis_port = 0;
    if (!cfg.redis.empty() && !split_redis(cfg.redis, redis_host, redis_port))
        return fail("redis: want host:port or /path.sock, got '" + cfg.redis + "'");

    // Thousands of idle Postfix connections: use the hard descriptor limit.
    if (rlimit rl{}; ::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }

    // Block the signals before any thread starts, so only the signalfd sees them.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    signal(SIGPIPE, SIG_IGN);

    std::shared_ptr<relaygate::egress::egress_store> store =
        cfg.redis.empty() ? relaygate::egress::make_file_egress_store(cfg.egress_file)
                          : relaygate::egress::make_redis_egress_store(redis_host, redis_port, cfg.redis_prefix);
    auto counters = !cfg.redis.empty() && cfg.shared_counters
                        ? rp::make_redis_counter_store(redis_host, redis_port, cfg.redis_prefix, cfg.redis_timeout_ms)
                        : rp::make_local_counter_store(cfg.max_rate_keys);
    auto egress = std::make_unique<rp::egress_view>(store, cfg.family);

    // The registry snapshot (sender classes for size caps). A broken admin file
    // at start leaves the snapshot empty (every sender "other") and is logged;
    // the reloader keeps retrying on change and on SIGHUP, like the milter.
    relaygate::registry::registry_handle registry;
    if (auto snap = relaygate::registry::load_snapshot(cfg.registry)) {
        registry.publish(*snap);
    } else {
        rl::error("- registry_load_failed using=empty error=" + rl::quote(snap.error()));
    }
    relaygate::registry::registry_reloader reloader(cfg.registry, registry);
    rp::policy_service service(*service_cfg, std::move(counters), std::move(egress), nullptr, &registry,
                               cfg.mx_cache_size);
    rp::server_limits limits;
    limits.max_connections = cfg.max_connections;
    rp::policy_server server(service, limits);
    service.attach(server);
    service.set_min_log_level(lvl);
    service.set_config_loader([cfg] { return rp::build_service_config(cfg); });
    service.set_reload_hook([&reloader] { reloader.request_reload(); });

    std::vector<std::string> unix_paths;  // removed at stop, so a stopped service leaves no socket behind
    for (auto [spec, proto] : {std::pair{cfg.policy_listen, rp::protocol::policy},
                               std::pair{cfg.socketmap_listen, rp::protocol::socketmap}}) {
        if (spec.empty()) continue;
        auto addr = rp::parse_listen_address(spec);
        if (!addr) return fail(addr.error());
        auto fd = rp::open_listener(*addr);
        if (!fd) return fail(fd.error());
        if (addr->is_unix) {
            unix_paths.push_back(addr->path);
            auto ok = relaygate::privilege::secure_socket(addr->path, *socket_mode, cfg.socket_group);
            if (!ok) return fail(ok.error());
        }
        server.add_listener(*fd, proto);
        rl::notice(std::string("- listening protocol=") + (proto == rp::protocol::policy ? "policy" : "socketmap") +
                   " address=" + addr->text());
    }
    // Bound and secured: from here on the daemon reads the network, so no root.
    if (auto ok = relaygate::privilege::drop_to(cfg.user); !ok) return fail(ok.error());
    server.handle_signals();

    // Declared after the server: destroyed first, so no answer is posted to a dead loop.
    relaygate::dns::resolver resolver({.forwarders = cfg.registry.dns_forwarders, .timeout = cfg.registry.dns_timeout});
    service.set_mx_lookup([&resolver](std::string domain, std::function<void(relaygate::dns::answer)> cb) {
        resolver.resolve_async(std::move(domain), relaygate::dns::rr_type::mx,
                               [cb = std::move(cb)](const relaygate::dns::answer& a) { cb(a); });
    });
    rl::notice("- started microsoft_domains=" + std::to_string((*service_cfg)->microsoft_domains.size()) +
               " limits=" + std::to_string((*service_cfg)->volume.rules.size()) +
               " counters=" + (cfg.redis.empty() || !cfg.shared_counters ? "local" : "redis") +
               " egress=" + (cfg.redis.empty() ? "file" : "redis"));
    relaygate::service::ready();  // Type=notify: both listeners accept from here on
    server.run();
    relaygate::service::stopping();
    for (const auto& path : unix_paths) ::unlink(path.c_str());  // best effort; a stale one is replaced at start
    rl::notice("- stopped");
    return 0;
}
