// domain_registry.cpp: lookups over one immutable registry snapshot (see domain_registry.hpp).
#include "relaygate/registry/domain_registry.hpp"

#include <stdexcept>

namespace relaygate::registry {

domain_registry::domain_registry(std::vector<domain_entry> entries,
                                 std::unordered_map<std::string, verification_status> states,
                                 std::vector<std::string> operator_domains)
    : entries_(std::move(entries)), states_(std::move(states)), operator_domains_(std::move(operator_domains)) {
    index_.reserve(entries_.size());
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        // Loaders reject duplicates with a file/line message; reaching here with one is a bug.
        if (!index_.emplace(entries_[i].domain, i).second) {
            throw std::logic_error("domain_registry: duplicate domain " + entries_[i].domain);
        }
    }
}

const domain_entry* domain_registry::find(std::string_view domain) const {
    auto it = index_.find(domain);
    return it == index_.end() ? nullptr : &entries_[it->second];
}

verification_status domain_registry::status_of(std::string_view domain) const {
    auto it = states_.find(std::string(domain));
    return it == states_.end() ? verification_status{} : it->second;
}

bool domain_registry::is_operator_domain(std::string_view domain) const {
    for (const auto& own : operator_domains_) {
        if (domain == own) return true;
        // subdomain: "x.own" — the character before the suffix must be a dot
        if (domain.size() > own.size() && domain.ends_with(own) && domain[domain.size() - own.size() - 1] == '.') {
            return true;
        }
    }
    return false;
}

}  // namespace relaygate::registry
