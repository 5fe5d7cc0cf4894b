// reverify_zone.cpp: see reverify_zone.hpp.
#include "reverify_zone.hpp"

#include "relaygate/harness/temp_dir.hpp"

namespace relaygate::watch::testing_zone {

std::vector<std::string> zone_header(const std::string& zone) {
    return {"local-zone: \"" + zone + ".\" static",
            "local-data: \"" + zone + ". 1 IN SOA ns." + zone + ". h." + zone + ". 1 3600 600 86400 1\""};
}

std::vector<std::string> domain_lines(const std::vector<std::string>& domains,
                                      const std::vector<std::string>& spf_ips) {
    const std::string rsa = "v=DKIM1; k=rsa; p=" + harness::read_file(key_dir + "rsa2048.p");
    std::string spf = "v=spf1";
    for (const auto& ip : spf_ips) spf += " ip4:" + ip;
    spf += " -all";
    std::vector<std::string> lines;
    for (const auto& d : domains) {
        lines.push_back("local-data: 's1._domainkey." + d + ". 1 IN TXT \"" + rsa.substr(0, 255) + "\" \"" +
                        rsa.substr(255) + "\"'");
        if (!spf_ips.empty()) lines.push_back("local-data: '" + d + ". 1 IN TXT \"" + spf + "\"'");
    }
    return lines;
}

std::vector<std::string> zone_lines(const std::string& zone, const std::vector<std::string>& domains,
                                    const std::vector<std::string>& spf_ips) {
    auto lines = zone_header(zone);
    for (auto& l : domain_lines(domains, spf_ips)) lines.push_back(std::move(l));
    return lines;
}

std::string admin_lines(const std::vector<std::string>& domains) {
    std::string out;
    for (const auto& d : domains)
        out += d + " selector=s1 key=" + key_dir + "rsa2048.pem owner=\"owner of " + d + "\"\n";
    return out;
}

}  // namespace relaygate::watch::testing_zone
