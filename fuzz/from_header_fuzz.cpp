// from_header_fuzz.cpp: libFuzzer target for parse_address_list (From:/Sender: values).
// Checks the parser's own promises: limits hold, every domain is normalised.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "relaygate/milter/from_header.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    relaygate::milter::from_header_limits limits;
    auto r = relaygate::milter::parse_address_list(text, limits);
    if (!r) {
        if (r.error().offset > size && r.error().offset != limits.max_bytes) std::abort();
        return 0;
    }
    if (r->size() > limits.max_mailboxes) std::abort();
    for (const auto& m : *r) {
        if (m.domain.empty() || m.domain.size() > 253 + 2 * 16 * 1024) std::abort();
        for (char c : m.domain) {
            if (!m.domain_literal && (c >= 'A' && c <= 'Z')) std::abort();  // normalised to lower case
        }
    }
    return 0;
}
