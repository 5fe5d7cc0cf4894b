// main.cpp: relaygate-milter — reads the config, opens the signer, loads the
// first registry snapshot and its signing keys (failing at start if it cannot),
// starts the reloader, opens the rejection log, loads the URL check when it is on,
// then hands over to the libmilter shell.
// SIGHUP: reload the registry and reopen the rejection log; SIGTERM: stop.
#include <pthread.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "milter_shell.hpp"
#include "relaygate/dns/dns_resolver.hpp"
#include "relaygate/log/log.hpp"
#include "relaygate/milter/connection_gate.hpp"
#include "relaygate/milter/milter_config.hpp"
#include "relaygate/registry/fd_limit.hpp"
#include "relaygate/registry/registry_loader.hpp"

using namespace relaygate;

namespace {

// Block the stop/reload signals before any thread exists, so that every thread
// inherits the mask and only libmilter's signal thread (sigwait) receives them.
void block_signals() {
    sigset_t signals;
    sigemptyset(&signals);
    for (int s : {SIGHUP, SIGTERM, SIGINT}) sigaddset(&signals, s);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

// The signer with the operator keys (null when signing is off), or the start error.
expected<std::unique_ptr<milter::dkim_signer>, std::string> make_signer(const milter::milter_config& cfg) {
    if (!cfg.signing) return std::unique_ptr<milter::dkim_signer>();
    auto signer = std::make_unique<milter::dkim_signer>();
    for (const auto& k : cfg.operator_keys) {
        if (auto ok = signer->add_operator_key(k.domain, k.selector, k.key_path); !ok) {
            return unexpected("reason=operator_key error=" + log::quote(ok.error()));
        }
    }
    return signer;
}

// Descriptors kept free of MTA connections: the listener, logs, key files, libmilter's pipes.
constexpr std::uint64_t reserved_fds = 64;

// The soft descriptor limit raised to the hard one, logged once; max-connections
// lowered (and said so) when the limit cannot hold that many connections.
unsigned connection_cap(const milter::milter_config& cfg) {
    const auto fds = fd_limit::raise_to_hard();
    unsigned cap = cfg.max_connections;
    if (fds.soft < cap + reserved_fds)
        cap = static_cast<unsigned>(fds.soft > 2 * reserved_fds ? fds.soft - reserved_fds : fds.soft / 2);
    if (cap == 0) cap = 1;
    const std::string fields = fd_limit::log_fields(fds) + " max_connections=" + std::to_string(cap);
    if (cap < cfg.max_connections) {
        log::warning("- fd_limit " + fields + " configured_max_connections=" + std::to_string(cfg.max_connections) +
                     " reason=fd_limit_too_low");
    } else {
        log::notice("- fd_limit " + fields);
    }
    return cap;
}

// The URL check: its files are read once at start (a bad one stops the start); its
// resolver exists only when blocklist zones are configured. Empty when url-check is off.
struct url_check {
    std::unique_ptr<dns::resolver> resolver;  // declared first: outlives the checker that uses it
    std::unique_ptr<milter::url_checker> checker;
};

std::optional<std::string> load_url_check(const milter::milter_config& cfg, url_check& out) {
    if (!cfg.url.enabled) return std::nullopt;
    if (!cfg.url.zones.empty()) {
        out.resolver = std::make_unique<dns::resolver>(dns::resolver_options{
            .forwarders = cfg.registry.dns_forwarders,
            .timeout = std::chrono::milliseconds(cfg.url.dns_deadline_ms),
        });
    }
    auto loaded = milter::url_checker::load(cfg.url, out.resolver.get());
    if (!loaded) return loaded.error();
    out.checker = std::move(*loaded);
    return std::nullopt;
}

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

// ~65 lines: the start order (config, descriptors, signer, registry, logs, URL check) reads top to bottom.
int main(int argc, char** argv) {
    block_signals();
    auto parsed = milter::parse_milter_config(argc, argv);
    if (parsed.what != milter::config_result::outcome::run) {
        const bool help = parsed.what == milter::config_result::outcome::help;
        std::fprintf(help ? stdout : stderr, help ? "%s" : "relaygate-milter: %s\n", parsed.text.c_str());
        return help ? 0 : 2;
    }
    const milter::milter_config& cfg = parsed.config;
    log::configure("relaygate-milter", cfg.log_sink, cfg.log_level);
    milter::connection_gate gate(connection_cap(cfg));

    auto made = make_signer(cfg);
    if (!made) {
        log::error("- start_failed " + made.error());
        return 1;
    }
    // Each snapshot's signing keys are parsed before it is published: a bad key
    // stops the start, or fails a reload (the old snapshot and its keys stay).
    registry::registry_reloader::prepare_hook prepare_keys;
    std::unique_ptr<milter::dkim_signer> signer = std::move(*made);
    if (signer) prepare_keys = [&signer](const auto& snapshot) { return signer->prepare(snapshot); };
    auto first = registry::load_snapshot(cfg.registry);
    if (first && prepare_keys) {
        if (auto ok = prepare_keys(*first); !ok) first = unexpected(ok.error());
    }
    if (!first) {
        log::error("- start_failed reason=registry error=" + log::quote(first.error()));
        return 1;
    }
    registry::registry_handle handle(*first);
    registry::registry_reloader reloader(cfg.registry, handle, std::chrono::milliseconds(1000), prepare_keys);

    milter::rejection_log rejections;
    if (!cfg.rejection_log.empty()) {
        if (auto ok = rejections.open(cfg.rejection_log); !ok) {
            log::error("- start_failed reason=rejection_log error=" + log::quote(ok.error()));
            return 1;
        }
    }
    url_check urls;
    if (auto problem = load_url_check(cfg, urls)) {
        log::error("- start_failed reason=url_check error=" + log::quote(*problem));
        return 1;
    }
    milter::milter_runtime runtime{
        .config = &cfg,
        .registry = &handle,
        .signer = signer.get(),
        .rejections = &rejections,
        .gate = &gate,
        .urls = urls.checker.get(),
        .clock = unix_now,
        .on_sighup =
            [&] {
                reloader.request_reload();
                auto ok = rejections.reopen();
                log::notice("- sighup registry_reload=requested rejection_log=" +
                            std::string(ok ? "reopened" : "reopen_failed error=" + log::quote(ok.error())));
            },
    };
    int rc = milter::run_milter(runtime);
    log::notice(std::string("- stopped rc=") + std::to_string(rc));
    return rc;
}
