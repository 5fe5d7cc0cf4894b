// smtp_reply.cpp: wire formatting of SMTP replies (see smtp_reply.hpp).
#include "relaygate/milter/smtp_reply.hpp"

namespace relaygate::milter {

std::string smtp_reply::wire_text(std::size_t max_bytes) const {
    std::string out;
    out.reserve(text.size() + 8);
    for (char ch : text) {
        auto c = static_cast<unsigned char>(ch);
        // A reply line is 7-bit text on one line; '%' would be read as a format directive.
        std::string piece = c == '%' ? "%%" : (c < 0x20 || c >= 0x7f) ? "?" : std::string(1, ch);
        if (out.size() + piece.size() > max_bytes) break;
        out += piece;
    }
    return out;
}

std::string smtp_reply::to_string() const {
    if (empty()) return "";
    return code + " " + enhanced + " " + text;
}

const smtp_reply& internal_error_reply() {
    static const smtp_reply r{"451", "4.7.1", "Internal error in relaygate-milter, try again later"};
    return r;
}

}  // namespace relaygate::milter
