// dkim_key_record_fuzz.cpp: libFuzzer target for the DKIM key-record parser and
// base64 decoding of p= (dkim_verifier.hpp).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "relaygate/verify/dkim_verifier.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto rec = relaygate::registry::parse_dkim_key_record(text);
    if (rec) (void)relaygate::registry::decode_base64(rec->public_key_base64);
    (void)relaygate::registry::decode_base64(text);
    return 0;
}
