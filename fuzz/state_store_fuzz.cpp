// state_store_fuzz.cpp: libFuzzer target for the state-file parser (nlohmann
// SAX). An accepted input must survive encode -> parse unchanged; nothing may
// crash, leak or run away on hostile JSON.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "relaygate/registry/state_store.hpp"

using namespace relaygate::registry;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto parsed = parse_state_text(text, "fuzz.json");
    if (!parsed) {
        if (parsed.error().rfind("fuzz.json: corrupt state file: ", 0) != 0) std::abort();
        return 0;
    }
    auto again = parse_state_text(encode_state(*parsed), "again.json");
    if (!again || again->size() != parsed->size()) std::abort();
    for (const auto& [domain, st] : *parsed) {
        const auto& other = again->at(domain);
        if (other.state != st.state || other.last_checked != st.last_checked ||
            other.failing_since != st.failing_since || other.verified_since != st.verified_since ||
            other.temporary_failure != st.temporary_failure) {
            std::abort();
        }
    }
    return 0;
}
