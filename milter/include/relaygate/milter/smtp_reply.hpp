// smtp_reply.hpp: an SMTP reply (code, enhanced code, text) as carried beside
// every verdict, and the ONE place it is formatted for the wire: libmilter's
// smfi_setreply takes a printf-like text, so '%' is doubled and CR, LF and
// other control bytes are replaced. Called by the milter shell and the logs.
#pragma once

#include <string>
#include <string_view>

namespace relaygate::milter {

struct smtp_reply {
    std::string code;      // "550", "451"; empty for accept
    std::string enhanced;  // "5.7.1", "4.7.1"
    std::string text;      // human text, not yet escaped

    bool empty() const { return code.empty(); }
    // text made safe for smfi_setreply: '%' doubled, control bytes and 8-bit
    // bytes replaced by '?', at most max_bytes long.
    std::string wire_text(std::size_t max_bytes = 400) const;
    // "550 5.7.1 text" for logs and tests (unescaped text).
    std::string to_string() const;
};

// The one reply to an internal failure (an exception in a callback, a step that
// failed without a reply): the client keeps the message and retries.
const smtp_reply& internal_error_reply();

}  // namespace relaygate::milter
