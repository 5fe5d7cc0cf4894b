// url_normaliser.hpp: one URL as found in a message body -> the host a browser
// would contact and its registrable domain, the form URI blocklists are asked
// about. Follows what browsers do (WHATWG URL): scheme case-insensitive, '\'
// as '/', userinfo before the LAST '@' ignored ("http://good.example@evil.example/"
// is evil.example), host percent-decoded, port dropped, trailing dots dropped,
// IPv4 in decimal/octal/hex forms and [IPv6] recognised as IP literals, IDN
// converted to A-labels by the registry's normalise_domain. Pure; called by the
// URL check (url_check) and relaygate-admin check-url.
#pragma once

#include <string>
#include <string_view>

#include "relaygate/milter/public_suffix_list.hpp"
#include "relaygate/registry/expected.hpp"

namespace relaygate::milter {

struct url_host {
    std::string host;                // A-label host, lower case, no trailing dot; or the IP in text form
    std::string registrable_domain;  // eTLD+1 of host; "" for an IP literal or a bare public suffix
    bool ip_literal = false;
};

inline constexpr std::size_t max_url_bytes = 8192;  // longer candidates are cut by the extractor

// raw: an absolute URL (http, https, ftp; any case), a scheme-relative "//host/...",
// or a "www." name without scheme. An error says why no host came out ("no host",
// "scheme not checked", "not a valid IDN: ...").
expected<url_host, std::string> normalise_url(std::string_view raw, const public_suffix_list& suffixes);

// The host part alone (as normalise_url treats it after the authority is cut out):
// percent-decoding, trailing dots, IP literal forms, IDN. Exposed for the tests.
expected<url_host, std::string> normalise_url_host(std::string_view host, const public_suffix_list& suffixes);

}  // namespace relaygate::milter
