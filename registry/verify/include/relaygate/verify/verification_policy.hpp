// verification_policy.hpp: the pure state machine of domain verification —
// previous status + the summary of a new check + "now" -> next status.
// Rules: a verified domain that starts failing keeps working through the grace
// period and is demoted after it (logged); a temporary DNS failure alone never
// demotes it; pending stays pending on a temporary failure. No clock, no I/O:
// called by the re-verification scheduler and relaygate-admin verify.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "relaygate/log/log.hpp"
#include "relaygate/registry/domain_registry.hpp"

namespace relaygate::registry {

// What one verification found, reduced to what the policy needs.
struct check_summary {
    bool verified = false;            // DKIM matches and SPF passes for every outbound IP
    bool definitive_failure = false;  // some part failed in a way a retry will not change
    bool temporary_failure = false;   // some part hit a temporary DNS failure
    std::string reason_code;          // first definitive failure, else first temporary one; "" when verified
    std::string reason_text;
};

enum class transition {
    became_verified,    // pending/failed -> verified
    stays_verified,     // verified and still passing
    grace_started,      // verified, first definitive failure: still verified until the grace period ends
    in_grace,           // verified, still failing, grace period not over
    demoted,            // verified -> failed after the grace period
    became_failed,      // pending -> failed
    stays_failed,       // failed and still failing (definitively or temporarily)
    temporary_ignored,  // verified or pending, only a temporary failure: state kept
};
std::string_view to_string(transition t);  // "became_verified", ...

struct policy_result {
    verification_status next;
    transition change = transition::stays_verified;
    log::level level = log::level::info;  // notice for demotions and grace, debug for "no change"
    std::string log_line;                 // "- registry_demoted domain=example.com reason=spf_fail ..."
};

policy_result apply_check(std::string_view domain, const verification_status& previous, const check_summary& check,
                          std::int64_t now, std::chrono::seconds grace_period);

}  // namespace relaygate::registry
