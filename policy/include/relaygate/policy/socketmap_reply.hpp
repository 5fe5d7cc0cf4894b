// socketmap_reply.hpp: the answer to one socketmap lookup as a type, and the
// ONE place it becomes wire text (Postfix socketmap_table(5)): "OK <value>",
// "NOTFOUND " (the space is part of the protocol), "TEMP <reason>",
// "PERM <reason>". Built by transport_steering, sent by policy_server (which
// wraps it in a netstring). reply_token names a reply slot answered later.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace relaygate::policy {

enum class socketmap_status { ok, notfound, temp, perm };
std::string_view to_string(socketmap_status s);  // "OK", "NOTFOUND", "TEMP", "PERM"

struct socketmap_reply {
    socketmap_status status = socketmap_status::notfound;
    std::string value;  // ok: the map value; temp/perm: the reason; notfound: empty

    static socketmap_reply ok(std::string value) { return {socketmap_status::ok, std::move(value)}; }
    static socketmap_reply notfound() { return {socketmap_status::notfound, {}}; }
    static socketmap_reply temp(std::string reason) { return {socketmap_status::temp, std::move(reason)}; }
    static socketmap_reply perm(std::string reason) { return {socketmap_status::perm, std::move(reason)}; }

    // The netstring payload: status name, one space, value.
    std::string to_wire() const;
    bool operator==(const socketmap_reply&) const = default;
};

// Identifies one socketmap reply slot that will be filled later (connection, request number).
struct reply_token {
    std::uint64_t connection = 0;
    std::uint64_t seq = 0;
    bool operator==(const reply_token&) const = default;
};

}  // namespace relaygate::policy
