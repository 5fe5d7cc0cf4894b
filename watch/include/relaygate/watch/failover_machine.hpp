// failover_machine.hpp: per family, designated <-> spare transport (docs/watch.md
// "Fails over"). Pure, injected time: step() looks at the designated IP's DNSBL
// verdict and the designated transport's reputation alert and returns the flip
// to make, if any; the daemon applies it to the egress store and only then
// calls applied(), so a failed write is retried at the next step.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "relaygate/egress/egress_topology.hpp"

namespace relaygate::watch {

// DNSBL verdict of one IP over all zones: listed on any zone, clean on all,
// or unknown (some zone could not tell; never flips, never counts as clean).
enum class dnsbl_verdict { clean, listed, unknown };
std::string_view to_string(dnsbl_verdict v);

// A family's designated and spare transport: the shared egress topology's type
// (failover= is declared and parsed once, in relaygate_egress).
using failover_spec = egress::failover_family;

struct flip {
    std::string family;
    std::string from;
    std::string to;
    std::string reason;  // "dnsbl_listed zen.spamhaus.org=127.0.0.2", "reputation_alert ...", "clean_for 3600s"
};

struct failover_inputs {
    dnsbl_verdict dnsbl = dnsbl_verdict::unknown;
    std::string dnsbl_detail;  // "zen.spamhaus.org=127.0.0.2" when listed
    bool reputation_alert = false;
    std::string reputation_detail;  // "reputation=12 attempts=12"
};

class failover_machine {
public:
    failover_machine(failover_spec spec, std::int64_t hold_down_seconds);

    // Starts from what the egress store says is active (empty = designated).
    void restore(std::string_view active_transport, std::int64_t now);
    std::optional<flip> step(const failover_inputs& in, std::int64_t now);
    void applied(const flip& f, std::int64_t now);

    bool on_spare() const { return on_spare_; }
    const std::string& active() const { return on_spare_ ? spec_.spare : spec_.designated; }
    const failover_spec& spec() const { return spec_; }
    void set_hold_down(std::int64_t seconds) { hold_down_ = seconds; }

private:
    failover_spec spec_;
    std::int64_t hold_down_;
    bool on_spare_ = false;
    std::optional<std::int64_t> clean_since_;
};

}  // namespace relaygate::watch
