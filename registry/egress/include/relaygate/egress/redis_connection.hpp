// redis_connection.hpp: the one Redis client of relaygate (hiredis underneath),
// used by the egress state (relaygate_egress) and relaygate-policy's shared
// counters. One synchronous connection with connect and command timeouts; on
// any I/O error it is dropped and re-opened by a later command, at most once
// per retry interval, so a dead Redis costs callers a fast error, not a
// timeout per call. command() is the only place that does I/O (issue 15 may
// make it asynchronous behind the same reply type). Not thread-safe: callers
// that share one serialise their calls.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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
        std::chrono::milliseconds retry_after{1000};  // after a failure, no reconnect before this
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

private:
    bool connect();

    options opts_;
    redisContext* ctx_ = nullptr;
    std::chrono::steady_clock::time_point retry_at_{};
};

}  // namespace relaygate::egress
