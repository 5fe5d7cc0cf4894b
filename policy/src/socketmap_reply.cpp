// socketmap_reply.cpp: the socketmap reply's wire text (see socketmap_reply.hpp).
#include "relaygate/policy/socketmap_reply.hpp"

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

std::string socketmap_reply::to_wire() const {
    std::string_view name = to_string(status);
    std::string out;
    out.reserve(name.size() + 1 + value.size());
    out += name;
    out += ' ';
    out += value;
    return out;
}

}  // namespace relaygate::policy
