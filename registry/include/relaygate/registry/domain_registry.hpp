// domain_registry.hpp: one immutable snapshot of the registry — registered
// customer domains (from the admin file), their verification state, and the
// operator's own From domains. Built whole by a loader, published through
// registry_handle, read by the milter, the policy daemon and relaygate-admin.
//
// Matching rules (keys are normalised once at load: lower case, no trailing
// dot, IDN U-labels converted to A-labels):
//   - customer domains match EXACTLY: registering example.com does not cover
//     news.example.com (its DKIM/SPF records are separate names);
//   - operator domains match the domain itself and every subdomain.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "relaygate/registry/expected.hpp"
#include "relaygate/registry/ip_network.hpp"

namespace relaygate::registry {

enum class key_algorithm { rsa, ed25519 };

// One DKIM selector of a domain with the private key the operator holds for it.
struct dkim_selector {
    std::string name;      // the selector (selector._domainkey.domain)
    std::string key_path;  // PEM private key
};

struct domain_entry {
    std::string domain;                       // normalised A-label form
    std::string selector;                     // DKIM selector
    std::string key_path;                     // the private key the operator holds (PEM)
    std::string owner;                        // account / contact, free text
    std::vector<std::string> sasl_logins;     // who may use it; empty = no login restriction
    std::vector<ip_network> client_networks;  // from where; empty = no network restriction
    // Where it was defined, for messages. Shared by every entry of one file (one
    // copy of the path, not a million); may be null for entries built in code.
    std::shared_ptr<const std::string> source_file;
    int source_line = 0;
    // Key rotation: the selectors listed after the first one (selector/key_path), oldest
    // first. Empty for a domain with one selector (no rotation under way).
    std::vector<dkim_selector> newer_selectors;
};

// The selectors of an entry in file order (0 = selector/key_path, then newer_selectors).
inline std::size_t selector_count(const domain_entry& e) { return 1 + e.newer_selectors.size(); }
inline const std::string& selector_name(const domain_entry& e, std::size_t i) {
    return i == 0 ? e.selector : e.newer_selectors.at(i - 1).name;
}
inline const std::string& selector_key(const domain_entry& e, std::size_t i) {
    return i == 0 ? e.key_path : e.newer_selectors.at(i - 1).key_path;
}
// The position of selector name in the entry, or npos.
std::size_t selector_index(const domain_entry& e, std::string_view name);

// The last check of one selector of a domain under rotation (state file, `status`).
struct selector_result {
    std::string selector;
    std::string outcome;  // dkim_outcome's name ("match", "no_record", ...), "" = not checked yet
};

enum class verification_state { pending, verified, failed };

struct verification_status {
    verification_state state = verification_state::pending;
    bool temporary_failure = false;  // the last check hit a temporary DNS failure
    std::string reason_code;         // e.g. "dkim_no_record", "spf_fail"; empty when verified
    std::string reason_text;         // for humans and SMTP replies, e.g. "no DKIM key at s1._domainkey.example.com"
    std::int64_t last_checked = 0;   // unix seconds, 0 = never
    std::int64_t verified_since = 0;
    std::int64_t failing_since = 0;  // first failed check of the current failing streak (grace period)
    // First check of a domain not yet verified since it was registered (0 once verified, and for
    // a domain demoted from verified): drives the "pending for too long" alert. State file only.
    std::int64_t pending_since = 0;
    // DKIM key rotation. The selector the milter signs with ("" = the entry's first); since
    // when it signs (0 = from the start, no switch recorded); with more than one selector, the
    // last check of each (in the entry's order). Chosen by choose_signing_selector.
    std::string signing_selector;
    std::int64_t signing_since = 0;
    std::vector<selector_result> selectors;
};

class domain_registry {
public:
    domain_registry() = default;
    // Throws std::logic_error on a duplicate domain (loaders use build(), which reports it).
    domain_registry(std::vector<domain_entry> entries,
                    const std::unordered_map<std::string, verification_status>& states,
                    std::vector<std::string> operator_domains);

    // Two entries with the same domain (copies, for the message naming both lines).
    struct duplicate_domain {
        domain_entry first, second;
    };
    // For loaders: builds a registry with every domain pending; a duplicate is reported, not thrown.
    static expected<std::shared_ptr<domain_registry>, duplicate_domain> build(
        std::vector<domain_entry> entries, std::vector<std::string> operator_domains);
    // For loaders, before the snapshot is published (it is const afterwards): sets the status of
    // a registered domain. Returns false when the domain is not registered.
    bool set_status(std::string_view domain, const verification_status& status);

    // The entry for a normalised domain, or nullptr. Exact match only.
    const domain_entry* find(std::string_view domain) const;
    // The verification status of a registered domain; pending when never checked.
    // Its signing_selector is always set (the entry's first selector unless a rotation switched).
    verification_status status_of(std::string_view domain) const;
    // The selector (name and key) the milter signs e's mail with; e must be an entry of this registry.
    dkim_selector signing_selector_of(const domain_entry& e) const;
    // True for an operator domain or any subdomain of one.
    bool is_operator_domain(std::string_view domain) const;

    const std::vector<domain_entry>& entries() const { return entries_; }
    const std::vector<std::string>& operator_domains() const { return operator_domains_; }
    std::size_t size() const { return entries_.size(); }

private:
    // Compact per-entry status (32 bytes); the reason strings live in reasons_ only when present,
    // so 1,000,000 verified domains cost 32 MB, not a hash map of strings.
    struct compact_status {
        std::int64_t last_checked = 0, verified_since = 0, failing_since = 0;
        std::uint32_t reason = 0;  // 1-based index into reasons_; 0 = none
        verification_state state = verification_state::pending;
        bool temporary_failure = false;
        std::uint8_t signing = 0;  // index of the signing selector (selector_name); fits in the padding
    };
    static_assert(sizeof(verification_state) <= 4);
    // Only for domains with more than one selector: since when the signing one signs, and each result.
    struct rotation_status {
        std::int64_t signing_since = 0;
        std::vector<selector_result> selectors;
    };

    std::optional<duplicate_domain> try_build_index();       // fills slots_ and status_; reports a duplicate
    std::size_t position_of(std::string_view domain) const;  // index into entries_, or npos

    std::vector<domain_entry> entries_;
    // Open-addressing hash table: (hash high 32 bits << 32) | (position + 1); 0 = empty slot.
    std::vector<std::uint64_t> slots_;
    std::vector<compact_status> status_;                          // parallel to entries_
    std::vector<std::pair<std::string, std::string>> reasons_;    // reason_code, reason_text
    std::unordered_map<std::size_t, rotation_status> rotations_;  // by position; rotating domains only
    std::vector<std::string> operator_domains_;
};

// The live snapshot. current() is what a message or request takes once and
// uses to the end; publish() swaps in a whole new, already validated snapshot.
class registry_handle {
public:
    explicit registry_handle(std::shared_ptr<const domain_registry> initial = std::make_shared<domain_registry>())
        : current_(std::move(initial)) {}
    std::shared_ptr<const domain_registry> current() const {
        std::lock_guard lock(mutex_);
        return current_;
    }
    void publish(std::shared_ptr<const domain_registry> next) {
        std::lock_guard lock(mutex_);
        current_.swap(next);
    }  // the old snapshot dies outside the lock, with its last reader

private:
    mutable std::mutex mutex_;
    std::shared_ptr<const domain_registry> current_;
};

}  // namespace relaygate::registry
