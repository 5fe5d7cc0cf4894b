// ip_network.hpp: an IPv4 or IPv6 address with a prefix length ("192.0.2.0/24",
// "2001:db8::/32", a bare address = host route). Parsed from the admin file and
// the operator config; contains() is called per message by the milter.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace relaygate::registry {

struct ip_network {
    std::array<std::uint8_t, 16> address{};  // IPv4 stored in the first 4 bytes
    std::uint8_t prefix = 0;
    bool v6 = false;

    // nullopt on anything that is not a valid address[/prefix].
    static std::optional<ip_network> parse(std::string_view text);
    bool contains(std::string_view ip) const;  // false for unparsable or other-family addresses
    std::string to_string() const;
};

}  // namespace relaygate::registry
