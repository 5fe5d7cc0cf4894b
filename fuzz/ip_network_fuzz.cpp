// ip_network_fuzz.cpp: libFuzzer target for ip_network::parse and contains().
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "relaygate/registry/ip_network.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto net = relaygate::registry::ip_network::parse(text);
    if (net) {
        (void)net->contains(text);
        (void)net->to_string();
    }
    return 0;
}
