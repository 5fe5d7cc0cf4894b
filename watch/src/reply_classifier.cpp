// reply_classifier.cpp: the reply table of docs/watch.md. First match wins:
// text markers (S3140/S3150), then enhanced-code ranges, then the status.
#include "relaygate/watch/reply_classifier.hpp"

#include <array>

namespace relaygate::watch {
namespace {

using sv = std::string_view;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads "D.D{1,3}.D{1,3}" at text[i] (not preceded by a digit or '.').
bool code_at(sv text, std::size_t i, enhanced_code& out) {
    if (i > 0 && (is_digit(text[i - 1]) || text[i - 1] == '.')) return false;
    if (i + 5 > text.size() || (text[i] != '2' && text[i] != '4' && text[i] != '5') || text[i + 1] != '.') {
        return false;
    }
    std::size_t j = i + 2;
    int parts[2] = {0, 0};
    for (int p = 0; p < 2; ++p) {
        const std::size_t start = j;
        while (j < text.size() && is_digit(text[j]) && j - start < 3) parts[p] = parts[p] * 10 + (text[j++] - '0');
        if (j == start) return false;
        if (p == 0) {
            if (j >= text.size() || text[j] != '.') return false;
            ++j;
        }
    }
    if (j < text.size() && (is_digit(text[j]) || text[j] == '.')) return false;
    out = {text[i] - '0', parts[0], parts[1]};
    return true;
}

struct code_rule {
    int cls;  // 0 = either 4 or 5 (the filter may have rewritten the class)
    int subject;
    int low;
    int high;
    reply_class result;
};

// Order matters: specific codes before the ranges that contain them.
constexpr std::array<code_rule, 11> code_rules = {{
    {0, 7, 652, 652, reply_class::connection_limit},
    {0, 7, 650, 651, reply_class::ip_reputation_throttled},
    {5, 7, 606, 649, reply_class::ip_banned},
    {5, 7, 511, 511, reply_class::ip_banned},
    {5, 7, 515, 515, reply_class::authentication},
    {5, 7, 509, 509, reply_class::authentication},
    {5, 7, 23, 23, reply_class::authentication},
    {5, 7, 25, 25, reply_class::authentication},
    {4, 7, 26, 26, reply_class::authentication},
    {4, 7, 500, 699, reply_class::server_busy},
    {4, 7, 850, 899, reply_class::server_busy},
}};

}  // namespace

std::string_view to_string(reply_class c) {
    switch (c) {
        case reply_class::delivered:
            return "delivered";
        case reply_class::ip_blocklisted:
            return "ip_blocklisted";
        case reply_class::ip_banned:
            return "ip_banned";
        case reply_class::ip_reputation_throttled:
            return "ip_reputation_throttled";
        case reply_class::server_busy:
            return "server_busy";
        case reply_class::connection_limit:
            return "connection_limit";
        case reply_class::authentication:
            return "authentication";
        case reply_class::other_temporary:
            return "other_temporary";
        case reply_class::other_permanent:
            return "other_permanent";
        case reply_class::unknown:
            return "unknown";
    }
    return "unknown";
}

bool is_reputation(reply_class c) {
    return c == reply_class::ip_blocklisted || c == reply_class::ip_banned ||
           c == reply_class::ip_reputation_throttled || c == reply_class::server_busy;
}

enhanced_code find_enhanced_code(std::string_view text) {
    // Postfix writes "host X[IP] said: 550 5.7.1 ..."; the host part holds IPs
    // that look like codes ("127.0.0.1"), so start after "said: " when present.
    std::size_t from = 0;
    if (const auto said = text.find(" said: "); said != sv::npos) from = said + 7;
    enhanced_code code;
    for (std::size_t i = from; i < text.size(); ++i) {
        if (code_at(text, i, code)) return code;
    }
    return {};
}

enhanced_code parse_enhanced_code(std::string_view dsn) {
    enhanced_code code;
    if (code_at(dsn, 0, code)) return code;
    return {};
}

reply_class classify_reply(delivery_status status, std::string_view dsn, std::string_view reply_text) {
    if (status == delivery_status::sent) return reply_class::delivered;
    enhanced_code code = find_enhanced_code(reply_text);
    if (code.cls == 0) code = parse_enhanced_code(dsn);
    if (reply_text.find("(S3140)") != sv::npos || reply_text.find("(S3150)") != sv::npos) {
        return reply_class::ip_blocklisted;
    }
    if (code.cls == 4 || code.cls == 5) {
        for (const auto& r : code_rules) {
            if ((r.cls == 0 || r.cls == code.cls) && r.subject == code.subject && code.detail >= r.low &&
                code.detail <= r.high) {
                return r.result;
            }
        }
    }
    // Nothing specific: the outcome Postfix logged decides (dsn may be filtered to 4.x.x).
    if (status == delivery_status::bounced || status == delivery_status::expired) return reply_class::other_permanent;
    if (status == delivery_status::deferred) return reply_class::other_temporary;
    return reply_class::unknown;
}

}  // namespace relaygate::watch
