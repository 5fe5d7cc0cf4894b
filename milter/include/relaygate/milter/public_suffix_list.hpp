// public_suffix_list.hpp: the registrable domain of a host name (eTLD+1) by the
// Public Suffix List rules (normal, "*." wildcard, "!" exception; the implicit
// "*" rule for unknown TLDs). Pure: parse() takes the list's text, which the
// milter and relaygate-admin read from Debian's publicsuffix package
// (/usr/share/publicsuffix/public_suffix_list.dat, url-public-suffix-file).
// ICANN and private sections are both used, so "evil.github.io" is its own domain.
#pragma once

#include <string>
#include <string_view>
#include <unordered_set>

#include "relaygate/registry/expected.hpp"

namespace relaygate::milter {

inline constexpr std::string_view default_public_suffix_file = "/usr/share/publicsuffix/public_suffix_list.dat";

class public_suffix_list {
public:
    // Rules from the list's text; entries are normalised to A-labels once here.
    // An error names the line; a list without any rule is an error too.
    static expected<public_suffix_list, std::string> parse(std::string_view text);

    // host: normalised (lower case A-labels, no trailing dot). The registrable
    // domain (public suffix plus one label), or "" when host is itself a public
    // suffix (e.g. "co.uk") or empty.
    std::string registrable_domain(std::string_view host) const;
    std::size_t size() const { return rules_.size() + wildcards_.size() + exceptions_.size(); }

private:
    std::unordered_set<std::string> rules_;       // "co.uk"
    std::unordered_set<std::string> wildcards_;   // "ck" for "*.ck"
    std::unordered_set<std::string> exceptions_;  // "www.ck" for "!www.ck"
};

}  // namespace relaygate::milter
