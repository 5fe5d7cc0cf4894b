// circuit_breaker.cpp: see circuit_breaker.hpp.
#include "relaygate/egress/circuit_breaker.hpp"

#include <utility>

namespace relaygate::egress {

circuit_breaker::circuit_breaker(options opts, clock_fn clock) : opts_(opts), clock_(std::move(clock)) {
    if (opts_.failure_threshold == 0) opts_.failure_threshold = 1;
}

circuit_breaker::permit circuit_breaker::before() {
    switch (state_) {
        case state::closed:
            return permit::call;
        case state::open:
            if (clock_() >= retry_at_) {
                state_ = state::half_open;  // not a reported transition: the probe's outcome is
                return permit::probe;
            }
            break;
        case state::half_open:
            break;  // a probe is under way (only possible if a caller forgot its outcome)
    }
    ++refused_;
    ++refused_total_;
    return permit::refuse;
}

std::optional<circuit_breaker::transition> circuit_breaker::on_success() {
    failures_ = 0;
    return move_to(state::closed);
}

std::optional<circuit_breaker::transition> circuit_breaker::on_failure() {
    ++failures_;
    if (state_ == state::closed && failures_ < opts_.failure_threshold) return std::nullopt;
    retry_at_ = clock_() + opts_.open_for;
    return move_to(state::open);
}

std::optional<circuit_breaker::transition> circuit_breaker::move_to(state next) {
    // half_open -> open is "still open": the probe failed, nothing new to say.
    state reported_from = state_ == state::half_open ? state::open : state_;
    state_ = next;
    if (reported_from == next) return std::nullopt;
    transition t{reported_from, next, refused_, failures_};
    if (next == state::open) {
        ++opened_total_;
        refused_ = 0;
    }
    return t;
}

std::string_view to_string(circuit_breaker::state s) {
    switch (s) {
        case circuit_breaker::state::closed:
            return "closed";
        case circuit_breaker::state::open:
            return "open";
        case circuit_breaker::state::half_open:
            return "half_open";
    }
    return "closed";
}

}  // namespace relaygate::egress
