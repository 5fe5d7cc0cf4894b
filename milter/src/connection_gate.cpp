// connection_gate.cpp: the concurrent-connection cap (see connection_gate.hpp).
#include "relaygate/milter/connection_gate.hpp"

namespace relaygate::milter {

connection_gate::admission connection_gate::admit() {
    std::lock_guard lock(mu_);
    if (active_ < cap_) {
        ++active_;
        return {.admitted = true};
    }
    ++refused_;
    const bool was_full = full_;
    full_ = true;
    return {.admitted = false, .now_full = !was_full};
}

bool connection_gate::release() {
    std::lock_guard lock(mu_);
    if (active_ > 0) --active_;
    // Reopen a tenth below the cap, so a gate at its limit logs one pair of lines, not one per connection.
    const std::size_t reopen_at = cap_ - (cap_ / 10 == 0 ? 1 : cap_ / 10);
    if (!full_ || active_ > reopen_at) return false;
    full_ = false;
    return true;
}

std::size_t connection_gate::active() const {
    std::lock_guard lock(mu_);
    return active_;
}

std::uint64_t connection_gate::refused() const {
    std::lock_guard lock(mu_);
    return refused_;
}

const smtp_reply& busy_reply() {
    static const smtp_reply r{"451", "4.3.2", "relaygate-milter is at its connection limit, try again later"};
    return r;
}

}  // namespace relaygate::milter
