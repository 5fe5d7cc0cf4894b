// verification_policy.cpp: apply_check, the verification state machine (see
// verification_policy.hpp). Table (rows: previous state; columns: the check):
//              verified          definitive failure                 temporary failure only
//   pending    became_verified   became_failed                      temporary_ignored (pending)
//   verified   stays_verified    grace_started / in_grace / demoted temporary_ignored (verified)
//   failed     became_verified   stays_failed                       stays_failed
#include "relaygate/verify/verification_policy.hpp"

#include "relaygate/registry/state_store.hpp"

namespace relaygate::registry {

std::string_view to_string(transition t) {
    switch (t) {
        case transition::became_verified:
            return "became_verified";
        case transition::stays_verified:
            return "stays_verified";
        case transition::grace_started:
            return "grace_started";
        case transition::in_grace:
            return "in_grace";
        case transition::demoted:
            return "demoted";
        case transition::became_failed:
            return "became_failed";
        case transition::stays_failed:
            return "stays_failed";
        case transition::temporary_ignored:
            return "temporary_ignored";
    }
    return "unknown";
}

namespace {

std::string line(std::string_view event, std::string_view domain, const check_summary& check) {
    std::string out = "- registry_" + std::string(event) + " domain=" + log::quote(domain);
    if (!check.reason_code.empty()) out += " reason=" + log::quote(check.reason_code);
    if (!check.reason_text.empty()) out += " detail=" + log::quote(check.reason_text);
    return out;
}

policy_result passed(std::string_view domain, const verification_status& prev, std::int64_t now) {
    policy_result r;
    r.next.state = verification_state::verified;
    r.next.last_checked = now;
    const bool was_verified = prev.state == verification_state::verified;
    r.next.verified_since = was_verified && prev.verified_since ? prev.verified_since : now;
    r.change = was_verified ? transition::stays_verified : transition::became_verified;
    r.level = was_verified ? log::level::debug : log::level::notice;
    r.log_line = line(was_verified ? "verified_again" : "verified", domain, {});
    return r;
}

policy_result failed_definitively(std::string_view domain, const verification_status& prev, const check_summary& check,
                                  std::int64_t now, std::chrono::seconds grace) {
    policy_result r;
    r.next = prev;
    r.next.last_checked = now;
    r.next.temporary_failure = false;
    r.next.reason_code = check.reason_code;
    r.next.reason_text = check.reason_text;
    if (r.next.failing_since == 0) r.next.failing_since = now;
    if (prev.state == verification_state::verified) {
        const std::int64_t demote_at = r.next.failing_since + grace.count();
        if (now >= demote_at) {
            r.next.state = verification_state::failed;
            r.next.verified_since = 0;
            r.change = transition::demoted;
            r.level = log::level::warning;
            r.log_line = line("demoted", domain, check) + " failing_since=" + std::to_string(r.next.failing_since) +
                         " grace_period=" + std::to_string(grace.count()) + "s";
        } else {
            // still verified: mail keeps flowing while the owner fixes DNS
            r.change = prev.failing_since == 0 ? transition::grace_started : transition::in_grace;
            r.level = log::level::notice;
            r.log_line = line(prev.failing_since == 0 ? "grace_started" : "in_grace", domain, check) +
                         " demote_at=" + std::to_string(demote_at);
        }
        return r;
    }
    r.next.state = verification_state::failed;
    r.next.verified_since = 0;
    const bool was_failed = prev.state == verification_state::failed;
    r.change = was_failed ? transition::stays_failed : transition::became_failed;
    r.level = was_failed && prev.reason_code == check.reason_code ? log::level::debug : log::level::notice;
    r.log_line = line(was_failed ? "still_failed" : "failed", domain, check);
    return r;
}

policy_result failed_temporarily(std::string_view domain, const verification_status& prev, const check_summary& check,
                                 std::int64_t now) {
    policy_result r;
    r.next = prev;  // state, failing_since and verified_since are kept: a DNS outage proves nothing
    r.next.last_checked = now;
    r.next.temporary_failure = true;
    if (prev.state == verification_state::failed) {
        r.change = transition::stays_failed;  // keep the definitive reason it failed for
    } else {
        r.change = transition::temporary_ignored;
        r.next.reason_code = check.reason_code;
        r.next.reason_text = check.reason_text;
    }
    r.level = log::level::info;
    r.log_line = line("temporary_failure", domain, check) + " state=" + std::string(to_string(prev.state));
    return r;
}

}  // namespace

policy_result apply_check(std::string_view domain, const verification_status& previous, const check_summary& check,
                          std::int64_t now, std::chrono::seconds grace_period) {
    if (check.verified) return passed(domain, previous, now);
    // A failure that claims to be neither definitive nor temporary is treated as definitive (fail safe).
    if (check.definitive_failure || !check.temporary_failure)
        return failed_definitively(domain, previous, check, now, grace_period);
    return failed_temporarily(domain, previous, check, now);
}

}  // namespace relaygate::registry
