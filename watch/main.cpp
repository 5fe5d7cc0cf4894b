// main.cpp: relaygate-watch. Parses the options, opens the egress store the
// shared topology names (file, or Redis with --redis), the DNS resolver (only
// when IPs are to be swept), the metrics server and, unless reverify = off, the
// re-verification service; installs the signal flags and runs the daemon loop.
// The failure ledger is listed by `relaygate-admin failures` (docs/watch.md).
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <iostream>

#include "relaygate/dns/dns_resolver.hpp"
#include "relaygate/egress/egress_topology.hpp"
#include "relaygate/log/log.hpp"
#include "relaygate/registry/fd_limit.hpp"
#include "relaygate/registry/privilege_drop.hpp"
#include "relaygate/registry/service_notify.hpp"
#include "watch/metrics_server.hpp"
#include "watch/reverify_service.hpp"
#include "watch/watch_daemon.hpp"

namespace {

using namespace relaygate;
using namespace relaygate::watch;

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};

void on_signal(int sig) {
    if (sig == SIGHUP) {
        g_reload = true;
    } else {
        g_stop = true;
    }
}

std::int64_t unix_now() { return static_cast<std::int64_t>(std::time(nullptr)); }

// The resolver for DNSBL sweeps, only when there are IPs to sweep (else query stays empty).
std::unique_ptr<dns::resolver> make_resolver(const watch_options& o, async_query& query) {
    if (o.dnsbl_ips.empty() || o.dnsbl_interval <= 0) return nullptr;
    auto resolver = std::make_unique<dns::resolver>(dns::resolver_options{
        .forwarders = o.registry.dns_forwarders, .timeout = std::chrono::milliseconds(o.dnsbl_timeout_ms)});
    query = [r = resolver.get()](const std::string& name, std::function<void(const dns::answer&)> done) {
        r->resolve_async(name, dns::rr_type::a, std::move(done));
    };
    return resolver;
}

void install_signal_flags() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaction(s, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
}

int fail(const std::string& why, int rc) {
    std::cerr << "relaygate-watch: " << why << "\n";
    return rc;
}

}  // namespace

// ~65 lines: the start order (drop root before the log, re-verification after the daemon) reads best in one place.
int main(int argc, char** argv) {
    auto parsed = parse_watch_options(argc, argv);
    if (!parsed) return fail(parsed.error(), 2);
    if (!parsed->help_text.empty()) {
        std::cout << "relaygate-watch: egress health, failover and the failure ledger (docs/watch.md)\n"
                  << parsed->help_text;
        return 0;
    }
    const watch_options o = parsed->options;
    const auto fds = fd_limit::raise_to_hard();  // its figures go on the start line

    log::configure("relaygate-watch", *log::parse_sink(o.log_sink), log::level::info);  // validated
    // Before the maillog (untrusted text) is opened; the alert hook inherits the user.
    if (auto ok = privilege::drop_to(o.user); !ok) {
        log::error("- start_failed reason=user error=" + log::quote(ok.error()));
        return fail(ok.error(), 1);
    }
    auto store = egress::open_egress_store(o.egress);
    async_query query;
    auto resolver = make_resolver(o, query);
    auto daemon = watch_daemon::create(o, *store, query, unix_now);
    if (!daemon) {
        log::error("- start_failed" + std::string(" error=") + log::quote(daemon.error()));
        return fail(daemon.error(), 1);
    }
    std::unique_ptr<metrics_server> server;
    if (!o.metrics_listen.empty()) {
        auto s = metrics_server::start(o.metrics_listen, (*daemon)->stats());
        if (!s) return fail(s.error(), 1);
        server = std::move(*s);
    }
    std::unique_ptr<reverify_service> reverify;
    if (o.reverify) {
        auto s = reverify_service::start({.registry = o.registry,
                                          .tick = std::chrono::seconds(o.reverify_tick),
                                          .pending_alert = std::chrono::seconds(o.reverify_pending_alert)},
                                         (*daemon)->stats(),
                                         [d = daemon->get()](std::string json) { d->run_hook(std::move(json)); });
        if (!s) {
            log::error("- start_failed reason=registry error=" + log::quote(s.error()));
            return fail(s.error(), 1);
        }
        reverify = std::move(*s);
    }
    install_signal_flags();
    log::notice("- start maillog=" + log::quote(o.maillog) + " state_dir=" + log::quote(o.state_dir) +
                " metrics=" + (server ? "127.0.0.1:" + std::to_string(server->port()) : std::string("off")) + " " +
                fd_limit::log_fields(fds));
    service::ready();  // Type=notify: the log is open and the metrics listener accepts
    (*daemon)->run(g_stop, g_reload, [&] {
        auto fresh = parse_watch_options(argc, argv);
        if (!fresh) {
            log::error("- reload_failed error=" + log::quote(fresh.error()) + " kept=old");
            return;
        }
        (*daemon)->apply_reload(fresh->options);
        if (reverify) reverify->reload();
    });
    service::stopping();
    log::notice("- stop");
    reverify.reset();  // before the daemon: its pass may still queue hook calls
    if (server) server->stop();
    return 0;
}
