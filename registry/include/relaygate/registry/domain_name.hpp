// domain_name.hpp: the one place a domain name is normalised — lower case,
// no trailing dot, IDN U-labels converted to A-labels (IDNA2008 via libidn2),
// LDH labels of 1..63 octets, 253 octets in all. Called once per name by the
// admin-file parser and the config validation; lookups then compare bytes.
#pragma once

#include <string>
#include <string_view>

#include "relaygate/registry/expected.hpp"

namespace relaygate::registry {

// The normalised A-label form of text, or a message saying what is wrong
// ("empty label", "label longer than 63 octets", "not a valid IDN: ...").
expected<std::string, std::string> normalise_domain(std::string_view text);

}  // namespace relaygate::registry
