// message_log.hpp: the two renderings of one decision — the syslog line (queue
// id first, then key=value, through relaygate::log::quote) and the rejection
// log's JSON object (one per line). Pure: the time is passed in. Called by the
// milter shell at end of message; tested directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "relaygate/milter/decision.hpp"
#include "relaygate/milter/signing_outcome.hpp"

namespace relaygate::milter {

struct message_record {
    std::string queue_id;         // Postfix "i" macro; "" when unknown
    std::string client_address;   // IP in text form
    std::string sasl_login;       // {auth_authen}
    std::string envelope_sender;  // MAIL FROM address, without angle brackets
    std::size_t recipient_count = 0;
    std::int64_t time = 0;  // unix seconds
    // The signing outcome, typed (not_delivered = not shown on the line; failed: detail says why).
    signing_outcome dkim{dkim_status::not_delivered};
    std::string url;  // the URL check's log fields ("url_action=warn ..."); "" = check off or not run
};

// "3F2A81C0 reject reason=not_registered domain=a.example from_domains=a.example client=192.0.2.9 ..."
std::string format_decision_line(const message_record& m, const decision& d);

// {"time":"2026-12-01T18:00:00Z","queue_id":...,"reason_code":...} without a trailing newline.
// Bytes that are not UTF-8 are replaced, so the line is always valid JSON.
std::string format_rejection_json(const message_record& m, const decision& d);

// True for decisions the rejection log records: reject, tempfail and tag (would-be rejections).
bool is_logged_as_rejection(const decision& d);

}  // namespace relaygate::milter
