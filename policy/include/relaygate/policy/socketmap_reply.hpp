// socketmap_reply.hpp: the answer to one socketmap lookup as a type, and the
// ONE place it becomes wire text (Postfix socketmap_table(5)): "OK <value>",
// "NOTFOUND " (the space is part of the protocol), "TEMP <reason>",
// "PERM <reason>". The wire text is made once, when the reply is made (the
// socketmap is a hot path); to_wire() hands it out. Built by
// transport_steering, sent by policy_server (which wraps it in a netstring).
// reply_token names a reply slot answered later.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace relaygate::policy {

enum class socketmap_status { ok, notfound, temp, perm };
std::string_view to_string(socketmap_status s);  // "OK", "NOTFOUND", "TEMP", "PERM"

class socketmap_reply {
public:
    socketmap_reply() : socketmap_reply(notfound()) {}
    // ok: the map value, given in pieces that are joined ("msft-out", ":", nexthop).
    static socketmap_reply ok(std::initializer_list<std::string_view> value);
    static socketmap_reply notfound() { return {socketmap_status::notfound, std::string("NOTFOUND ")}; }
    static socketmap_reply temp(std::string_view reason);
    static socketmap_reply perm(std::string_view reason);

    socketmap_status status() const { return status_; }
    // ok: the map value; temp/perm: the reason; notfound: empty.
    std::string_view value() const { return std::string_view(wire_).substr(to_string(status_).size() + 1); }
    // The netstring payload: status name, one space, value.
    const std::string& to_wire() const { return wire_; }
    bool operator==(const socketmap_reply& o) const { return wire_ == o.wire_; }

private:
    socketmap_reply(socketmap_status s, std::string wire) : status_(s), wire_(std::move(wire)) {}
    static socketmap_reply make(socketmap_status s, std::initializer_list<std::string_view> value);
    socketmap_status status_;
    std::string wire_;
};

// Identifies one socketmap reply slot that will be filled later (connection, request number).
struct reply_token {
    std::uint64_t connection = 0;
    std::uint64_t seq = 0;
    bool operator==(const reply_token&) const = default;
};

}  // namespace relaygate::policy
