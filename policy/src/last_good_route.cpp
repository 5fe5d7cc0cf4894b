// last_good_route.cpp: see last_good_route.hpp.
#include "relaygate/policy/last_good_route.hpp"

namespace relaygate::policy {

std::string_view to_string(route_source s) {
    switch (s) {
        case route_source::store:
            return "store";
        case route_source::last_good:
            return "last_good";
        case route_source::unknown:
            return "unknown";
    }
    return "unknown";
}

route_decision decide_route(store_status status, std::string_view store_transport,
                            const std::optional<std::string>& last_good) {
    switch (status) {
        case store_status::found: {
            std::string t(store_transport);
            const bool changed = !last_good || *last_good != t;
            return {route_source::store, std::move(t), changed};
        }
        case store_status::unset:
            // Never set and nothing known before: the designated transport is the known route.
            if (!last_good) return {route_source::store, {}, true};
            if (last_good->empty()) return {route_source::store, {}, false};
            // The store forgot a failover it had (restarted empty, file deleted): keep it.
            return {route_source::last_good, *last_good, false};
        case store_status::unavailable:
            if (last_good) return {route_source::last_good, *last_good, false};
            return {route_source::unknown, {}, false};
    }
    return {route_source::unknown, {}, false};
}

socketmap_reply guard_steering(socketmap_reply reply, route_source source) {
    if (source != route_source::unknown || reply.status() != socketmap_status::ok) return reply;
    return socketmap_reply::temp("egress state unavailable and no last known route");
}

}  // namespace relaygate::policy
