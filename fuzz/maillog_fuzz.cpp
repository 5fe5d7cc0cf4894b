// maillog_fuzz.cpp: libFuzzer target for the maillog parser and, on what it
// accepts, the reply classifier and the delivery tracker (all pure). Corpus:
// tests/testdata/fuzz/maillog/ (real Postfix 3.7 lines, relaygate-milter and
// relaygate-policy decision lines, edge cases).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "relaygate/watch/delivery_tracker.hpp"
#include "relaygate/watch/maillog_line.hpp"
#include "relaygate/watch/reply_classifier.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace relaygate::watch;
    static delivery_tracker tracker({.long_deferred_seconds = 1, .max_queue_ids = 64}, [] {
        transport_map m;
        m.add("postfix/msft-out=msft-out,microsoft,127.0.0.2");
        return m;
    }());
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    // Several lines per input, as the follower hands them over.
    std::size_t start = 0;
    while (start <= input.size()) {
        const auto nl = input.find('\n', start);
        const auto line = input.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
        const auto r = parse_maillog_line(line, 1796149800);
        if (r) {
            (void)classify_reply(r->status, r->dsn, r->reply);
            (void)find_enhanced_code(r->reply);
            (void)tracker.observe(*r);
        }
        if (nl == std::string_view::npos) break;
        start = nl + 1;
    }
    return 0;
}
