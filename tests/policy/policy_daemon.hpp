// policy_daemon.hpp: the real relaygate-policy binary for integration tests:
// a config file in a temp dir, free loopback ports for both listeners,
// started by the constructor (waits until both ports accept), stopped by PID
// in the destructor (also when the test fails; its log is printed then).
// Plus tiny blocking socket helpers that speak both protocols.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "relaygate/harness/child_process.hpp"
#include "relaygate/harness/temp_dir.hpp"

namespace relaygate::policy::testing {

struct daemon_options {
    std::vector<std::string> config;  // "key = value" lines added to the defaults
    std::string microsoft_domains = "hotmail.*\noutlook.*\nmsn.com\n";
    std::string dns_forwarder;         // "127.0.0.1@PORT"; empty = 127.0.0.1@1 (refused: every MX lookup fails)
    bool socketmap_unix = false;       // socketmap on unix:<dir>/socketmap.sock instead of TCP
    std::vector<std::string> wrapper;  // argv prefix, e.g. {"prlimit", "--nofile=64:64", "--"}
    std::string state_dir;  // egress.json, state.json and the last-good file here (a restart test); "" = own dir
};

class policy_daemon {
public:
    explicit policy_daemon(daemon_options o = {});
    ~policy_daemon();
    std::uint16_t policy_port() const { return policy_port_; }
    std::uint16_t socketmap_port() const { return socketmap_port_; }
    std::string socketmap_path() const { return (dir_ / "socketmap.sock").string(); }
    const harness::temp_dir& dir() const { return dir_; }
    std::string log() const;
    pid_t pid() const { return process_.pid(); }
    void signal(int sig) const;
    void stop() { process_.stop(); }
    std::optional<int> wait_for_exit(std::chrono::milliseconds t) { return process_.wait_for_exit(t); }

private:
    harness::temp_dir dir_;
    std::uint16_t policy_port_, socketmap_port_;
    harness::child_process process_;
};

// A blocking client connection with a receive timeout.
class client {
public:
    explicit client(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;
    void send(const std::string& bytes) const;
    void shutdown_write() const;
    // Reads until `terminator`-delimited frame complete; nullopt on EOF/timeout.
    std::optional<std::string> read_policy_reply();
    std::optional<std::string> read_netstring();
    // Reads whatever arrives until EOF; true when the peer closed (within the timeout).
    bool wait_closed(std::string* received = nullptr);
    // Non-blocking: bytes already waiting (no wait at all).
    std::string available();
    int fd() const { return fd_; }

private:
    bool fill();
    int fd_ = -1;
    std::string buf_;
};

std::string netstring(const std::string& payload);
// One request/one reply on a fresh connection.
std::string socketmap_query(std::uint16_t port, const std::string& payload);
std::string policy_query(std::uint16_t port, const std::string& request);
// A policy request as Postfix 3.7 sends it at RCPT (29 attributes).
std::string postfix_request(const std::string& sender, const std::string& recipient,
                            const std::string& client = "192.0.2.10", const std::string& state = "RCPT",
                            std::uint64_t size = 0, const std::string& sasl = "");

}  // namespace relaygate::policy::testing
