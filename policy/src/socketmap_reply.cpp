// socketmap_reply.cpp: the socketmap reply's wire text (see socketmap_reply.hpp).
#include "relaygate/policy/socketmap_reply.hpp"

#include <cstring>

namespace relaygate::policy {

std::string_view to_string(socketmap_status s) {
    switch (s) {
        case socketmap_status::ok:
            return "OK";
        case socketmap_status::notfound:
            return "NOTFOUND";
        case socketmap_status::temp:
            return "TEMP";
        case socketmap_status::perm:
            return "PERM";
    }
    return "PERM";
}

// The one place the wire text is made (NOTFOUND's constant is in the header).
socketmap_reply socketmap_reply::make(socketmap_status s, std::initializer_list<std::string_view> value) {
    std::string_view name = to_string(s);
    std::size_t size = name.size() + 1;
    for (auto piece : value) size += piece.size();
    // Assembled on the stack and copied once (a hot path: most replies are short).
    char small[64];
    std::string large;
    char* buf = small;
    if (size > sizeof small) {
        large.resize(size);
        buf = large.data();
    }
    std::memcpy(buf, name.data(), name.size());
    std::size_t at = name.size();
    buf[at++] = ' ';
    for (auto piece : value) {
        std::memcpy(buf + at, piece.data(), piece.size());
        at += piece.size();
    }
    if (buf != small) return {s, std::move(large)};
    return {s, std::string(small, size)};
}

socketmap_reply socketmap_reply::ok(std::initializer_list<std::string_view> value) {
    return make(socketmap_status::ok, value);
}
socketmap_reply socketmap_reply::temp(std::string_view reason) { return make(socketmap_status::temp, {reason}); }
socketmap_reply socketmap_reply::perm(std::string_view reason) { return make(socketmap_status::perm, {reason}); }

}  // namespace relaygate::policy
