// admin_file_fields.hpp (private to the registry library): the fields of one
// admin-file line and their checks — selector, key, owner, sasl, networks.
// Used only by admin_file.cpp; each check returns a message or nullopt.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "relaygate/registry/admin_file.hpp"

namespace relaygate::registry::fields {

enum class field : unsigned { selector, key, owner, sasl, networks };

std::optional<field> find_field(std::string_view key);
std::string_view name_of(field f);
// Validates value and stores it into entry; the problem when it is not acceptable.
std::optional<std::string> apply(field f, std::string value, domain_entry& entry, const admin_file_limits& limits);
// selector._domainkey.domain must itself be a valid name (253 octets).
std::optional<std::string> check_record_name(const domain_entry& entry);

std::string hex_byte(unsigned char c);         // "0x1b"
std::string printable(std::string_view text);  // for messages: control bytes as \xNN, cut at 80 bytes
bool valid_utf8(std::string_view text);
}  // namespace relaygate::registry::fields
