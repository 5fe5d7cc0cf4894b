// policy_request_fuzz.cpp: libFuzzer target for the policy delegation request
// parser. Feeds the input as a pipelined stream (every request it yields must
// lie inside the buffer and consume > 0 bytes) and, split in two, as partial
// input (a prefix may only be incomplete or fail as the whole does).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "relaygate/policy/policy_request.hpp"
#include "relaygate/policy/volume_policy.hpp"

using namespace relaygate::policy;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    policy_request_limits limits{.max_line = 512, .max_request = 2048, .max_attributes = 40};
    static auto counters = make_local_counter_store(1000);
    volume_config cfg;
    cfg.rules.push_back(*parse_rate_rule("sender_domain:recipients:5/1h"));
    cfg.rules.push_back(*parse_rate_rule("client_address:bytes:100000/1h"));
    cfg.size_caps["default"] = 50000;
    std::string_view rest = input;
    while (!rest.empty()) {
        auto r = parse_policy_request(rest, limits);
        if (r.status != policy_parse_status::ok) break;
        if (r.consumed == 0 || r.consumed > rest.size()) std::abort();
        for (std::string_view v : {r.request.sender, r.request.recipient, r.request.client_address}) {
            if (!v.empty() && (v.data() < rest.data() || v.data() + v.size() > rest.data() + rest.size())) std::abort();
        }
        auto d = decide_volume(r.request, cfg, *counters, nullptr, 1700000000000);
        auto wire = format_action(d);
        if (wire.find('\n') + 2 != wire.size()) std::abort();  // exactly one line plus the empty line
        for (std::size_t i = 0; i + 2 < wire.size(); ++i)
            if (static_cast<unsigned char>(wire[i]) < 0x20) std::abort();
        rest.remove_prefix(r.consumed);
    }
    auto whole = parse_policy_request(input, limits);
    auto prefix = parse_policy_request(input.substr(0, size / 2), limits);
    if (prefix.status == policy_parse_status::ok && whole.status != policy_parse_status::ok) std::abort();
    return 0;
}
