// redis_connection.hpp: the one Redis client of relaygate (hiredis underneath),
// used by the egress state (relaygate_egress) and relaygate-policy's shared
// counters. One synchronous connection with connect and command timeouts
// behind a circuit_breaker: an I/O failure (refused, reset, timed out: a
// SIGSTOPped Redis) opens it, and for retry_after every command fails at once
// without I/O; then one probe (connect + PING, each bounded by probe_timeout)
// decides. So a dead or hung Redis costs a caller's thread one command
// timeout when it fails, then at most probe_timeout per retry interval.
// Logged once per breaker change (`<name>_unreachable`, `<name>_reachable`
// with the count of refused commands), never once per command. Not
// thread-safe: callers that share one serialise their calls.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "relaygate/egress/circuit_breaker.hpp"
#include "relaygate/registry/expected.hpp"

struct redisContext;

namespace relaygate::egress {

// Where Redis listens: "HOST:PORT" or a unix socket "/path.sock".
struct redis_endpoint {
    std::string host;  // name or IP; the socket path when port is 0
    int port = 0;      // 1..65535; 0 = unix socket at host
    // nullopt unless "HOST:PORT" (port 1..65535, host not empty) or an absolute path.
    static std::optional<redis_endpoint> parse(std::string_view spec);
    std::string text() const;  // as parse() reads it
};

// A Redis reply as plain data (no hiredis type leaks to callers).
struct redis_value {
    enum class kind { nil, string, status, integer, array } type = kind::nil;
    std::string text;                   // string and status replies
    long long integer = 0;              // integer replies
    std::vector<redis_value> elements;  // array replies
};

struct redis_error {
    bool unreachable = false;  // no connection (connect failed, or waiting to retry): nothing was sent
    std::string message;       // hiredis' error or the server's error reply
};

class redis_connection {
public:
    struct options {
        redis_endpoint endpoint;
        std::chrono::milliseconds timeout{500};       // connect and each command
        std::chrono::milliseconds retry_after{1000};  // after a failure, no I/O at all before this
        std::chrono::milliseconds probe_timeout{0};   // connect + PING of the probe; 0 = timeout
        std::string log_name = "redis";               // log event prefix: "<name>_unreachable"
        std::string unreachable_note;                 // appended to that line, e.g. "fail_open=dunno"
    };
    explicit redis_connection(options opts);
    ~redis_connection();
    redis_connection(const redis_connection&) = delete;
    redis_connection& operator=(const redis_connection&) = delete;

    // Sends one command and waits for its reply. An I/O error or an error
    // reply drops the connection; a failed connect is logged once per attempt.
    expected<redis_value, redis_error> command(std::span<const std::string> args);
    // Drops the connection (a caller that found the reply unusable).
    void drop();
    const circuit_breaker& breaker() const { return breaker_; }

private:
    bool connect(std::chrono::milliseconds timeout, std::string& error);
    bool probe(std::string& error);
    void failed(const std::string& error);
    void note(const std::optional<circuit_breaker::transition>& t, const std::string& error);

    options opts_;
    redisContext* ctx_ = nullptr;
    circuit_breaker breaker_;
};

}  // namespace relaygate::egress
