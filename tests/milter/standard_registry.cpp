// standard_registry.cpp: the milter tests' registry (see standard_registry.hpp).
#include "standard_registry.hpp"

#include <sstream>

namespace relaygate::milter::testing {

std::vector<registry::domain_entry> standard_entries() {
    const std::string rsa = testdata + "keys/rsa-s1.pem";
    std::vector<registry::domain_entry> e{
        {.domain = "verified.example", .selector = "s1", .key_path = rsa},
        {.domain = "ed.example", .selector = "s2", .key_path = testdata + "keys/ed-s2.pem"},
        {.domain = "pending.example", .selector = "s1", .key_path = rsa},
        {.domain = "failed.example", .selector = "s1", .key_path = rsa},
        {.domain = "spf.example", .selector = "s1", .key_path = rsa},
        {.domain = "tempfail.example", .selector = "s1", .key_path = rsa},
        {.domain = "sasl.example", .selector = "s1", .key_path = rsa, .sasl_logins = {"alice", "carol"}},
        {.domain = "net.example",
         .selector = "s1",
         .key_path = rsa,
         .client_networks = {*registry::ip_network::parse("198.51.100.0/24")}},
    };
    for (auto& d : e) d.owner = "test";
    return e;
}

registry::state_map standard_states() {
    registry::state_map s;
    using registry::verification_state;
    for (auto d : {"verified.example", "ed.example", "sasl.example", "net.example"})
        s[d].state = verification_state::verified;
    s["failed.example"] = {.state = verification_state::failed,
                           .reason_code = "dkim_no_record",
                           .reason_text = "no DKIM key at s1._domainkey.failed.example"};
    s["spf.example"] = {.state = verification_state::failed,
                        .reason_code = "spf_fail",
                        .reason_text = "SPF of spf.example does not authorize 192.0.2.12"};
    s["tempfail.example"] = {.state = verification_state::failed,
                             .temporary_failure = true,
                             .reason_code = "dkim_temporary",
                             .reason_text = "DNS timeout for s1._domainkey.tempfail.example"};
    return s;
}

std::string admin_file_text() {
    std::ostringstream a;
    a << "# relaygate-milter test registry\n";
    for (const auto& d : standard_entries()) {
        a << d.domain << " selector=" << d.selector << " key=" << d.key_path << " owner=" << d.owner;
        std::string sasl, networks;
        for (const auto& l : d.sasl_logins) sasl += (sasl.empty() ? "" : ",") + l;
        for (const auto& n : d.client_networks) networks += (networks.empty() ? "" : ",") + n.to_string();
        if (!sasl.empty()) a << " sasl=" << sasl;
        if (!networks.empty()) a << " networks=" << networks;
        a << "\n";
    }
    return a.str();
}

}  // namespace relaygate::milter::testing
