// from_header.hpp: parser for the value of a From:/Sender: header — an RFC 5322
// address list (mailboxes, groups, display names, quoted strings, nested
// comments, folding, obs-route, obs-local-part, domain literals, UTF-8 per
// RFC 6532). Encoded words (RFC 2047) stay undecoded in display names and are
// never read as addresses. Pure, bounded by from_header_limits; called by
// decide() per message and by the fuzz target.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "relaygate/registry/expected.hpp"

namespace relaygate::milter {

struct mailbox {
    std::string display_name;     // words joined by one space, quoted strings unquoted, encoded words as written
    std::string local_part;       // unquoted
    std::string domain;           // normalised (normalise_domain), or "[literal]" for a domain literal
    bool domain_literal = false;  // domain is "[192.0.2.1]"-style, never a registered name
};

struct from_header_limits {
    std::size_t max_bytes = 16 * 1024;  // per header value, folding included
    std::size_t max_mailboxes = 100;    // per header
    std::size_t max_comment_depth = 16;
};

enum class from_error {
    empty,  // nothing but white space and comments
    too_long,
    too_many_mailboxes,
    nul_byte,
    control_byte,
    bad_folding,
    unterminated,  // quoted string, comment, domain literal or angle address
    comment_too_deep,
    syntax,
    bad_domain,
};
std::string_view to_string(from_error e);  // "too_long", ...

struct from_parse_error {
    from_error code = from_error::syntax;
    std::size_t offset = 0;  // byte offset in the value where it was detected
    std::string detail;      // short English text for logs and SMTP replies
};

// Parses a header value (without "From:"). A group contributes its members;
// an empty group ("undisclosed-recipients:;") contributes none.
expected<std::vector<mailbox>, from_parse_error> parse_address_list(std::string_view value,
                                                                    const from_header_limits& limits = {});

}  // namespace relaygate::milter
