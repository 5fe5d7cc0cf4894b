// registry_options.hpp: the operator config every relaygate program shares —
// outbound IPs, operator domains, admin/state paths, DNS, re-verification.
// One typed struct with its defaults here; add_registry_options() binds it to
// Boost.Program_options so each daemon reads it from its config file and
// command line under the same keys. Implemented in registry_options.cpp.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "relaygate/registry/config_file.hpp"
#include "relaygate/registry/expected.hpp"

namespace relaygate::registry {

struct registry_options {
    std::string admin_file = "/etc/relaygate/domains.conf";    // customer domains (never written by relaygate)
    std::string state_file = "/var/lib/relaygate/state.json";  // verification state, written atomically
    std::vector<std::string> operator_domains;                 // always-allowed From domains (and subdomains)
    std::vector<std::string> outbound_ips;                     // default pool: SPF must pass for each
    std::vector<std::string> designated_ips;                   // Microsoft-family designated IPs
    std::vector<std::string> spare_ips;                        // failover spares
    std::vector<std::string> dns_forwarders;                   // "IP" or "IP@PORT"; empty = /etc/resolv.conf
    std::chrono::milliseconds dns_timeout{5000};               // per DNS query
    std::chrono::seconds reverify_interval{3600};              // how often each domain is verified again
    std::chrono::seconds grace_period{86400};          // a verified domain that fails is demoted only after this
    unsigned min_rsa_bits = 1024;                      // shorter DKIM RSA keys fail verification
    std::chrono::seconds rotation_overlap{7 * 86400};  // an old DKIM selector is removable this long after the switch
    std::string spf_include_name;  // operator's SPF record for include:; "" = _spf.<operator-domain>

    // Every outbound IP (pool, designated, spares), deduplicated, in that order.
    std::vector<std::string> all_outbound_ips() const;
    // spf_include_name, else "_spf." + the first operator domain, else "" (no include form).
    std::string spf_include() const;
};

// Adds the registry keys (admin-file, state-file, operator-domain, outbound-ip,
// designated-ip, spare-ip, dns-forwarder, dns-timeout-ms, reverify-interval,
// grace-period, min-rsa-bits, spf-include-name, rotation-overlap) to desc, storing into opts.
void add_registry_options(boost::program_options::options_description& desc, registry_options& opts);

// Checks values after parsing (IPs parse, domains normalise, intervals > 0),
// splits comma/space separated lists and normalises IPs and domains in place.
// The error is config_error()'s "WHERE: key 'k': 'value': message", WHERE the
// line of source's file that set the value (or "command line").
expected<bool, std::string> validate(registry_options& opts, const config_source& source = {});

}  // namespace relaygate::registry
