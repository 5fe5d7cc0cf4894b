// netstring_fuzz.cpp: libFuzzer target for the socketmap netstring codec and
// the steering decision behind it. Decodes the input as a pipelined stream;
// every frame must round-trip through the encoder, and every payload goes
// through socketmap_lookup(), whose reply must fit Postfix's 100000-byte limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "relaygate/policy/netstring.hpp"
#include "relaygate/policy/transport_steering.hpp"

using namespace relaygate::policy;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view rest(reinterpret_cast<const char*>(data), size);
    static const domain_list list = *domain_list::parse("hotmail.*\noutlook.*\nmsn.com\n.tenant.test\n", "fuzz");
    static mx_cache cache(64);
    steering_config cfg;
    while (!rest.empty()) {
        auto f = decode_netstring(rest, socketmap_max_request);
        if (f.status != netstring_status::ok) break;
        if (f.consumed == 0 || f.consumed > rest.size()) std::abort();
        if (encode_netstring(f.payload) != rest.substr(0, f.consumed)) std::abort();
        auto step = socketmap_lookup(f.payload, cfg, list, cache, "msft-spare", 0);
        if (step.need_mx) {
            cache.put(step.domain, mx_verdict::temp, 5, 0);
        } else if (step.reply.size() > socketmap_max_reply || step.reply.empty()) {
            std::abort();
        }
        rest.remove_prefix(f.consumed);
    }
    return 0;
}
