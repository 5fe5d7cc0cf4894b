// spf_record.hpp: the SPF record parser and macro expander (RFC 7208 §4.5, §4.6.1,
// §5, §6, §7), pure: text in, record or error out, no DNS. A record that breaks
// the ABNF anywhere is a syntax error (the caller's permerror), as receivers
// (pyspf, Microsoft, Gmail) treat it. Hard limits: a record longer than
// max_record_length or with more than max_terms terms is refused; an expansion
// never grows past max_expansion. Called by spf_verifier (check_host()).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "relaygate/registry/expected.hpp"

namespace relaygate::registry::spf {

constexpr std::size_t max_record_length = 4096;  // joined TXT strings; real records are < 512
constexpr std::size_t max_terms = 256;
constexpr std::size_t max_expansion = 1024;  // bytes a macro expansion may produce before truncation
constexpr std::size_t max_domain_length = 253;

enum class qualifier : char { pass = '+', fail = '-', softfail = '~', neutral = '?' };
enum class mechanism_kind { all, include, a, mx, ptr, ip4, ip6, exists };

struct mechanism {
    qualifier q = qualifier::pass;
    mechanism_kind kind = mechanism_kind::all;
    std::string domain_spec;                 // macro-string; empty = the current domain (a, mx, ptr)
    int cidr4 = 32;                          // a, mx, ip4
    int cidr6 = 128;                         // a, mx, ip6
    std::array<std::uint8_t, 16> network{};  // ip4 (first 4 bytes), ip6
};

struct record {
    std::vector<mechanism> mechanisms;
    std::optional<std::string> redirect;  // domain-spec
    std::optional<std::string> exp;       // domain-spec (checked, never fetched by relaygate)
};

// "v=spf1" followed by a space or the end, case-insensitive (§4.5).
bool is_spf_record(std::string_view txt);
// The whole record, version included; error text names the offending term.
expected<record, std::string> parse_record(std::string_view text);

// What macros expand to (§7.2). Addresses are 4 or 16 bytes.
struct macro_context {
    std::string local_part;                 // l (of s)
    std::string sender_domain;              // o
    std::string domain;                     // d, the current domain
    std::string helo;                       // h
    std::vector<std::uint8_t> ip;           // i, v, c
    std::string validated_ptr = "unknown";  // p, looked up by the caller when needed
};
// Does the macro-string use %{p} (so the caller must look the name up first)?
bool uses_ptr_macro(std::string_view macro_string);
// Expands a checked domain-spec and applies §4.8 (longer than 253: drop labels from the left).
expected<std::string, std::string> expand_domain(std::string_view domain_spec, const macro_context& context);

// A domain name check_host() accepts as <domain> (§4.3): multi-label, labels 1..63, ≤ 253.
bool is_valid_domain(std::string_view domain);

}  // namespace relaygate::registry::spf
