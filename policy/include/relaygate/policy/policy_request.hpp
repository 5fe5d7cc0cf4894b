// policy_request.hpp: the Postfix SMTP access policy delegation request
// (SMTPD_POLICY_README): "name=value\n" lines ended by an empty line. Pure
// parser with hard limits; the views point into the caller's buffer and stay
// valid until it consumes the request. Unknown attributes are skipped (3.8+
// adds some), a repeated one keeps its last value. Used by policy_server.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace relaygate::policy {

struct policy_request_limits {
    std::size_t max_line = 2048;     // one "name=value" line, without its newline
    std::size_t max_request = 8192;  // the whole request, empty line included
    std::size_t max_attributes = 64;
};

// The attributes relaygate decides on; the rest of the 29 are counted only.
struct policy_request {
    std::string_view request;  // must be "smtpd_access_policy"
    std::string_view protocol_state;
    std::string_view queue_id;
    std::string_view instance;
    std::string_view sender;
    std::string_view recipient;
    std::string_view client_address;
    std::string_view sasl_username;
    std::string_view policy_context;
    std::uint64_t size = 0;
    std::uint32_t recipient_count = 0;
    std::size_t attributes = 0;  // lines seen, known or not
};

enum class policy_parse_status {
    incomplete,  // no empty line yet (and no limit hit); nothing consumed
    ok,          // request and consumed are set
    line_too_long,
    request_too_long,
    too_many_attributes,
    bad_line,              // no '=', empty name, a name that is not [a-z0-9_], or a NUL byte
    bad_number,            // size / recipient_count not a decimal number
    not_a_policy_request,  // request= missing or not smtpd_access_policy
};

struct policy_parse_result {
    policy_parse_status status = policy_parse_status::incomplete;
    policy_request request;
    std::size_t consumed = 0;
};

// Parses the first request of buf. A trailing '\r' on a line is tolerated
// (hand-typed tests); Postfix itself sends bare '\n'.
policy_parse_result parse_policy_request(std::string_view buf, const policy_request_limits& limits = {});

std::string_view to_string(policy_parse_status s);

}  // namespace relaygate::policy
