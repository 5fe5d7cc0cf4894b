// dns_server_ctl: the test DNS fixture (relaygate::harness::dns_server) for
// shell scripts such as scripts/demo. Starts it, prints one line
//   forwarder=127.0.0.1@PORT port=PORT pid=PID conf=PATH
// once it answers, then runs until SIGTERM/SIGINT/SIGHUP and stops both unbounds.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "relaygate/harness/dns_server.hpp"

int main(int argc, char** argv) {
    std::vector<std::string> zones;
    unsigned long port = 0;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::printf(
                "usage: dns_server_ctl [--port N] ZONE_FILE...\n"
                "  Runs unbound on 127.0.0.1 (free port unless --port) serving the zone files\n"
                "  (paths, or names in tests/testdata/dns/), plus servfail.test. (SERVFAIL) and\n"
                "  timeout.test. (no answer). Prints 'forwarder=127.0.0.1@PORT port=PORT pid=PID conf=PATH'\n"
                "  when ready; stops on SIGTERM/SIGINT/SIGHUP.\n");
            return 0;
        }
        if (arg == "--port" && i + 1 < argc) {
            char* end = nullptr;
            port = std::strtoul(argv[++i], &end, 10);
            if (*end != '\0' || port > 65535) {
                std::fprintf(stderr, "dns_server_ctl: bad --port '%s'\n", argv[i]);
                return 2;
            }
        } else {
            zones.push_back(arg);
        }
    }
    if (zones.empty()) {
        std::fprintf(stderr, "dns_server_ctl: give at least one zone file (--help)\n");
        return 2;
    }
    try {
        relaygate::harness::dns_server server(zones, static_cast<std::uint16_t>(port));
        // Block the stop signals only now: the unbound children must not inherit a blocked mask.
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGHUP);
        sigprocmask(SIG_BLOCK, &set, nullptr);
        std::printf("forwarder=%s port=%u pid=%d conf=%s\n", server.forwarder().c_str(), server.port(), server.pid(),
                    server.config_path().c_str());
        std::fflush(stdout);
        int sig = 0;
        sigwait(&set, &sig);
        server.stop();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "dns_server_ctl: %s\n", e.what());
        return 1;
    }
    return 0;
}
