// signing_selector.cpp: which selector signs during a DKIM key rotation, and
// when the older ones may go (see signing_selector.hpp).
#include "relaygate/verify/signing_selector.hpp"

namespace relaygate::registry {

selector_check selector_check_of(std::string_view outcome) {
    if (outcome.empty()) return selector_check::unchecked;
    if (outcome == "match") return selector_check::match;
    if (outcome == "temporary") return selector_check::temporary;
    return selector_check::failed;
}

std::size_t choose_signing_selector(std::span<const selector_check> checks, std::size_t previous) {
    if (checks.empty()) return 0;
    const bool known = previous < checks.size();
    for (std::size_t i = checks.size(); i-- > 0;) {
        if (checks[i] == selector_check::match) return i;
        if (known && i == previous && checks[i] == selector_check::temporary) return i;
    }
    return known ? previous : 0;
}

std::vector<std::size_t> removable_selectors(std::size_t signing, std::int64_t since, std::int64_t now,
                                             std::chrono::seconds overlap) {
    std::vector<std::size_t> out;
    if (signing == 0 || since == 0 || now - since < overlap.count()) return out;
    for (std::size_t i = 0; i < signing; ++i) out.push_back(i);
    return out;
}

}  // namespace relaygate::registry
