// policy_server.hpp: the only socket code of relaygate-policy. One epoll
// event loop serves both protocols on separate listeners: policy delegation
// (one request at a time per connection, answered in order) and socketmap
// (pipelined netstrings; a reply may wait for an MX answer while every other
// connection is served; per connection the replies leave in request order).
// Bounded per-connection buffers, half-closed sockets flushed then closed,
// idle sweep (idle = no complete request, so trickled bytes do not count),
// a per-request deadline, one connection pool per protocol (a flood of one
// cannot starve the other), signalfd for SIGHUP (reload) / SIGTERM.
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
#include "relaygate/policy/socketmap_reply.hpp"

namespace relaygate::policy {

enum class protocol { policy, socketmap };

class policy_server;

class request_handler {
public:
    virtual ~request_handler() = default;
    // The complete reply bytes ("action=...\n\n").
    virtual std::string on_policy(const policy_request& req) = 0;
    // The socketmap reply now, or nullopt: the handler will call
    // server.complete(token, reply) later (on the loop thread).
    virtual std::optional<socketmap_reply> on_socketmap(std::string_view payload, reply_token token) = 0;
    // Called on every loop turn (at least every tick_interval); expire waits here.
    virtual void on_tick(std::int64_t /*now_ms*/) {}
    // True while something waits for a deadline (the loop then ticks often).
    virtual bool has_deadlines() const { return false; }
    virtual void on_reload() {}  // SIGHUP
};

struct server_limits {
    std::size_t max_connections = 20000;  // per protocol: each listener kind has its own pool

    std::size_t max_output = 1 << 20;         // unsent reply bytes per connection before we stop reading
    std::size_t max_pending = 1024;           // socketmap replies waiting per connection
    std::chrono::seconds policy_idle{600};    // Postfix's max_idle is 300 s
    std::chrono::seconds socketmap_idle{60};  // Postfix closes after 10 s idle
    // A request must be complete this long after its first byte (Postfix sends
    // one in a single write): a 1 byte/s trickle is closed, however steady.
    std::chrono::milliseconds request_deadline{10000};
    policy_request_limits request;
};

struct server_stats {
    std::uint64_t accepted = 0, refused = 0, closed_malformed = 0, closed_idle = 0, closed_slow = 0;
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
    void complete(reply_token token, const socketmap_reply& reply);
    const server_stats& stats() const;
    std::size_t connections() const;
    std::size_t connections(protocol p) const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

std::int64_t steady_now_ms();

}  // namespace relaygate::policy
