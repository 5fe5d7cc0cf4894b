// admin_file_fuzz.cpp: libFuzzer target for the admin-file parser (and, through
// it, domain normalisation with libidn2). Checks the parser's own promises: an
// ok result has normalised, unique domains and every field within its limits;
// an error result has no entries and names a line inside the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <unordered_set>

#include "relaygate/registry/admin_file.hpp"
#include "relaygate/registry/domain_name.hpp"

using namespace relaygate::registry;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    admin_file_limits limits;
    limits.max_entries = 1000;  // keep each run small
    auto result = parse_admin_text(text, "fuzz.conf", limits);
    std::size_t lines = 1;
    for (char c : text) lines += c == '\n';
    if (!result.ok()) {
        if (!result.entries.empty()) std::abort();
        for (const auto& e : result.errors) {
            if (e.line < 1 || static_cast<std::size_t>(e.line) > lines || e.to_string().empty()) std::abort();
        }
        if (result.errors.size() > limits.max_errors) std::abort();
        return 0;
    }
    std::unordered_set<std::string> seen;
    for (const auto& e : result.entries) {
        auto again = normalise_domain(e.domain);
        if (!again || *again != e.domain) std::abort();   // normalisation is idempotent
        if (!seen.insert(e.domain).second) std::abort();  // duplicates were reported
        if (e.selector.empty() || e.selector.size() > limits.max_selector_bytes) std::abort();
        if (e.key_path.empty() || e.key_path.front() != '/') std::abort();
        if (e.owner.empty() || e.owner.size() > limits.max_owner_bytes) std::abort();
        if (e.sasl_logins.size() > limits.max_logins || e.client_networks.size() > limits.max_networks) std::abort();
    }
    return 0;
}
