// netstring.cpp: see netstring.hpp. Never reads past buf, never allocates on decode.
#include "relaygate/policy/netstring.hpp"

namespace relaygate::policy {

netstring_frame decode_netstring(std::string_view buf, std::size_t max_payload) {
    netstring_frame f;
    std::size_t len = 0;
    std::size_t i = 0;
    for (; i < buf.size() && buf[i] != ':'; ++i) {
        char c = buf[i];
        if (c < '0' || c > '9' || (i == 1 && buf[0] == '0')) {
            f.status = netstring_status::bad_length;
            return f;
        }
        len = len * 10 + static_cast<std::size_t>(c - '0');
        if (len > max_payload) {  // also bounds the digit count, so no overflow
            f.status = netstring_status::too_long;
            return f;
        }
    }
    if (i == buf.size()) return f;  // no ':' yet
    if (i == 0) {
        f.status = netstring_status::bad_length;
        return f;
    }
    std::size_t start = i + 1;
    if (buf.size() - start < len + 1) return f;
    if (buf[start + len] != ',') {
        f.status = netstring_status::missing_comma;
        return f;
    }
    f.status = netstring_status::ok;
    f.payload = buf.substr(start, len);
    f.consumed = start + len + 1;
    return f;
}

void append_netstring(std::string& out, std::string_view payload) {
    out += std::to_string(payload.size());
    out += ':';
    out += payload;
    out += ',';
}

std::string encode_netstring(std::string_view payload) {
    std::string out;
    append_netstring(out, payload);
    return out;
}

std::string_view to_string(netstring_status s) {
    switch (s) {
        case netstring_status::incomplete:
            return "incomplete";
        case netstring_status::ok:
            return "ok";
        case netstring_status::bad_length:
            return "bad_length";
        case netstring_status::too_long:
            return "too_long";
        case netstring_status::missing_comma:
            return "missing_comma";
    }
    return "unknown";
}

}  // namespace relaygate::policy
