// domain_registry.cpp: lookups over one immutable registry snapshot (see domain_registry.hpp).
// The index is a flat open-addressing table of 8-byte slots (hash tag + position), so a
// million domains cost 16 MB of index and a lookup is one hash, a probe or two and one compare.
#include "relaygate/registry/domain_registry.hpp"

#include <bit>
#include <functional>
#include <stdexcept>

namespace relaygate::registry {
namespace {

std::uint64_t hash_of(std::string_view s) { return std::hash<std::string_view>{}(s); }

}  // namespace

domain_registry::domain_registry(std::vector<domain_entry> entries,
                                 const std::unordered_map<std::string, verification_status>& states,
                                 std::vector<std::string> operator_domains)
    : entries_(std::move(entries)), operator_domains_(std::move(operator_domains)) {
    // Loaders reject duplicates with a file/line message; reaching here with one is a bug.
    if (auto dup = try_build_index()) {
        throw std::logic_error("domain_registry: duplicate domain " + dup->second.domain);
    }
    for (const auto& [domain, status] : states) set_status(domain, status);
}

expected<std::shared_ptr<domain_registry>, domain_registry::duplicate_domain> domain_registry::build(
    std::vector<domain_entry> entries, std::vector<std::string> operator_domains) {
    auto reg = std::make_shared<domain_registry>();
    reg->entries_ = std::move(entries);
    reg->operator_domains_ = std::move(operator_domains);
    if (auto dup = reg->try_build_index()) return unexpected(*dup);
    return reg;
}

std::optional<domain_registry::duplicate_domain> domain_registry::try_build_index() {
    if (entries_.size() >= 0xffffffffu) throw std::length_error("domain_registry: too many domains");
    // At most half full, so probe sequences stay short.
    const std::size_t capacity = std::bit_ceil(std::max<std::size_t>(16, entries_.size() * 2));
    slots_.assign(capacity, 0);
    status_.assign(entries_.size(), compact_status{});
    const std::size_t mask = capacity - 1;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        const std::uint64_t h = hash_of(entries_[i].domain);
        const std::uint64_t tag = h & 0xffffffff00000000ull;
        for (std::size_t s = h & mask;; s = (s + 1) & mask) {
            if (slots_[s] == 0) {
                slots_[s] = tag | (i + 1);
                break;
            }
            if ((slots_[s] & 0xffffffff00000000ull) == tag) {
                const std::size_t other = (slots_[s] & 0xffffffffu) - 1;
                if (entries_[other].domain == entries_[i].domain) return duplicate_domain{entries_[other], entries_[i]};
            }
        }
    }
    return std::nullopt;
}

std::size_t domain_registry::position_of(std::string_view domain) const {
    if (slots_.empty()) return std::string_view::npos;
    const std::size_t mask = slots_.size() - 1;
    const std::uint64_t h = hash_of(domain);
    const std::uint64_t tag = h & 0xffffffff00000000ull;
    for (std::size_t s = h & mask;; s = (s + 1) & mask) {
        const std::uint64_t slot = slots_[s];
        if (slot == 0) return std::string_view::npos;
        if ((slot & 0xffffffff00000000ull) == tag) {
            const std::size_t pos = (slot & 0xffffffffu) - 1;
            if (entries_[pos].domain == domain) return pos;
        }
    }
}

bool domain_registry::set_status(std::string_view domain, const verification_status& status) {
    const auto pos = position_of(domain);
    if (pos == std::string_view::npos) return false;
    auto& c = status_[pos];
    c.state = status.state;
    c.temporary_failure = status.temporary_failure;
    c.last_checked = status.last_checked;
    c.verified_since = status.verified_since;
    c.failing_since = status.failing_since;
    const auto& entry = entries_[pos];
    const auto signing = status.signing_selector.empty() ? 0 : selector_index(entry, status.signing_selector);
    // A selector no longer in the entry (the operator edited the line): sign with the first one.
    c.signing = static_cast<std::uint8_t>(signing > 0xff ? 0 : signing);  // npos too
    if (selector_count(entry) > 1) {
        rotations_[pos] = {status.signing_since, status.selectors};
    } else {
        rotations_.erase(pos);
    }
    if (status.reason_code.empty() && status.reason_text.empty()) {
        c.reason = 0;
    } else if (c.reason != 0) {
        reasons_[c.reason - 1] = {status.reason_code, status.reason_text};
    } else {
        reasons_.emplace_back(status.reason_code, status.reason_text);
        c.reason = static_cast<std::uint32_t>(reasons_.size());
    }
    return true;
}

const domain_entry* domain_registry::find(std::string_view domain) const {
    const auto pos = position_of(domain);
    return pos == std::string_view::npos ? nullptr : &entries_[pos];
}

verification_status domain_registry::status_of(std::string_view domain) const {
    const auto pos = position_of(domain);
    if (pos == std::string_view::npos) return {};
    const auto& c = status_[pos];
    verification_status s;
    s.state = c.state;
    s.temporary_failure = c.temporary_failure;
    s.last_checked = c.last_checked;
    s.verified_since = c.verified_since;
    s.failing_since = c.failing_since;
    if (c.reason != 0) {
        s.reason_code = reasons_[c.reason - 1].first;
        s.reason_text = reasons_[c.reason - 1].second;
    }
    s.signing_selector = selector_name(entries_[pos], c.signing);
    if (auto it = rotations_.find(pos); it != rotations_.end()) {
        s.signing_since = it->second.signing_since;
        s.selectors = it->second.selectors;
    }
    return s;
}

dkim_selector domain_registry::signing_selector_of(const domain_entry& e) const {
    const auto pos = position_of(e.domain);
    const std::size_t i = pos == std::string_view::npos ? 0 : status_[pos].signing;
    return {selector_name(e, i), selector_key(e, i)};
}

std::size_t selector_index(const domain_entry& e, std::string_view name) {
    for (std::size_t i = 0; i < selector_count(e); ++i) {
        if (selector_name(e, i) == name) return i;
    }
    return std::string_view::npos;
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
