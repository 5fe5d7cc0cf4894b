// dns_message_fuzz.cpp: libFuzzer target for the DNS wire helpers (dns_message.hpp):
// the input is used as a whole reply packet and as rdata of every kind.
#include <cstddef>
#include <cstdint>

#include "relaygate/dns/dns_message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace w = relaygate::dns::wire;
    w::bytes b(data, size);
    (void)w::negative_ttl(b);
    (void)w::rcode(b);
    (void)w::txt_strings(b);
    (void)w::mx(b);
    (void)w::address(b);
    (void)w::name(b);
    for (std::size_t pos = 0; pos < size && pos < 64;) {
        std::size_t p = pos;
        if (!w::read_name(b, p) || p <= pos) break;
        pos = p;
    }
    return 0;
}
