// standard_registry.hpp: the registry every milter test uses — which domains
// are registered (selector, key from tests/testdata/milter/keys, SASL and
// network restrictions) and how each is verified. decision_test builds a
// domain_registry from it; milter_fixture writes it as admin + state file.
#pragma once

#include <string>
#include <vector>

#include "relaygate/registry/domain_registry.hpp"
#include "relaygate/registry/state_store.hpp"

namespace relaygate::milter::testing {

inline const std::string testdata = std::string(RELAYGATE_SOURCE_DIR) + "/tests/testdata/milter/";
inline const std::string operator_domain = "relay.example.net";

// verified, ed (Ed25519 key, selector s2), pending, failed (no DKIM key), spf
// (SPF misses 192.0.2.12), tempfail (DNS timeout), sasl (alice, carol), net (198.51.100.0/24).
std::vector<registry::domain_entry> standard_entries();
registry::state_map standard_states();  // pending.example: never checked
std::string admin_file_text();          // standard_entries() in admin-file syntax

}  // namespace relaygate::milter::testing
