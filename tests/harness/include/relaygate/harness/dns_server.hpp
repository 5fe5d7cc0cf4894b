// dns_server.hpp: the test DNS fixture — a REAL unbound (`unbound -d -c conf`)
// on 127.0.0.1 serving zone files from tests/testdata/dns/ (unbound
// `local-zone:`/`local-data:` lines). Built in: every name under servfail.test.
// answers SERVFAIL (forwarded to a second unbound that refuses), every name under
// timeout.test. gets no answer at all. Both unbounds are stopped by PID in stop()
// and the destructor, even when a test fails. See docs/dns.md.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace relaygate::harness {

class dns_server {
public:
    // zone_files: paths, or bare names looked up in tests/testdata/dns/
    // ("registry.conf"). port 0 = a free port; 53 for e2e tests in a netns.
    // extra_lines: more unbound server-clause lines (generated zones).
    // ready_timeout: how long unbound may take to load its zones and answer (a generated
    // zone of millions of names, bench/verify_bench, takes minutes).
    // Throws std::runtime_error (with unbound's output) when it cannot start.
    explicit dns_server(std::vector<std::string> zone_files, std::uint16_t port = 0,
                        std::vector<std::string> extra_lines = {},
                        std::chrono::seconds ready_timeout = std::chrono::seconds(10));
    ~dns_server();
    dns_server(const dns_server&) = delete;
    dns_server& operator=(const dns_server&) = delete;

    std::uint16_t port() const { return port_; }
    // "127.0.0.1@PORT", as dns::resolver_options::forwarders and unbound take it.
    std::string forwarder() const;
    // The generated unbound.conf (for error messages and the bash tool).
    const std::string& config_path() const { return config_path_; }
    pid_t pid() const { return pid_; }
    // Stops both unbounds (SIGTERM, then SIGKILL after 2 s) and removes the work dir. Idempotent.
    void stop();

    // Where bare zone-file names are looked up.
    static std::string testdata_dir();

private:
    void start(const std::vector<std::string>& zone_files, const std::vector<std::string>& extra_lines,
               std::uint16_t wanted_port, std::chrono::seconds ready_timeout);

    std::string work_dir_;
    std::string config_path_;
    std::uint16_t port_ = 0;
    std::uint16_t refuser_port_ = 0;
    pid_t pid_ = -1;
    pid_t refuser_pid_ = -1;
};

}  // namespace relaygate::harness
