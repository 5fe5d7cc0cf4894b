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
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "relaygate/registry/ip_network.hpp"

namespace relaygate::registry {

enum class key_algorithm { rsa, ed25519 };

struct domain_entry {
    std::string domain;                       // normalised A-label form
    std::string selector;                     // DKIM selector
    std::string key_path;                     // the private key the operator holds (PEM)
    std::string owner;                        // account / contact, free text
    std::vector<std::string> sasl_logins;     // who may use it; empty = no login restriction
    std::vector<ip_network> client_networks;  // from where; empty = no network restriction
    std::string source_file;                  // where it was defined, for messages
    int source_line = 0;
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
};

class domain_registry {
public:
    domain_registry() = default;
    domain_registry(std::vector<domain_entry> entries, std::unordered_map<std::string, verification_status> states,
                    std::vector<std::string> operator_domains);

    // The entry for a normalised domain, or nullptr. Exact match only.
    const domain_entry* find(std::string_view domain) const;
    // The verification status of a registered domain; pending when never checked.
    verification_status status_of(std::string_view domain) const;
    // True for an operator domain or any subdomain of one.
    bool is_operator_domain(std::string_view domain) const;

    const std::vector<domain_entry>& entries() const { return entries_; }
    const std::vector<std::string>& operator_domains() const { return operator_domains_; }
    std::size_t size() const { return entries_.size(); }

private:
    std::vector<domain_entry> entries_;
    std::unordered_map<std::string_view, std::size_t> index_;  // views into entries_[i].domain
    std::unordered_map<std::string, verification_status> states_;
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
