// dns_message.hpp: pure DNS wire-format helpers (RFC 1035) under dns::resolver
// and the test DNS fixture: rdata decoding (TXT/MX/names/addresses), the
// negative TTL of a reply, and building a query packet. No I/O; every input is
// untrusted and bounded (names <= 255 bytes, <= 128 compression jumps).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "relaygate/dns/dns_resolver.hpp"

namespace relaygate::dns::wire {

using bytes = std::span<const unsigned char>;

// Reads a (possibly compressed) domain name at pos of msg and advances pos past
// it. Result: lower case, dotted, no trailing dot ("" for the root).
std::optional<std::string> read_name(bytes msg, std::size_t& pos);

// TXT rdata: its character-strings in order (join them for SPF/DKIM).
std::optional<std::vector<std::string>> txt_strings(bytes rdata);
// MX rdata (uncompressed, as libunbound hands it over).
std::optional<mx_record> mx(bytes rdata);
// A (4 bytes) or AAAA (16 bytes) rdata in text form.
std::optional<std::string> address(bytes rdata);
// NS/CNAME/PTR rdata (uncompressed name).
std::optional<std::string> name(bytes rdata);

// Negative-caching TTL of an NXDOMAIN/NODATA reply: min(SOA TTL, SOA MINIMUM)
// of the SOA in the authority section (RFC 2308), or nullopt when there is none.
std::optional<std::uint32_t> negative_ttl(bytes packet);

// The response code of a reply (low 4 bits of byte 3), or nullopt if too short.
std::optional<int> rcode(bytes packet);

// A recursion-desired query for name/type with the given id; empty when the
// name is not a valid domain name (label > 63, total > 253, empty label).
std::vector<unsigned char> build_query(std::string_view name, rr_type type, std::uint16_t id);

}  // namespace relaygate::dns::wire
