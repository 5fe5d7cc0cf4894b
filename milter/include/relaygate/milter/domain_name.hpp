// domain_name.hpp: normalises a mail domain to the registry's key form —
// ASCII lower case, one trailing dot removed, U-labels converted to A-labels
// (libidn2, IDNA 2008 + TR46 non-transitional), LDH labels of 1..63 bytes,
// at most 253 bytes. Pure; called by the From-header parser and relaygate-admin.
#pragma once

#include <string>
#include <string_view>

#include "relaygate/registry/expected.hpp"

namespace relaygate::milter {

// The normalised domain, or a short English reason ("empty label", "invalid IDN: ...").
expected<std::string, std::string> normalise_domain(std::string_view domain);

}  // namespace relaygate::milter
