// policy_server.hpp: the only socket code of relaygate-policy. One epoll
// event loop serves both protocols on separate listeners: policy delegation
// (one request at a time per connection, answered in order) and socketmap
// (pipelined netstrings; a reply may wait for an MX answer while every other
// connection is served; per connection the replies leave in request order).
// Bounded per-connection buffers, half-closed sockets flushed then closed,
// idle sweep, a connection cap, signalfd for SIGHUP (reload) / SIGTERM.
// Knows nothing of mail: framing only; decisions come from a request_handler.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "relaygate/policy/policy_request.hpp"

namespace relaygate::policy {

enum class protocol { policy, socketmap };

// Identifies one socketmap reply slot that will be filled later.
struct reply_token {
    std::uint64_t connection = 0;
    std::uint64_t seq = 0;
};

class policy_server;

class request_handler {
public:
    virtual ~request_handler() = default;
    // The complete reply bytes ("action=...\n\n").
    virtual std::string on_policy(const policy_request& req) = 0;
    // The socketmap reply payload now, or nullopt: the handler will call
    // server.complete(token, payload) later (on the loop thread).
    virtual std::optional<std::string> on_socketmap(std::string_view payload, reply_token token) = 0;
    // Called on every loop turn (at least every tick_interval); expire waits here.
    virtual void on_tick(std::int64_t /*now_ms*/) {}
    // True while something waits for a deadline (the loop then ticks often).
    virtual bool has_deadlines() const { return false; }
    virtual void on_reload() {}  // SIGHUP
};

struct server_limits {
    std::size_t max_connections = 20000;
    std::size_t max_output = 1 << 20;         // unsent reply bytes per connection before we stop reading
    std::size_t max_pending = 1024;           // socketmap replies waiting per connection
    std::chrono::seconds policy_idle{600};    // Postfix's max_idle is 300 s
    std::chrono::seconds socketmap_idle{60};  // Postfix closes after 10 s idle
    policy_request_limits request;
};

struct server_stats {
    std::uint64_t accepted = 0, refused = 0, closed_malformed = 0, closed_idle = 0;
    std::uint64_t policy_requests = 0, socketmap_requests = 0;
};

class policy_server {
public:
    policy_server(request_handler& handler, server_limits limits = {});
    ~policy_server();
    policy_server(const policy_server&) = delete;
    policy_server& operator=(const policy_server&) = delete;

    // Takes ownership of a listening socket (see open_listener()).
    void add_listener(int fd, protocol p);
    // Handles SIGHUP/SIGTERM/SIGINT through a signalfd (block them in every thread first).
    void handle_signals();
    // Runs until stop() or SIGTERM/SIGINT.
    void run();
    void stop();  // thread-safe
    // Thread-safe: runs fn on the loop thread soon (resolver callbacks use it).
    void post(std::function<void()> fn);
    // Loop thread only: fills a waiting socketmap reply (ignored if the connection is gone).
    void complete(reply_token token, std::string payload);
    const server_stats& stats() const;
    std::size_t connections() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

std::int64_t steady_now_ms();

}  // namespace relaygate::policy
