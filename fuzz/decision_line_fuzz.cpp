// decision_line_fuzz.cpp: libFuzzer target for the decision-line codec's
// reader. The first byte picks the program (milter or policy), the rest is
// the line body. Nothing may crash or read past the line; a decision read
// back is written again by the codec's writer and must read the same, unless
// quoting grew a value past the reader's limit (then: field_too_long).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "relaygate/log/decision_line.hpp"
#include "relaygate/log/log.hpp"

using namespace relaygate::log;

namespace {

// The rewritten line may only be refused for a value quote() made too long.
bool too_long_after_quoting(const decision_read& back, const std::string& value) {
    return back.what == decision_read::outcome::field_too_long && quote(value).size() > max_decision_value;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view program = data[0] % 2 ? "relaygate-milter" : "relaygate-policy";
    const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
    const auto r = read_decision_line(program, body);
    if (r.what != decision_read::outcome::decision) return 0;
    const auto& d = r.fields;
    if (d.queue_id.size() > body.size()) std::abort();
    std::string again;
    switch (d.what) {
        case decision_fields::kind::milter: {
            const std::string from = unquote(d.from_domains);
            again = write_milter_line({.queue_id = d.queue_id,
                                       .action = d.action,
                                       .reason = d.reason,
                                       .from_domains = from,
                                       .dkim = d.dkim,
                                       .dkim_error = "x"});
            const auto back = read_decision_line(program, again);
            if (too_long_after_quoting(back, from)) break;
            if (back.what != decision_read::outcome::decision || back.fields.action != d.action ||
                back.fields.reason != d.reason || back.fields.dkim != d.dkim ||
                unquote(back.fields.from_domains) != from) {
                std::abort();
            }
            break;
        }
        case decision_fields::kind::policy: {
            again = write_policy_line({.queue_id = d.queue_id, .action = d.policy});
            const auto back = read_decision_line(program, again);
            if (back.what != decision_read::outcome::decision || back.fields.policy != d.policy) std::abort();
            break;
        }
        case decision_fields::kind::socketmap: {
            // Rewritten typed (the status read, the reply's text after its status word) and read back.
            const std::string reply = unquote(d.reply);
            const auto space = reply.find(' ');
            const std::string value =
                d.status == socketmap_status::other || space == std::string::npos ? reply : reply.substr(space + 1);
            again = write_socketmap_line({.key = "k", .status = d.status, .value = value, .reason = d.steering_reason});
            const auto back = read_decision_line(program, again);
            if (too_long_after_quoting(back, "NOTFOUND " + value)) break;  // the longest status word
            if (back.what != decision_read::outcome::decision || back.fields.status != d.status ||
                !unquote(back.fields.reply).ends_with(value)) {
                std::abort();
            }
            break;
        }
    }
    return 0;
}
