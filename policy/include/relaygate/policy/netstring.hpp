// netstring.hpp: the netstring codec of Postfix's socketmap protocol
// ("<len>:<data>," with len in decimal). Pure: decode_netstring() looks at the
// front of a buffer that may hold a partial frame or several pipelined ones.
// Strict on purpose: no leading zeros ("0:," is fine, "01:x," is not), no sign
// or spaces, at most as many digits as the limit needs. Used by policy_server for the socketmap.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace relaygate::policy {

// Postfix's dict_sockmap accepts replies of at most 100000 bytes.
inline constexpr std::size_t socketmap_max_reply = 100000;
// A request is "<mapname> <address>"; an SMTP address is at most ~1 KiB.
inline constexpr std::size_t socketmap_max_request = 4096;

enum class netstring_status {
    incomplete,     // need more bytes; nothing consumed
    ok,             // payload and consumed are set
    bad_length,     // not a decimal length, empty, or a leading zero
    too_long,       // length over the limit (detected from the digits alone)
    missing_comma,  // the byte after the payload is not ','
};

struct netstring_frame {
    netstring_status status = netstring_status::incomplete;
    std::string_view payload;  // points into the input buffer
    std::size_t consumed = 0;  // bytes of the input this frame used
};

// Decodes the first frame of buf. Errors are final: the stream is out of sync.
netstring_frame decode_netstring(std::string_view buf, std::size_t max_payload);

// Appends "<len>:<payload>," to out.
void append_netstring(std::string& out, std::string_view payload);
std::string encode_netstring(std::string_view payload);

std::string_view to_string(netstring_status s);

}  // namespace relaygate::policy
