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

namespace relaygate::egress {

struct family_route {
    std::string family;            // "microsoft"
    std::string active_transport;  // "msft-spare"
    std::string reason;            // why it was set, e.g. "dnsbl_listed zen.spamhaus.org=127.0.0.2"
    std::int64_t since = 0;        // unix seconds
};

class egress_store {
public:
    virtual ~egress_store() = default;
    // The active transport of a family; nullopt when never set (use the
    // designated one) or when the back end cannot be read (caller logs, counts,
    // and uses the designated one: the documented fail-open choice).
    virtual std::optional<family_route> active(std::string_view family) = 0;
    // Sets the active transport; false when the back end could not be written.
    virtual bool set_active(const family_route& route) = 0;
    virtual std::vector<family_route> all() = 0;
};

// A JSON file written atomically (temp + rename); readers re-read it when its
// mtime/inode changes, so the cost per lookup is one stat() at most per 100 ms.
std::unique_ptr<egress_store> make_file_egress_store(std::string path);
// Redis hash "<prefix>egress" (hiredis); reconnects on failure.
std::unique_ptr<egress_store> make_redis_egress_store(std::string host, int port, std::string prefix = "relaygate:");

}  // namespace relaygate::egress
