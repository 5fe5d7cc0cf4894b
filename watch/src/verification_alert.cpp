// verification_alert.cpp: see verification_alert.hpp. Fields present depend on
// the event: demote_at for grace_started, failing_since for demoted,
// pending_since for pending_overdue; reason/detail whenever the check failed.
#include "relaygate/watch/verification_alert.hpp"

#include <nlohmann/json.hpp>

#include "relaygate/log/log.hpp"
#include "relaygate/registry/state_store.hpp"

namespace relaygate::watch {
namespace {

using registry::verification_event_kind;

bool failed_check(const registry::verification_event& e) {
    return e.kind == verification_event_kind::grace_started || e.kind == verification_event_kind::demoted ||
           e.kind == verification_event_kind::pending_overdue;
}

bool rotation(const registry::verification_event& e) {
    return e.kind == verification_event_kind::dkim_selector_switched ||
           e.kind == verification_event_kind::dkim_selector_removable;
}

// The selectors older than the signing one, comma separated (what may be removed).
std::string older_selectors(const registry::verification_status& s) {
    std::string out;
    for (const auto& r : s.selectors) {
        if (r.selector == s.signing_selector) break;
        out += (out.empty() ? "" : ",") + r.selector;
    }
    return out;
}

}  // namespace

std::string verification_log_line(const registry::verification_event& e) {
    const auto& s = e.status;
    std::string out = "- verification_alert event=" + std::string(to_string(e.kind)) +
                      " domain=" + log::quote(e.domain) + " state=" + std::string(registry::to_string(s.state)) +
                      " previous=" + std::string(registry::to_string(e.previous_state));
    if (failed_check(e) && !s.reason_code.empty()) out += " reason=" + log::quote(s.reason_code);
    if (failed_check(e) && !s.reason_text.empty()) out += " detail=" + log::quote(s.reason_text);
    if (e.kind == verification_event_kind::grace_started) out += " demote_at=" + std::to_string(e.demote_at);
    if (e.kind == verification_event_kind::demoted) out += " failing_since=" + std::to_string(s.failing_since);
    if (e.kind == verification_event_kind::pending_overdue) out += " pending_since=" + std::to_string(s.pending_since);
    if (e.kind == verification_event_kind::dkim_selector_switched) out += " from=" + log::quote(e.from_selector);
    if (rotation(e)) out += " signing=" + log::quote(s.signing_selector);
    if (e.kind == verification_event_kind::dkim_selector_removable) {
        out += " removable=" + log::quote(older_selectors(s));
    }
    return out;
}

std::string verification_hook_json(const registry::verification_event& e, const std::string& owner) {
    const auto& s = e.status;
    nlohmann::json j{{"type", "verification"},
                     {"event", to_string(e.kind)},
                     {"time", s.last_checked},
                     {"domain", e.domain},
                     {"owner", owner},
                     {"state", registry::to_string(s.state)},
                     {"previous_state", registry::to_string(e.previous_state)}};
    if (failed_check(e)) {
        j["reason"] = s.reason_code;
        j["detail"] = s.reason_text;
        j["temporary"] = s.temporary_failure;
    }
    if (e.kind == verification_event_kind::grace_started) j["demote_at"] = e.demote_at;
    if (e.kind == verification_event_kind::demoted) j["failing_since"] = s.failing_since;
    if (e.kind == verification_event_kind::pending_overdue) j["pending_since"] = s.pending_since;
    if (e.kind == verification_event_kind::dkim_selector_switched) j["from_selector"] = e.from_selector;
    if (rotation(e)) {
        j["signing_selector"] = s.signing_selector;
        j["signing_since"] = s.signing_since;
    }
    if (e.kind == verification_event_kind::dkim_selector_removable) j["removable"] = older_selectors(s);
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace relaygate::watch
