// circuit_breaker.hpp: when a remote store (Redis) may be tried, pure. Closed:
// every call goes through; after failure_threshold failures in a row it opens:
// calls are refused without any I/O for open_for; then one call is let
// through as a probe (half-open): its success closes the breaker, its failure
// opens it again. The clock is injected (tests drive it). Each transition is
// returned to the caller, which logs it once (not once per call) with the
// counts kept here. Used by redis_connection; not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

namespace relaygate::egress {

class circuit_breaker {
public:
    enum class state { closed, open, half_open };
    enum class permit { call, probe, refuse };  // what before() allows
    using clock_fn = std::function<std::chrono::steady_clock::time_point()>;

    struct options {
        unsigned failure_threshold = 1;            // failures in a row that open it
        std::chrono::milliseconds open_for{1000};  // no I/O at all for this long
    };
    struct transition {
        state from, to;
        std::uint64_t refused;   // calls refused while it was open (since it last opened)
        std::uint64_t failures;  // failures in a row that led here
    };

    circuit_breaker(options opts, clock_fn clock);

    // Before a call: call (closed), probe (open period over: this one call
    // tests the store; state is half_open until on_success/on_failure), or refuse.
    permit before();
    // The call's outcome; a state change is returned once, for the log line.
    std::optional<transition> on_success();
    std::optional<transition> on_failure();

    state current() const { return state_; }
    std::uint64_t refused_total() const { return refused_total_; }
    std::uint64_t opened_total() const { return opened_total_; }

private:
    std::optional<transition> move_to(state next);

    options opts_;
    clock_fn clock_;
    state state_ = state::closed;
    unsigned failures_ = 0;
    std::chrono::steady_clock::time_point retry_at_{};
    std::uint64_t refused_ = 0, refused_total_ = 0, opened_total_ = 0;
};

std::string_view to_string(circuit_breaker::state s);

}  // namespace relaygate::egress
