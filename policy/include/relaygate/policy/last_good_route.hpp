// last_good_route.hpp: which egress route steering uses when the egress store
// (Redis or egress.json) is healthy, forgot its route, or cannot be read —
// pure. The rule (issue 15): steering never falls back to the designated
// transport because the store failed, since the failover may have taken the
// designated IP out. Unavailable (unreachable, hung, corrupt) → the last route
// read (kept in memory and on disk by egress_view), or TEMP when none is
// known; a readable store that lost a route it had (Redis restarted empty,
// egress.json deleted) also keeps the last route: only a written route moves
// steering. Called by egress_view on its poll thread; tests: last_good_route_test.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "relaygate/policy/socketmap_reply.hpp"

namespace relaygate::policy {

enum class store_status { found, unset, unavailable };  // what one read of the store gave

enum class route_source {
    store,      // the store's route (or its "never set" = designated)
    last_good,  // the store failed or forgot: the last route it gave
    unknown,    // the store failed and no route was ever known: steered lookups get TEMP
};
std::string_view to_string(route_source s);

struct route_decision {
    route_source source = route_source::store;
    std::string transport;  // "" = designated (never set); meaningless when unknown
    bool remember = false;  // a new last good route: keep it (memory and disk)
    bool operator==(const route_decision&) const = default;
};

// last_good: nullopt = none known; "" = the designated transport (store readable, never set).
route_decision decide_route(store_status status, std::string_view store_transport,
                            const std::optional<std::string>& last_good);

// A steered (OK) reply while the route is unknown becomes TEMP: Postfix retries
// later instead of sending through an IP the failover may have taken out.
// Anything else (NOTFOUND, TEMP, PERM) is unchanged.
socketmap_reply guard_steering(socketmap_reply reply, route_source source);

}  // namespace relaygate::policy
