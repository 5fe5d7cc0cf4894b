// spf_record_fuzz.cpp: libFuzzer target for the SPF record parser and macro
// expander (spf_record.hpp): parse the input as a record; expand every domain-spec
// it accepted for an IPv4 and an IPv6 client; check the input as a domain name.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "relaygate/verify/spf_record.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace spf = relaygate::registry::spf;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)spf::is_valid_domain(text);
    auto record = spf::parse_record(text);
    if (!record) return 0;
    spf::macro_context v4{.local_part = "postmaster",
                          .sender_domain = "example.com",
                          .domain = "example.com",
                          .helo = "unknown",
                          .ip = {192, 0, 2, 1}};
    spf::macro_context v6 = v4;
    v6.ip.assign(16, 0x20);
    for (const auto* c : {&v4, &v6}) {
        for (const auto& m : record->mechanisms) {
            if (!m.domain_spec.empty()) {
                auto out = spf::expand_domain(m.domain_spec, *c);
                if (out && out->size() > spf::max_domain_length) __builtin_trap();  // §4.8 must hold
            }
        }
        if (record->redirect) (void)spf::expand_domain(*record->redirect, *c);
    }
    return 0;
}
