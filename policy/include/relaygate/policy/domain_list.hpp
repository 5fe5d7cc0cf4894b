// domain_list.hpp: the operator's Microsoft-family domain list
// (postfix-conf/microsoft-domains). One entry per line, '#' comments:
//   hotmail.com     that domain only
//   .example.com    every subdomain of example.com (not example.com itself)
//   hotmail.*       the label "hotmail" under any public-suffix-like tail of one
//                   label (hotmail.fr) or two labels whose first is <= 3 chars
//                   (hotmail.co.jp, live.com.sg) -- not hotmail.evil.example
// Keys are ASCII, normalised at load (lower case, no trailing dot). Pure; the
// daemon loads it at start and on SIGHUP (a bad file keeps the old list).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "relaygate/registry/expected.hpp"

namespace relaygate::policy {

inline constexpr std::size_t domain_list_max_entries = 100000;

// Lets unordered containers of std::string be searched with a string_view.
struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
using string_set = std::unordered_set<std::string, string_hash, std::equal_to<>>;

// Lower-cases an ASCII domain and drops one trailing dot; empty when it is not
// a plausible DNS name (empty label, a byte outside [a-z0-9-_.], > 253 bytes).
std::string normalize_domain(std::string_view domain);

class domain_list {
public:
    // Parses the file's text; the error names source, line and entry.
    static expected<domain_list, std::string> parse(std::string_view text, std::string_view source);
    static expected<domain_list, std::string> load(const std::string& path);

    // domain must be normalised (normalize_domain).
    bool matches(std::string_view domain) const;
    std::size_t size() const { return exact_.size() + subdomain_.size() + wildcard_.size(); }

private:
    string_set exact_;      // "hotmail.com"
    string_set subdomain_;  // "example.com" for ".example.com"
    string_set wildcard_;   // "hotmail" for "hotmail.*"
};

}  // namespace relaygate::policy
