// egress_topology.hpp: where mail of each destination family leaves, declared
// once for every program: the families with their designated and spare
// transports (failover=), the Postfix transports as the maillog names them
// (transport=), and where the egress state lives (egress-state-file or Redis).
// add_egress_options() binds the shared keys; build_egress_topology() checks
// them once, so the daemons use typed values and never re-parse a string.
// Used by relaygate-policy (steering) and relaygate-watch (failover, tracking).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "relaygate/egress/egress_state.hpp"
#include "relaygate/egress/redis_connection.hpp"
#include "relaygate/registry/config_file.hpp"
#include "relaygate/registry/expected.hpp"

namespace boost::program_options {
class options_description;
}

namespace relaygate::egress {

// One family's egress: "microsoft=msft-out,msft-spare,192.0.2.20".
struct failover_family {
    std::string family;         // "microsoft"
    std::string designated;     // master.cf transport bound to the designated IP
    std::string spare;          // the transport the watch flips to when the designated IP is listed
    std::string designated_ip;  // source IP of the designated transport ("" = not given)
    // "FAMILY=DESIGNATED,SPARE[,DESIGNATED_IP]" with master.cf names; nullopt when malformed.
    static std::optional<failover_family> parse(std::string_view spec);
};

// A Postfix transport as the maillog names it: "postfix/msft-out=msft-out,microsoft,192.0.2.20".
struct transport_binding {
    std::string service;    // syslog name/service: "postfix/msft-out"
    std::string transport;  // master.cf transport: "msft-out"
    std::string family;     // "microsoft"
    std::string source_ip;  // its smtp_bind_address
    // "SERVICE=TRANSPORT,FAMILY,IP"; nullopt when malformed.
    static std::optional<transport_binding> parse(std::string_view spec);
};

struct egress_topology {
    std::vector<failover_family> families;                      // failover= (one line per family)
    std::vector<transport_binding> transports;                  // transport= (the watch's maillog view)
    std::string state_file = "/var/lib/relaygate/egress.json";  // file back end (no Redis)
    std::optional<redis_endpoint> redis;                        // Redis back end instead of the file
    std::string redis_prefix = "relaygate:";                    // Redis key prefix
    std::chrono::milliseconds redis_timeout{100};               // per Redis command (policy counters)

    const failover_family* family(std::string_view name) const;
};

// The raw text of the shared egress keys, as Program_options stores it.
struct egress_keys {
    std::string state_file = "/var/lib/relaygate/egress.json";
    std::string redis;  // "HOST:PORT" or "/path.sock"; "" = the file
    std::string redis_prefix = "relaygate:";
    int redis_timeout_ms = 100;
    std::vector<std::string> failovers;
    std::vector<std::string> transports;
};

// Adds egress-state-file (alias egress-file), redis, redis-prefix,
// redis-timeout-ms, failover and transport to desc.
void add_egress_options(boost::program_options::options_description& desc, egress_keys& keys);

// The egress store the topology names: Redis when redis is set, else the file.
std::unique_ptr<egress_store> open_egress_store(const egress_topology& topology);

// Checks the keys once; the error is "WHERE: key 'k': 'value': message".
expected<egress_topology, std::string> build_egress_topology(const egress_keys& keys,
                                                             const registry::config_source& source);

}  // namespace relaygate::egress
