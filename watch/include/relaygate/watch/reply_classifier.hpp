// reply_classifier.hpp: what a remote SMTP reply means for our sending IP.
// A closed vocabulary (reply_class) decided by one table (reply_classifier.cpp,
// documented in docs/watch.md). The enhanced status code is read from the
// server's text first, because smtp_delivery_status_filter rewrites dsn= to
// 4.x.x but keeps the text. Pure; called by the delivery_tracker.
#pragma once

#include <string_view>

#include "relaygate/watch/maillog_line.hpp"

namespace relaygate::watch {

enum class reply_class {
    delivered,
    ip_blocklisted,           // Outlook.com "(S3140)" / "(S3150)"
    ip_banned,                // 5.7.606-5.7.649, 5.7.511
    ip_reputation_throttled,  // 4.7.650, 4.7.651
    server_busy,              // 4.7.500-4.7.699 (other), 4.7.850-4.7.899
    connection_limit,         // 4.7.652: lower concurrency, not a failover
    authentication,           // 5.7.515, 5.7.509, 5.7.23, 5.7.25, 4.7.26
    other_temporary,
    other_permanent,
    unknown,
};
std::string_view to_string(reply_class c);

// True for the classes that count toward a reputation alert and failover.
bool is_reputation(reply_class c);

struct enhanced_code {
    int cls = 0;  // 2, 4 or 5; 0 = none
    int subject = 0;
    int detail = 0;
};

// The first "D.DDD.DDD" after "said: " in text (or at its start), else none.
enhanced_code find_enhanced_code(std::string_view text);
// "4.7.1" -> {4,7,1}; none when malformed.
enhanced_code parse_enhanced_code(std::string_view dsn);

reply_class classify_reply(delivery_status status, std::string_view dsn, std::string_view reply_text);

}  // namespace relaygate::watch
