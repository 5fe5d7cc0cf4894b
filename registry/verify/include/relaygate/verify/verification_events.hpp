// verification_events.hpp: which recorded checks the owner and the operator
// must be told about. Pure: the recorded reports of one pass in, the events
// out (no clock, no I/O). relaygate-watch turns each event into one log line,
// one metric increment and one call of the alert hook (docs/watch.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "relaygate/verify/reverify_scheduler.hpp"

namespace relaygate::registry {

enum class verification_event_kind {
    verified,         // first verification since registration (pending/failed, never verified -> verified)
    grace_started,    // a verified domain failed definitively: demoted at demote_at unless fixed
    demoted,          // the grace period ran out: the milter now rejects its mail
    recovered,        // verified again after a grace period or a demotion
    pending_overdue,  // not verified pending_alert_after after its first check (told once)
    // DKIM key rotation (select_rotation_events):
    dkim_selector_switched,   // a newer selector verified: the milter now signs with it
    dkim_selector_removable,  // rotation-overlap has passed since the switch: the older selectors may go
};
std::string_view to_string(verification_event_kind k);  // "verified", "grace_started", ...

struct verification_event {
    verification_event_kind kind = verification_event_kind::verified;
    std::string domain;
    verification_state previous_state = verification_state::pending;
    verification_status status;  // after the check; status.last_checked is the event's time
    std::int64_t demote_at = 0;  // grace_started: failing_since + grace period
    std::string from_selector;   // dkim_selector_switched: the selector that signed before
};

// One event per report at most. pending_overdue fires on the one check that
// crosses pending_since + pending_alert_after, so it is told once per domain
// without keeping a flag anywhere.
std::vector<verification_event> select_events(const std::vector<recorded_report>& recorded,
                                              std::chrono::seconds grace_period,
                                              std::chrono::seconds pending_alert_after);

// The key-rotation events of one pass, apart from select_events (a check may both
// verify a domain and switch its selector). dkim_selector_switched on the check that
// changed the signing selector; dkim_selector_removable on the one check that crosses
// signing_since + overlap while an older selector is still listed (told once, no flag).
std::vector<verification_event> select_rotation_events(const std::vector<recorded_report>& recorded,
                                                       std::chrono::seconds overlap);

}  // namespace relaygate::registry
