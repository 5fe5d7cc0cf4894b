// main.cpp: relaygate-milter — reads the config, loads the first registry
// snapshot (failing at start if it cannot), starts the reloader, opens the
// rejection log and the signer, then hands over to the libmilter shell.
// SIGHUP: reload the registry and reopen the rejection log; SIGTERM: stop.
#include <pthread.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>

#include "milter_shell.hpp"
#include "relaygate/log/log.hpp"
#include "relaygate/milter/milter_config.hpp"
#include "relaygate/registry/registry_loader.hpp"

using namespace relaygate;

int main(int argc, char** argv) {
    // Block the stop/reload signals before any thread exists, so that every thread
    // inherits the mask and only libmilter's signal thread (sigwait) receives them.
    sigset_t signals;
    sigemptyset(&signals);
    for (int s : {SIGHUP, SIGTERM, SIGINT}) sigaddset(&signals, s);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    auto parsed = milter::parse_milter_config(argc, argv);
    if (parsed.what == milter::config_result::outcome::help) {
        std::fputs(parsed.text.c_str(), stdout);
        return 0;
    }
    if (parsed.what == milter::config_result::outcome::error) {
        std::fprintf(stderr, "relaygate-milter: %s\n", parsed.text.c_str());
        return 2;
    }
    const milter::milter_config& cfg = parsed.config;
    log::configure("relaygate-milter", cfg.log_sink, cfg.log_level);

    auto first = registry::load_snapshot(cfg.registry);
    if (!first) {
        log::error("- start_failed reason=registry error=" + log::quote(first.error()));
        return 1;
    }
    registry::registry_handle handle(*first);
    registry::registry_reloader reloader(cfg.registry, handle);

    std::unique_ptr<milter::dkim_signer> signer;
    if (cfg.signing) {
        signer = std::make_unique<milter::dkim_signer>();
        for (const auto& k : cfg.operator_keys) {
            if (auto ok = signer->add_operator_key(k.domain, k.selector, k.key_path); !ok) {
                log::error("- start_failed reason=operator_key error=" + log::quote(ok.error()));
                return 1;
            }
        }
    }
    milter::rejection_log rejections;
    if (!cfg.rejection_log.empty()) {
        if (auto ok = rejections.open(cfg.rejection_log); !ok) {
            log::error("- start_failed reason=rejection_log error=" + log::quote(ok.error()));
            return 1;
        }
    }

    milter::milter_runtime runtime{
        .config = &cfg,
        .registry = &handle,
        .signer = signer.get(),
        .rejections = &rejections,
        .clock =
            [] {
                return std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                    .count();
            },
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
