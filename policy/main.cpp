// main.cpp: relaygate-policy. Reads the config, opens the two listeners
// (policy delegation, transport_maps socketmap), wires the state back ends
// (in-process or Redis counters, file or Redis egress state), the DNS resolver
// and the registry snapshot, then runs the event loop until SIGTERM. SIGHUP
// reloads the config file's reloadable part and the domain list.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <iostream>
#include <optional>

#include "policy/listen_address.hpp"
#include "policy/policy_config.hpp"
#include "policy/policy_server.hpp"
#include "policy/policy_service.hpp"
#include "policy/redis_counter_store.hpp"
#include "relaygate/dns/dns_resolver.hpp"
#include "relaygate/log/log.hpp"
#include "relaygate/registry/fd_limit.hpp"
#include "relaygate/registry/privilege_drop.hpp"
#include "relaygate/registry/registry_loader.hpp"
#include "relaygate/registry/service_notify.hpp"

namespace rp = relaygate::policy;
namespace rl = relaygate::log;

namespace {

int fail(const std::string& why) {
    std::cerr << "relaygate-policy: " << why << "\n";
    return 2;
}

// Thousands of idle Postfix connections: use the hard descriptor limit (the
// figures go on the start line). Block the signals before any thread starts,
// so only the server's signalfd sees them.
relaygate::fd_limit::figures prepare_process() {
    auto fds = relaygate::fd_limit::raise_to_hard();
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGHUP, SIGTERM, SIGINT}) sigaddset(&set, s);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    signal(SIGPIPE, SIG_IGN);
    return fds;
}

std::unique_ptr<rp::counter_store> make_counters(const rp::daemon_config& cfg) {
    if (!cfg.egress.redis || !cfg.shared_counters) return rp::make_local_counter_store(cfg.max_rate_keys);
    return rp::make_redis_counter_store(*cfg.egress.redis, cfg.egress.redis_prefix,
                                        static_cast<int>(cfg.egress.redis_timeout.count()));
}

// The last known egress route, beside the verification state (the state dir):
// what steering uses when the egress store fails (docs/policy.md "Faults").
std::string last_good_file(const rp::daemon_config& cfg) {
    return (std::filesystem::path(cfg.registry.state_file).parent_path() / ("egress-last-good." + cfg.family + ".json"))
        .string();
}

// The registry snapshot (sender classes for size caps). A broken admin file
// at start leaves the snapshot empty (every sender "other") and is logged;
// the reloader keeps retrying on change and on SIGHUP, like the milter.
void load_first_snapshot(const rp::daemon_config& cfg, relaygate::registry::registry_handle& registry) {
    if (auto snap = relaygate::registry::load_snapshot(cfg.registry)) {
        registry.publish(*snap);
    } else {
        rl::error("- registry_load_failed using=empty error=" + rl::quote(snap.error()));
    }
}

std::optional<unsigned> parse_mode(const std::string& s) {
    unsigned mode = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), mode, 8);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || mode > 0777) return std::nullopt;
    return mode;
}

// Opens both listeners; unix ones get socket-mode and socket-group (Postfix's)
// and their paths are added to unix_paths, removed at stop.
relaygate::expected<bool, std::string> open_listeners(const rp::daemon_config& cfg, rp::policy_server& server,
                                                      std::vector<std::string>& unix_paths) {
    std::optional<unsigned> socket_mode = parse_mode(cfg.socket_mode);
    if (!socket_mode)
        return relaygate::unexpected("socket-mode: want an octal mode like 0660, got '" + cfg.socket_mode + "'");
    for (auto [spec, proto] : {std::pair{cfg.policy_listen, rp::protocol::policy},
                               std::pair{cfg.socketmap_listen, rp::protocol::socketmap}}) {
        if (spec.empty()) continue;
        auto addr = rp::parse_listen_address(spec);
        if (!addr) return relaygate::unexpected(addr.error());
        auto fd = rp::open_listener(*addr);
        if (!fd) return relaygate::unexpected(fd.error());
        if (addr->is_unix) {
            unix_paths.push_back(addr->path);
            auto ok = relaygate::privilege::secure_socket(addr->path, *socket_mode, cfg.socket_group);
            if (!ok) return relaygate::unexpected(ok.error());
        }
        server.add_listener(*fd, proto);
        rl::notice(std::string("- listening protocol=") + (proto == rp::protocol::policy ? "policy" : "socketmap") +
                   " address=" + addr->text());
    }
    return true;
}

// The daemon: config, listeners, back ends, event loop (main() only adds the exception barrier).
int run(int argc, char** argv) {
    auto parsed = rp::parse_daemon_config(argc, argv);
    if (!parsed) return fail(parsed.error());
    if (!parsed->has_value()) return 0;  // --help
    const rp::daemon_config cfg = **parsed;
    const auto lvl = *rl::parse_level(cfg.log_level);  // validated by parse_daemon_config
    rl::configure("relaygate-policy", *rl::parse_sink(cfg.log_sink), lvl);
    auto service_cfg = rp::build_service_config(cfg);
    if (!service_cfg) return fail(service_cfg.error());
    const auto fds = prepare_process();

    std::shared_ptr<relaygate::egress::egress_store> store = relaygate::egress::open_egress_store(cfg.egress);
    relaygate::registry::registry_handle registry;
    load_first_snapshot(cfg, registry);
    relaygate::registry::registry_reloader reloader(cfg.registry, registry);
    rp::policy_service service(*service_cfg, make_counters(cfg),
                               std::make_unique<rp::egress_view>(store, cfg.family, last_good_file(cfg)), nullptr,
                               &registry, cfg.mx_cache_size);
    rp::policy_server server(service, {.max_connections = cfg.max_connections,
                                       .request_deadline = std::chrono::milliseconds(cfg.request_deadline_ms)});
    service.attach(server);
    service.set_min_log_level(lvl);
    service.set_config_loader([cfg] { return rp::build_service_config(cfg); });
    service.set_reload_hook([&reloader] { reloader.request_reload(); });
    std::vector<std::string> unix_paths;  // removed at stop, so a stopped service leaves no socket behind
    if (auto ok = open_listeners(cfg, server, unix_paths); !ok) return fail(ok.error());
    // Bound and secured: from here on the daemon reads the network, so no root.
    if (auto ok = relaygate::privilege::drop_to(cfg.user); !ok) return fail(ok.error());
    server.handle_signals();

    // Declared after the server: destroyed first, so no answer is posted to a dead loop.
    relaygate::dns::resolver resolver({.forwarders = cfg.registry.dns_forwarders, .timeout = cfg.registry.dns_timeout});
    service.set_mx_lookup([&resolver](const std::string& domain, std::function<void(relaygate::dns::answer)> cb) {
        resolver.resolve_async(domain, relaygate::dns::rr_type::mx,
                               [cb = std::move(cb)](const relaygate::dns::answer& a) { cb(a); });
    });
    const bool redis = cfg.egress.redis.has_value();
    rl::notice("- started microsoft_domains=" + std::to_string((*service_cfg)->microsoft_domains.size()) +
               " limits=" + std::to_string((*service_cfg)->volume.rules.size()) + " counters=" +
               (!redis || !cfg.shared_counters ? "local" : "redis") + " egress=" + (redis ? "redis" : "file") +
               " max_connections=" + std::to_string(cfg.max_connections) + " " + relaygate::fd_limit::log_fields(fds));
    relaygate::service::ready();  // Type=notify: both listeners accept from here on
    server.run();
    relaygate::service::stopping();
    for (const auto& path : unix_paths) ::unlink(path.c_str());  // best effort; a stale one is replaced at start
    rl::notice("- stopped");
    return 0;
}

}  // namespace

// A start-up failure that throws (the resolver without a readable
// /etc/resolv.conf, a listener's allocation) ends the daemon with its reason,
// never with std::terminate.
int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        rl::error(std::string("- start_failed error=") + rl::quote(e.what()));
        std::cerr << "relaygate-policy: " << e.what() << "\n";
        return 1;
    }
}
