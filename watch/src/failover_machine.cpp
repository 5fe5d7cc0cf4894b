// failover_machine.cpp: the two-state machine of failover_machine.hpp.
#include "relaygate/watch/failover_machine.hpp"

namespace relaygate::watch {

std::string_view to_string(dnsbl_verdict v) {
    switch (v) {
        case dnsbl_verdict::clean:
            return "clean";
        case dnsbl_verdict::listed:
            return "listed";
        case dnsbl_verdict::unknown:
            return "unknown";
    }
    return "unknown";
}

failover_machine::failover_machine(failover_spec spec, std::int64_t hold_down_seconds)
    : spec_(std::move(spec)), hold_down_(hold_down_seconds) {}

void failover_machine::restore(std::string_view active_transport, std::int64_t now) {
    on_spare_ = active_transport == spec_.spare;
    clean_since_.reset();
    (void)now;
}

std::optional<flip> failover_machine::step(const failover_inputs& in, std::int64_t now) {
    const bool bad = in.dnsbl == dnsbl_verdict::listed || in.reputation_alert;
    if (!on_spare_) {
        if (!bad) return std::nullopt;
        std::string reason = in.dnsbl == dnsbl_verdict::listed ? "dnsbl_listed " + in.dnsbl_detail
                                                               : "reputation_alert " + in.reputation_detail;
        return flip{spec_.family, spec_.designated, spec_.spare, std::move(reason)};
    }
    // On the spare: back only after hold_down of continuous clean (unknown is not clean).
    if (bad || in.dnsbl != dnsbl_verdict::clean) {
        clean_since_.reset();
        return std::nullopt;
    }
    if (!clean_since_) clean_since_ = now;
    if (now - *clean_since_ < hold_down_) return std::nullopt;
    return flip{spec_.family, spec_.spare, spec_.designated, "clean_for " + std::to_string(now - *clean_since_) + "s"};
}

void failover_machine::applied(const flip& f, std::int64_t now) {
    (void)now;
    on_spare_ = f.to == spec_.spare;
    clean_since_.reset();
}

}  // namespace relaygate::watch
