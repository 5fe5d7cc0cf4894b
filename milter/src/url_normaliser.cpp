// url_normaliser.cpp: URL -> host -> registrable domain (see url_normaliser.hpp).
#include "relaygate/milter/url_normaliser.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>

#include "relaygate/registry/domain_name.hpp"

namespace relaygate::milter {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        if (lower(s[i]) != prefix[i]) return false;
    }
    return true;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

std::string percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out += static_cast<char>(hi * 16 + lo);
                i += 2;
                continue;
            }
        }
        out += s[i];
    }
    return out;
}

// One part of a WHATWG IPv4 host: decimal, 0x hex or leading-0 octal; nullopt if not a number.
std::optional<std::uint64_t> ipv4_number(std::string_view part) {
    if (part.empty()) return std::nullopt;
    int base = 10;
    if (part.size() >= 2 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X')) {
        base = 16;
        part.remove_prefix(2);
        if (part.empty()) return 0;
    } else if (part.size() >= 2 && part[0] == '0') {
        base = 8;
        part.remove_prefix(1);
    }
    if (part.size() > 20) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : part) {
        int d = hex_value(c);
        if (d < 0 || d >= base) return std::nullopt;
        v = v * static_cast<unsigned>(base) + static_cast<unsigned>(d);
        if (v > 0xffffffffULL) return v;  // too large: the caller rejects it
    }
    return v;
}

// The host as an IPv4 address a browser would contact ("3232235777", "0x7f.1",
// "127.0.0.1"), or nullopt when it is a name. A name whose last label is a
// number but which is not a valid address is an error (browsers refuse it).
expected<std::optional<std::string>, std::string> ipv4_literal(std::string_view host) {
    std::array<std::uint64_t, 4> parts{};
    std::size_t n = 0;
    std::string_view rest = host;
    auto last_dot = host.rfind('.');
    std::string_view last = last_dot == std::string_view::npos ? host : host.substr(last_dot + 1);
    if (!ipv4_number(last)) return std::optional<std::string>{};  // a name
    while (true) {
        auto dot = rest.find('.');
        auto part = rest.substr(0, dot);
        if (n == 4) return unexpected(std::string("IPv4 literal with more than 4 parts"));
        auto v = ipv4_number(part);
        if (!v) return unexpected(std::string("IPv4 literal with a part that is not a number"));
        parts[n++] = *v;
        if (dot == std::string_view::npos) break;
        rest = rest.substr(dot + 1);
    }
    std::uint64_t addr = 0;
    for (std::size_t i = 0; i + 1 < n; ++i) {
        if (parts[i] > 255) return unexpected(std::string("IPv4 literal part over 255"));
        addr = (addr << 8) | parts[i];
    }
    const unsigned last_bits = 8 * static_cast<unsigned>(5 - n);
    if (last_bits < 64 && parts[n - 1] >= (1ULL << last_bits)) {
        return unexpected(std::string("IPv4 literal out of range"));
    }
    addr = (addr << last_bits) | parts[n - 1];
    return std::optional<std::string>(std::to_string((addr >> 24) & 255) + "." + std::to_string((addr >> 16) & 255) +
                                      "." + std::to_string((addr >> 8) & 255) + "." + std::to_string(addr & 255));
}

// Host bytes a browser refuses (WHATWG "forbidden host code points").
bool forbidden_in_host(unsigned char c) {
    return c <= 0x20 || c == 0x7f || c == '#' || c == '%' || c == '/' || c == ':' || c == '<' || c == '>' || c == '?' ||
           c == '@' || c == '[' || c == '\\' || c == ']' || c == '^' || c == '|';
}

}  // namespace

expected<url_host, std::string> normalise_url_host(std::string_view raw_host, const public_suffix_list& suffixes) {
    std::string host = percent_decode(raw_host);
    if (host.starts_with('[')) {  // IPv6 literal
        if (!host.ends_with(']')) return unexpected(std::string("unterminated IPv6 literal"));
        std::string inner = host.substr(1, host.size() - 2);
        in6_addr a6{};
        if (inet_pton(AF_INET6, inner.c_str(), &a6) != 1) return unexpected(std::string("bad IPv6 literal"));
        char buf[INET6_ADDRSTRLEN] = {};
        inet_ntop(AF_INET6, &a6, buf, sizeof buf);
        return url_host{.host = buf, .registrable_domain = "", .ip_literal = true};
    }
    // Ideographic and fullwidth full stops separate labels as '.' does (UTS #46).
    for (std::string_view dot : {"\xe3\x80\x82", "\xef\xbc\x8e", "\xef\xbd\xa1"}) {
        for (auto at = host.find(dot); at != std::string::npos; at = host.find(dot, at))
            host.replace(at, dot.size(), ".");
    }
    while (host.ends_with('.')) host.pop_back();  // "evil.example." and "evil.example.." are evil.example
    if (host.empty()) return unexpected(std::string("no host"));
    for (unsigned char c : host) {
        if (forbidden_in_host(c)) return unexpected(std::string("character not allowed in a host"));
    }
    for (auto& c : host) c = lower(c);
    auto ip = ipv4_literal(host);
    if (!ip) return unexpected(ip.error());
    if (*ip) return url_host{.host = **ip, .registrable_domain = "", .ip_literal = true};
    // Browsers resolve names with '_' (not LDH, so normalise_domain refuses them):
    // checked as they are, lower case, when otherwise plain ASCII.
    std::string name;
    if (host.find('_') != std::string::npos &&
        std::all_of(host.begin(), host.end(), [](unsigned char c) { return c < 0x80; })) {
        if (host.size() > 253 || host.find("..") != std::string::npos || host.starts_with('.')) {
            return unexpected(std::string("bad host name"));
        }
        name = host;
    } else {
        auto n = registry::normalise_domain(host);
        if (!n) return unexpected(n.error());
        name = std::move(*n);
    }
    url_host out{.host = name, .registrable_domain = suffixes.registrable_domain(name), .ip_literal = false};
    return out;
}

expected<url_host, std::string> normalise_url(std::string_view raw, const public_suffix_list& suffixes) {
    // Surrounding blanks and angle brackets ("<http://a.example/>", RFC 3986 appendix C).
    while (!raw.empty() && (raw.front() == ' ' || raw.front() == '\t' || raw.front() == '<')) raw.remove_prefix(1);
    while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\t' || raw.back() == '>')) raw.remove_suffix(1);
    if (raw.size() > max_url_bytes) raw = raw.substr(0, max_url_bytes);
    if (starts_with_nocase(raw, "url:")) raw.remove_prefix(4);
    std::string_view rest;
    if (starts_with_nocase(raw, "http:") || starts_with_nocase(raw, "https:") || starts_with_nocase(raw, "ftp:")) {
        rest = raw.substr(raw.find(':') + 1);
    } else if (raw.starts_with("//") || raw.starts_with("\\\\") || starts_with_nocase(raw, "www.")) {
        rest = raw;  // scheme-relative, or no scheme at all: the authority starts at once
    } else {
        return unexpected(std::string("scheme not checked"));
    }
    // Special schemes: any run of '/' or '\' before the authority ("http:\\\\evil.example").
    while (!rest.empty() && (rest.front() == '/' || rest.front() == '\\')) rest.remove_prefix(1);
    auto end = rest.find_first_of("/\\?#");
    std::string_view authority = rest.substr(0, end);
    if (auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
    std::string_view host = authority;
    if (host.starts_with('[')) {
        auto close = host.find(']');
        if (close != std::string_view::npos) host = host.substr(0, close + 1);
    } else if (auto colon = host.find(':'); colon != std::string_view::npos) {
        host = host.substr(0, colon);  // the port
    }
    if (host.empty()) return unexpected(std::string("no host"));
    return normalise_url_host(host, suffixes);
}

}  // namespace relaygate::milter
