// transport_steering.hpp: the socketmap transport_maps decision, pure. Postfix
// sends "<mapname> <key>" with the full address in its original case, the key
// "*" (answered NOTFOUND: a TEMP there breaks every lookup) and sender
// addresses. A Microsoft-family domain (list file, or a cached MX verdict)
// gets "OK <active transport>:<nexthop>"; anything else "NOTFOUND "; an MX
// verdict not yet cached asks the caller to look it up (need_mx). Called by
// socketmap_server on its event loop.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "relaygate/policy/domain_list.hpp"
#include "relaygate/policy/mx_cache.hpp"

namespace relaygate::policy {

struct steering_config {
    std::string family = "microsoft";               // the egress_store family name
    std::string designated = "msft-out";            // master.cf transport bound to the designated IP
    std::vector<std::string> spares{"msft-spare"};  // transports egress_store may switch to
    std::string nexthop;                            // after "transport:"; empty = MX of the domain
    std::vector<std::string> mx_suffixes = default_microsoft_mx_suffixes();  // MX hosts that mean "Microsoft"
    std::vector<std::string> map_names{"transport"};                         // socketmap names we answer
    bool mx_detection = true;                                                // look up MX for unlisted domains
};

// The active transport when it is one the config knows (designated or a
// spare), else the designated one: an unknown name would make Postfix defer.
std::string_view choose_transport(const steering_config& cfg, std::string_view active);

enum class steering_reason {
    wildcard,      // key "*"
    not_a_domain,  // no '@domain' / bad domain (address literal, non-ASCII)
    domain_list,   // matched the list file
    mx_microsoft,  // cached MX verdict: Microsoft
    mx_other,      // cached MX verdict: not Microsoft
    mx_temp,       // cached MX verdict: DNS trouble, TEMP
    mx_disabled,   // not listed, MX detection off
    unknown_map,   // map name not ours
    need_mx,       // not cached yet
};
std::string_view to_string(steering_reason r);

struct socketmap_step {
    bool need_mx = false;  // true: look up MX of domain, then call reply_for_verdict()
    std::string reply;     // the socketmap reply payload when !need_mx
    std::string domain;    // the normalised domain (empty when none)
    steering_reason reason = steering_reason::not_a_domain;
};

socketmap_step socketmap_lookup(std::string_view payload, const steering_config& cfg, const domain_list& list,
                                mx_cache& cache, std::string_view active_transport, std::int64_t now_ms);

// The reply once an MX verdict is known (or the wait ran out: verdict temp).
std::string reply_for_verdict(mx_verdict v, std::string_view domain, const steering_config& cfg,
                              std::string_view active_transport);

}  // namespace relaygate::policy
