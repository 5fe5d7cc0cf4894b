// signing_selector.hpp: the pure rules of DKIM key rotation. An admin-file entry
// may list several selectors, oldest first; the milter signs with ONE of them.
// choose_signing_selector picks it from the last check of each selector (the
// old one until a newer one verifies, then the newest verified one);
// removable_selectors says which older selectors the owner may unpublish once
// the new one has signed for the overlap (rotation-overlap). No clock, no I/O:
// called by domain_verifier, relaygate-admin status/records and the tests.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace relaygate::registry {

// The last check of one selector, reduced to what the choice needs.
enum class selector_check {
    unchecked,  // not checked yet (a selector just added)
    match,      // the published key equals the held key
    temporary,  // DNS trouble: the result is unknown
    failed,     // definitively not usable (no record, other key, revoked, ...)
};
// From a dkim_outcome's name ("match", "temporary", "no_record", ...; "" = unchecked).
selector_check selector_check_of(std::string_view outcome);

// The index of the selector to sign with. checks: one per selector, oldest
// first. previous: the signing selector before this check (npos = none known).
//  1. the newest selector that matches signs — a newer key takes over only
//     once it is published and verified;
//  2. the previous one keeps signing while its own check is only temporary
//     (a DNS blip never moves signing back to an older key);
//  3. nothing matches: the previous one stays (the domain then fails by the
//     usual rules), else the oldest.
std::size_t choose_signing_selector(std::span<const selector_check> checks, std::size_t previous);

// The selectors older than the signing one once it has signed for overlap
// (since: when it started signing; 0 = never switched, nothing removable).
std::vector<std::size_t> removable_selectors(std::size_t signing, std::int64_t since, std::int64_t now,
                                             std::chrono::seconds overlap);

}  // namespace relaygate::registry
