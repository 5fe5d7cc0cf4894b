// admin_file_fields.cpp: per-field checks of the admin file (see admin_file_fields.hpp).
#include "admin_file_fields.hpp"

#include <algorithm>

namespace relaygate::registry::fields {
namespace {

constexpr std::string_view names[] = {"selector", "key", "owner", "sasl", "networks"};

bool is_selector_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'; }

std::optional<std::string> check_selector(std::string& value, const admin_file_limits& limits) {
    if (value.size() > limits.max_selector_bytes) {
        return "longer than " + std::to_string(limits.max_selector_bytes) + " bytes";
    }
    for (auto& c : value) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');  // DNS names are case-insensitive
        if (!is_selector_char(c)) return "'" + printable(value) + "': only letters, digits, '-' and '.' are allowed";
    }
    // dot-separated labels, none empty, none starting or ending with '-'
    std::size_t start = 0;
    while (start <= value.size()) {
        auto dot = value.find('.', start);
        if (dot == std::string::npos) dot = value.size();
        auto label = std::string_view(value).substr(start, dot - start);
        if (label.empty()) return "'" + value + "': empty label";
        if (label.front() == '-' || label.back() == '-') return "'" + value + "': a label starts or ends with '-'";
        start = dot + 1;
    }
    return std::nullopt;
}

std::optional<std::string> check_key_path(const std::string& value, const admin_file_limits& limits) {
    if (value.size() > limits.max_key_path_bytes) {
        return "longer than " + std::to_string(limits.max_key_path_bytes) + " bytes";
    }
    if (value.front() != '/') return "'" + printable(value) + "': must be an absolute path";
    if (!valid_utf8(value)) return "not valid UTF-8";
    return std::nullopt;
}

std::optional<std::string> check_owner(const std::string& value, const admin_file_limits& limits) {
    if (value.size() > limits.max_owner_bytes)
        return "longer than " + std::to_string(limits.max_owner_bytes) + " bytes";
    if (!valid_utf8(value)) return "not valid UTF-8";
    return std::nullopt;
}

// Splits a comma list; nullopt-free: empty items are reported by the caller.
std::vector<std::string_view> split_commas(std::string_view value) {
    std::vector<std::string_view> items;
    std::size_t start = 0;
    while (true) {
        auto comma = value.find(',', start);
        items.push_back(value.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return items;
}

std::optional<std::string> apply_sasl(const std::string& value, domain_entry& entry, const admin_file_limits& limits) {
    for (auto login : split_commas(value)) {
        if (login.empty()) return std::string("empty login in the list");
        if (entry.sasl_logins.size() >= limits.max_logins) {
            return "more than " + std::to_string(limits.max_logins) + " logins";
        }
        if (login.size() > limits.max_login_bytes) {
            return "a login is longer than " + std::to_string(limits.max_login_bytes) + " bytes";
        }
        if (login.find_first_of(" \t\"") != std::string_view::npos || !valid_utf8(login)) {
            return "'" + printable(login) + "': not a valid login";
        }
        if (std::find(entry.sasl_logins.begin(), entry.sasl_logins.end(), login) != entry.sasl_logins.end()) {
            return "'" + std::string(login) + "' is listed twice";
        }
        entry.sasl_logins.emplace_back(login);
    }
    return std::nullopt;
}

std::optional<std::string> apply_networks(const std::string& value, domain_entry& entry,
                                          const admin_file_limits& limits) {
    for (auto text : split_commas(value)) {
        if (text.empty()) return std::string("empty network in the list");
        if (entry.client_networks.size() >= limits.max_networks) {
            return "more than " + std::to_string(limits.max_networks) + " networks";
        }
        auto net = ip_network::parse(text);
        if (!net) return "'" + printable(text) + "': not an IP address or network (e.g. 192.0.2.0/24, 2001:db8::/32)";
        // Host bits set ("192.0.2.7/24") is almost always a typo for the network or the host.
        auto canonical = *net;
        for (unsigned bit = canonical.prefix; bit < (canonical.v6 ? 128u : 32u); ++bit) {
            canonical.address[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
        }
        if (canonical.address != net->address) {
            return "'" + std::string(text) + "': host bits set (did you mean " + canonical.to_string() + "?)";
        }
        entry.client_networks.push_back(*net);
    }
    return std::nullopt;
}

}  // namespace

std::optional<field> find_field(std::string_view key) {
    for (unsigned i = 0; i < std::size(names); ++i) {
        if (names[i] == key) return static_cast<field>(i);
    }
    return std::nullopt;
}

std::string_view name_of(field f) { return names[static_cast<unsigned>(f)]; }

std::optional<std::string> apply(field f, std::string value, domain_entry& entry, const admin_file_limits& limits) {
    switch (f) {
        case field::selector:
            if (auto problem = check_selector(value, limits)) return problem;
            entry.selector = std::move(value);
            return std::nullopt;
        case field::key:
            if (auto problem = check_key_path(value, limits)) return problem;
            entry.key_path = std::move(value);
            return std::nullopt;
        case field::owner:
            if (auto problem = check_owner(value, limits)) return problem;
            entry.owner = std::move(value);
            return std::nullopt;
        case field::sasl:
            return apply_sasl(value, entry, limits);
        case field::networks:
            return apply_networks(value, entry, limits);
    }
    return std::string("unknown field");
}

std::optional<std::string> check_record_name(const domain_entry& entry) {
    // "<selector>._domainkey.<domain>" is what verification looks up; it must fit in a DNS name.
    const std::size_t length = entry.selector.size() + std::string_view("._domainkey.").size() + entry.domain.size();
    if (length > 253) {
        return entry.selector + "._domainkey." + entry.domain + " is longer than 253 octets";
    }
    return std::nullopt;
}

std::string hex_byte(unsigned char c) {
    static constexpr char hex[] = "0123456789abcdef";
    return std::string("0x") + hex[c >> 4] + hex[c & 0xf];
}

std::string printable(std::string_view text) {
    std::string out;
    for (unsigned char c : text.substr(0, 80)) {
        if (c < 0x20 || c == 0x7f) {
            out += "\\x" + hex_byte(c).substr(2);
        } else {
            out += static_cast<char>(c);
        }
    }
    if (text.size() > 80) out += "...";
    return out;
}

bool valid_utf8(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        auto c = static_cast<unsigned char>(text[i]);
        std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
        if (len == 0 || i + len > text.size()) return false;
        std::uint32_t cp = len == 1 ? c : c & (0x7f >> len);
        for (std::size_t k = 1; k < len; ++k) {
            auto cc = static_cast<unsigned char>(text[i + k]);
            if ((cc >> 6) != 0x2) return false;
            cp = (cp << 6) | (cc & 0x3f);
        }
        // overlong forms, surrogates and values past U+10FFFF are not UTF-8
        static constexpr std::uint32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_for_len[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += len;
    }
    return true;
}

}  // namespace relaygate::registry::fields
