// admin_file.hpp: the operator's admin file of customer domains (docs/admin.md).
// One line per domain, "#" comments, key=value fields:
//   example.com selector=s1 key=/etc/relaygate/keys/example.com.pem owner="ACME <ops@acme.test>" sasl=acme
//   networks=192.0.2.0/24
// DKIM key rotation: selector= and key= may be repeated, paired in order (the
// first selector= with the first key=), oldest first:
//   example.com selector=s1 key=/k/s1.pem selector=s2 key=/k/s2.pem owner=ACME
// Pure parser with hard limits; every error names file, line and field. Read by
// load_snapshot (daemons, relaygate-admin) and fuzzed by fuzz/admin_file_fuzz.cpp.
// relaygate never writes this file.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "relaygate/registry/domain_registry.hpp"

namespace relaygate::registry {

struct admin_file_limits {
    std::size_t max_line_bytes = 4096;        // longer lines are an error (and skipped)
    std::size_t max_entries = 5'000'000;      // more domains are an error
    std::size_t max_file_bytes = 2ull << 30;  // 2 GiB
    std::size_t max_selector_bytes = 63;      // one DKIM selector (may hold dots)
    std::size_t max_selectors = 4;            // per domain: a rotation needs two (old + new)
    std::size_t max_key_path_bytes = 1024;
    std::size_t max_owner_bytes = 256;
    std::size_t max_login_bytes = 256;
    std::size_t max_logins = 64;    // per domain
    std::size_t max_networks = 64;  // per domain
    std::size_t max_errors = 50;    // parsing continues to collect up to this many errors, then stops
    bool report_duplicates = true;  // load_snapshot turns this off: domain_registry::build finds them with its index
};

struct admin_file_error {
    std::string file;
    int line = 0;       // 0 = the file as a whole (cannot be opened, too large)
    std::string field;  // "domain", "selector", "key", "owner", "sasl", "networks", "line", or "" for the file
    std::string message;
    // "file:line: field: message" (the form lint prints and the reloader logs)
    std::string to_string() const;
};

struct admin_file_result {
    std::vector<domain_entry> entries;  // in file order; domains normalised; empty when errors is not
    std::vector<admin_file_error> errors;
    bool ok() const { return errors.empty(); }
    // The first error, plus "(and N more errors)" when there are several; "" when ok.
    std::string summary() const;
};

// Parses admin-file text already in memory; file_name is only used in messages.
admin_file_result parse_admin_text(std::string_view text, std::string_view file_name,
                                   const admin_file_limits& limits = {});
// Reads and parses the file at path in bounded chunks (no whole-file copy).
admin_file_result read_admin_file(const std::string& path, const admin_file_limits& limits = {});

}  // namespace relaygate::registry
