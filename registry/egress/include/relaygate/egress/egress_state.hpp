// egress_state.hpp: which transport is active for each destination family
// ("microsoft" -> "msft-out" or its spare "msft-spare"). relaygate-watch
// writes it on a flip, relaygate-admin flips it by hand, relaygate-policy
// reads it on every steered lookup (a flip applies to the next lookup).
// Two back ends behind one interface: a JSON file (default, one host) and
// Redis (several MTAs share one state). Implemented in egress_state.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "relaygate/egress/redis_connection.hpp"

namespace relaygate::egress {

struct family_route {
    std::string family;            // "microsoft"
    std::string active_transport;  // "msft-spare"
    std::string reason;            // why it was set, e.g. "dnsbl_listed zen.spamhaus.org=127.0.0.2"
    std::int64_t since = 0;        // unix seconds
};

// What one read of a family found: a route, nothing ever set (a readable, empty
// store), or nothing usable (unreachable, hung, corrupt): the caller must not
// take "unavailable" for "designated" (issue 15: that re-used a listed IP).
enum class read_status { found, unset, unavailable };
struct route_read {
    read_status status = read_status::unset;
    std::optional<family_route> route;  // when found
    std::string error;                  // when unavailable: why, for the log
};

class egress_store {
public:
    virtual ~egress_store() = default;
    // The family's route with the reason when there is none (relaygate-policy's
    // last-known-good steering needs the difference). The default is for stores
    // that cannot fail.
    virtual route_read read(std::string_view family) {
        auto r = active(family);
        return r ? route_read{read_status::found, std::move(r), {}} : route_read{};
    }
    // The active transport of a family; nullopt when never set or when the back
    // end cannot be read — read() tells the two apart (relaygate-policy must).
    virtual std::optional<family_route> active(std::string_view family) = 0;
    // Sets the active transport; false when the back end could not be written.
    virtual bool set_active(const family_route& route) = 0;
    virtual std::vector<family_route> all() = 0;
};

// A JSON file written atomically (temp + rename); readers re-read it when its
// mtime/inode changes, so the cost per lookup is one stat() at most per 100 ms.
std::unique_ptr<egress_store> make_file_egress_store(std::string path);
// Redis hash "<prefix>egress" (redis_connection); reconnects on failure.
std::unique_ptr<egress_store> make_redis_egress_store(redis_endpoint endpoint, std::string prefix = "relaygate:");

}  // namespace relaygate::egress
