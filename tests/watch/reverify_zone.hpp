// reverify_zone.hpp: DNS fixture lines and admin-file lines for the
// re-verification tests: each domain publishes the test DKIM key (selector s1)
// and an SPF record listing the given IPs, with a TTL of 1 s so that a zone
// change (the fixture restarted on the same port) is seen by the next pass.
#pragma once

#include <string>
#include <vector>

#include "relaygate/harness/temp_dir.hpp"

namespace relaygate::watch::testing_zone {

inline const std::string key_dir = RELAYGATE_SOURCE_DIR "/tests/testdata/keys/admin/";

// local-zone + SOA lines for `zone` (names without data under it answer NXDOMAIN).
std::vector<std::string> zone_header(const std::string& zone);
// DKIM key and SPF record lines of each domain; spf_ips empty = no SPF record at all.
std::vector<std::string> domain_lines(const std::vector<std::string>& domains, const std::vector<std::string>& spf_ips);
// Both, every domain with the same SPF IPs.
std::vector<std::string> zone_lines(const std::string& zone, const std::vector<std::string>& domains,
                                    const std::vector<std::string>& spf_ips);
// One admin-file line per domain (selector s1, the rsa2048 test key).
std::string admin_lines(const std::vector<std::string>& domains);

}  // namespace relaygate::watch::testing_zone
