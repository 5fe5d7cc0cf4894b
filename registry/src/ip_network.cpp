// ip_network.cpp: parsing and prefix matching for ip_network (see ip_network.hpp).
#include "relaygate/registry/ip_network.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace relaygate::registry {
namespace {

// Parses a bare address into 16 bytes; returns false when it is neither family.
bool parse_address(std::string_view text, std::array<std::uint8_t, 16>& out, bool& v6) {
    if (text.empty() || text.size() > 45) return false;
    char buf[46];
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    out.fill(0);
    if (inet_pton(AF_INET, buf, out.data()) == 1) {
        v6 = false;
        return true;
    }
    if (inet_pton(AF_INET6, buf, out.data()) == 1) {
        v6 = true;
        return true;
    }
    return false;
}

}  // namespace

std::optional<ip_network> ip_network::parse(std::string_view text) {
    ip_network net;
    auto slash = text.find('/');
    if (!parse_address(text.substr(0, slash), net.address, net.v6)) return std::nullopt;
    const unsigned max_prefix = net.v6 ? 128 : 32;
    unsigned prefix = max_prefix;
    if (slash != std::string_view::npos) {
        auto digits = text.substr(slash + 1);
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
        if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || prefix > max_prefix) {
            return std::nullopt;
        }
    }
    net.prefix = static_cast<std::uint8_t>(prefix);
    return net;
}

bool ip_network::contains(std::string_view ip) const {
    std::array<std::uint8_t, 16> other{};
    bool other_v6 = false;
    if (!parse_address(ip, other, other_v6) || other_v6 != v6) return false;
    const unsigned full = prefix / 8, rest = prefix % 8;
    if (std::memcmp(address.data(), other.data(), full) != 0) return false;
    if (rest == 0) return true;
    const std::uint8_t mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (address[full] & mask) == (other[full] & mask);
}

std::string ip_network::to_string() const {
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(v6 ? AF_INET6 : AF_INET, address.data(), buf, sizeof buf);
    return std::string(buf) + "/" + std::to_string(prefix);
}

}  // namespace relaygate::registry
