// main.cpp: relaygate-watch. Parses the options, builds the egress store (file,
// or Redis with --redis), the DNS resolver (only when IPs are to be swept) and
// the metrics server, installs the signal flags and runs the daemon loop.
// --list-failures prints the failure ledger instead (see docs/watch.md).
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <iostream>

#include "relaygate/dns/dns_resolver.hpp"
#include "relaygate/egress/egress_state.hpp"
#include "relaygate/log/log.hpp"
#include "relaygate/registry/privilege_drop.hpp"
#include "relaygate/registry/service_notify.hpp"
#include "watch/failure_ledger.hpp"
#include "watch/metrics_server.hpp"
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

int list_failures(const watch_options& o) {
    const auto since = parse_since(o.since, unix_now());
    if (!since) {
        std::cerr << "relaygate-watch: " << since.error() << "\n";
        return 2;
    }
    const std::string path = o.ledger.empty() ? o.state_dir + "/ledger.sqlite" : o.ledger;
    auto ledger = failure_ledger::open(path, true);
    if (!ledger) {
        std::cerr << "relaygate-watch: " << ledger.error() << "\n";
        return 1;
    }
    for (const auto& row : (*ledger)->list({.since = *since, .family = o.family})) {
        std::cout << format_failure(row, o.json) << "\n";
    }
    return 0;
}

std::unique_ptr<egress::egress_store> make_store(const watch_options& o) {
    if (o.redis.empty()) return egress::make_file_egress_store(o.egress_state_file);
    const auto colon = o.redis.rfind(':');
    const std::string host = colon == std::string::npos ? o.redis : o.redis.substr(0, colon);
    const int port = colon == std::string::npos ? 6379 : std::atoi(o.redis.c_str() + colon + 1);
    return egress::make_redis_egress_store(host, port, o.redis_prefix);
}

}  // namespace

int main(int argc, char** argv) {
    auto parsed = parse_watch_options(argc, argv);
    if (!parsed) {
        std::cerr << "relaygate-watch: " << parsed.error() << "\n";
        return 2;
    }
    if (!parsed->help_text.empty()) {
        std::cout << "relaygate-watch: egress health, failover and the failure ledger (docs/watch.md)\n"
                  << parsed->help_text;
        return 0;
    }
    const watch_options o = parsed->options;
    if (o.list_failures) return list_failures(o);

    log::configure("relaygate-watch", *log::parse_sink(o.log_sink), log::level::info);  // validated
    // Before the maillog (untrusted text) is opened; the alert hook inherits the user.
    if (auto ok = privilege::drop_to(o.user); !ok) {
        log::error("- start_failed reason=user error=" + log::quote(ok.error()));
        std::cerr << "relaygate-watch: " << ok.error() << "\n";
        return 1;
    }

    auto store = make_store(o);
    std::unique_ptr<dns::resolver> resolver;
    async_query query;
    if (!o.dnsbl_ips.empty() && o.dnsbl_interval > 0) {
        resolver = std::make_unique<dns::resolver>(dns::resolver_options{
            .forwarders = o.dns_forwarders, .timeout = std::chrono::milliseconds(o.dnsbl_timeout_ms)});
        query = [r = resolver.get()](std::string name, std::function<void(const dns::answer&)> done) {
            r->resolve_async(std::move(name), dns::rr_type::a, std::move(done));
        };
    }
    auto daemon = watch_daemon::create(o, *store, query, unix_now);
    if (!daemon) {
        log::error("- start_failed" + std::string(" error=") + log::quote(daemon.error()));
        std::cerr << "relaygate-watch: " << daemon.error() << "\n";
        return 1;
    }
    std::unique_ptr<metrics_server> server;
    if (!o.metrics_listen.empty()) {
        auto s = metrics_server::start(o.metrics_listen, (*daemon)->stats());
        if (!s) {
            std::cerr << "relaygate-watch: " << s.error() << "\n";
            return 1;
        }
        server = std::move(*s);
    }
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGHUP, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
    log::notice("- start maillog=" + log::quote(o.maillog) + " state_dir=" + log::quote(o.state_dir) +
                " metrics=" + (server ? "127.0.0.1:" + std::to_string(server->port()) : std::string("off")));
    service::ready();  // Type=notify: the log is open and the metrics listener accepts
    (*daemon)->run(g_stop, g_reload, [&] {
        auto fresh = parse_watch_options(argc, argv);
        if (!fresh) {
            log::error("- reload_failed error=" + log::quote(fresh.error()) + " kept=old");
            return;
        }
        (*daemon)->apply_reload(fresh->options);
    });
    service::stopping();
    log::notice("- stop");
    if (server) server->stop();
    return 0;
}
