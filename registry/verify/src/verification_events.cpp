// verification_events.cpp: select_events (see verification_events.hpp). The
// transition verification_policy chose decides grace, demotion and recovery;
// "pending too long" is the crossing of a threshold between two checks.
#include "relaygate/verify/verification_events.hpp"

#include <optional>

namespace relaygate::registry {

std::string_view to_string(verification_event_kind k) {
    switch (k) {
        case verification_event_kind::verified:
            return "verified";
        case verification_event_kind::grace_started:
            return "grace_started";
        case verification_event_kind::demoted:
            return "demoted";
        case verification_event_kind::recovered:
            return "recovered";
        case verification_event_kind::pending_overdue:
            return "pending_overdue";
        case verification_event_kind::dkim_selector_switched:
            return "dkim_selector_switched";
        case verification_event_kind::dkim_selector_removable:
            return "dkim_selector_removable";
    }
    return "unknown";
}

namespace {

std::optional<verification_event_kind> kind_of(const recorded_report& r, std::chrono::seconds pending_alert_after) {
    using k = verification_event_kind;
    const auto& prev = r.previous;
    const auto& next = r.result.next;
    switch (r.result.change) {
        case transition::grace_started:
            return k::grace_started;
        case transition::demoted:
            return k::demoted;
        case transition::became_verified:
            // pending_since is cleared by the first verification and never set again, so a
            // failed domain without it had been verified before (demoted): that is a recovery.
            return prev.state == verification_state::failed && prev.pending_since == 0 ? k::recovered : k::verified;
        case transition::stays_verified:
            if (prev.failing_since != 0) return k::recovered;  // fixed within its grace period
            return std::nullopt;
        default:
            break;
    }
    if (next.pending_since == 0 || next.state == verification_state::verified) return std::nullopt;
    const std::int64_t threshold = next.pending_since + pending_alert_after.count();
    // Crossed between the previous check and this one (the first check sets pending_since).
    if (prev.last_checked < threshold && next.last_checked >= threshold) return k::pending_overdue;
    return std::nullopt;
}

}  // namespace

std::vector<verification_event> select_events(const std::vector<recorded_report>& recorded,
                                              std::chrono::seconds grace_period,
                                              std::chrono::seconds pending_alert_after) {
    std::vector<verification_event> events;
    for (const auto& r : recorded) {
        const auto kind = kind_of(r, pending_alert_after);
        if (!kind) continue;
        verification_event e;
        e.kind = *kind;
        e.domain = r.domain;
        e.previous_state = r.previous.state;
        e.status = r.result.next;
        if (*kind == verification_event_kind::grace_started) {
            e.demote_at = r.result.next.failing_since + grace_period.count();
        }
        events.push_back(std::move(e));
    }
    return events;
}

std::vector<verification_event> select_rotation_events(const std::vector<recorded_report>& recorded,
                                                       std::chrono::seconds overlap) {
    std::vector<verification_event> events;
    for (const auto& r : recorded) {
        const auto& prev = r.previous;
        const auto& next = r.result.next;
        if (next.selectors.size() < 2 || next.signing_since == 0) continue;
        auto event = [&](verification_event_kind kind) {
            verification_event e{.kind = kind, .domain = r.domain, .previous_state = prev.state, .status = next};
            if (kind == verification_event_kind::dkim_selector_switched) {
                e.from_selector =
                    prev.signing_selector.empty() ? next.selectors.front().selector : prev.signing_selector;
            }
            events.push_back(std::move(e));
        };
        if (next.signing_since != prev.signing_since) event(verification_event_kind::dkim_selector_switched);
        // Older selectors are still listed when the signing one is not the first.
        const bool older_listed = next.selectors.front().selector != next.signing_selector;
        const std::int64_t threshold = next.signing_since + overlap.count();
        if (older_listed && prev.last_checked < threshold && next.last_checked >= threshold) {
            event(verification_event_kind::dkim_selector_removable);
        }
    }
    return events;
}

}  // namespace relaygate::registry
