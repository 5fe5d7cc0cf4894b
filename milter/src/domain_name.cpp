// domain_name.cpp: domain normalisation for From-header domains (see domain_name.hpp).
#include "relaygate/milter/domain_name.hpp"

#include <idn2.h>

#include <cstdlib>
#include <memory>

namespace relaygate::milter {
namespace {

constexpr std::size_t max_domain = 253;
constexpr std::size_t max_label = 63;

bool is_ldh(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'; }

// Checks the ASCII form: labels of LDH (and '_', seen in real names) characters.
expected<std::string, std::string> check_ascii(std::string name) {
    if (name.empty()) return unexpected(std::string("empty domain"));
    if (name.size() > max_domain) return unexpected(std::string("domain longer than 253 bytes"));
    std::size_t label = 0;
    for (std::size_t i = 0; i <= name.size(); ++i) {
        if (i == name.size() || name[i] == '.') {
            if (label == 0) return unexpected(std::string("empty label"));
            if (label > max_label) return unexpected(std::string("label longer than 63 bytes"));
            label = 0;
            continue;
        }
        if (!is_ldh(name[i])) return unexpected(std::string("character not allowed in a domain name"));
        ++label;
    }
    return name;
}

}  // namespace

expected<std::string, std::string> normalise_domain(std::string_view domain) {
    if (domain.ends_with('.')) domain.remove_suffix(1);  // "example.com." is the same name
    if (domain.size() > 4 * max_domain) return unexpected(std::string("domain longer than 253 bytes"));
    bool ascii = true;
    std::string lower;
    lower.reserve(domain.size());
    for (char c : domain) {
        if (c == '\0') return unexpected(std::string("NUL byte in domain"));
        if (static_cast<unsigned char>(c) >= 0x80) ascii = false;
        lower += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    if (ascii) return check_ascii(std::move(lower));
    // U-labels: IDNA 2008 lookup with TR46 non-transitional mapping (what browsers and MUAs do).
    char* out = nullptr;
    int rc = idn2_lookup_u8(reinterpret_cast<const uint8_t*>(lower.c_str()), reinterpret_cast<uint8_t**>(&out),
                            IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    std::unique_ptr<char, decltype(&idn2_free)> owned(out, &idn2_free);
    if (rc != IDN2_OK) return unexpected(std::string("invalid IDN: ") + idn2_strerror(rc));
    return check_ascii(std::string(out));
}

}  // namespace relaygate::milter
