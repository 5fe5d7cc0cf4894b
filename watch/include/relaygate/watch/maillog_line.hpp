// maillog_line.hpp: the pure parser of one Postfix log line (maillog_file or a
// syslog file). string_view in, views into that same line out: the record is
// valid only as long as the line. Hard limits: lines over 8192 bytes and
// fields over 2048 bytes are errors. Also reads the decision lines of
// relaygate-milter and relaygate-policy (same file under rsyslog or the
// postlog sink): at most 64 key=value fields, label tokens (action, reason)
// of [A-Za-z0-9_.:-]{1,64}. Called by the watch daemon for every line the
// log_follower reads, by the bench and by the fuzz target.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "relaygate/log/decision_line.hpp"
#include "relaygate/registry/expected.hpp"

namespace relaygate::watch {

inline constexpr std::size_t max_line_bytes = 8192;
inline constexpr std::size_t max_field_bytes = 2048;
inline constexpr std::size_t max_decision_fields = log::max_decision_fields;
inline constexpr std::size_t max_token_bytes = log::max_decision_token;

enum class line_kind {
    delivery,         // smtp/lmtp/local/virtual/pipe...: to=<..>, status=...
    qmgr_from,        // qmgr: from=<..>, size=.., nrcpt=.. (queue active)
    qmgr_expired,     // qmgr: from=<..>, status=expired, returned to sender
    qmgr_removed,     // qmgr: removed
    message_id,       // cleanup: message-id=<..>
    milter_decision,  // relaygate-milter: QID ACTION reason=R ... from_domains=a,b ...
    policy_decision,  // relaygate-policy: QID policy action=A ...
    policy_steering,  // relaygate-policy: - socketmap key=K domain=D reply=R reason=X
    other,            // any other Postfix or non-Postfix line (not an error)
};

enum class delivery_status { sent, deferred, bounced, expired, undeliverable };
std::string_view to_string(delivery_status s);

struct maillog_record {
    line_kind kind = line_kind::other;
    std::int64_t time = 0;          // unix seconds (Mmm dd stamps: year from the caller's clock, read as UTC)
    std::string_view host;          // "mta"
    std::string_view syslog_name;   // "postfix/msft-out/smtp"
    std::string_view service;       // syslog_name without the program: "postfix/msft-out"
    std::string_view program;       // "smtp"
    std::string_view queue_id;      // short (hex) or long id; empty for lines without one
    std::string_view to;            // without <>
    std::string_view orig_to;       // without <>
    std::string_view relay;         // "127.0.0.1[127.0.0.1]:2792" or "none"
    std::string_view dsn;           // "4.7.1"
    std::string_view reply;         // the text in parentheses after status=; socketmap: reply= as logged
    std::string_view from;          // qmgr_from / qmgr_expired: envelope sender, without <>
    std::string_view message_id;    // as logged, with <> when present
    std::string_view action;        // milter: accept|reject|tempfail|tag; policy: filter, defer_rate...
    std::string_view reason;        // milter reason code; socketmap reason (domain_list, mx_microsoft...)
    std::string_view from_domains;  // milter: "a.example,b.example" as logged (maybe quoted: log::unquote)
    log::decision_fields decision;  // milter/policy lines: the typed fields (relaygate_log's decision codec)
    double delay = 0;               // seconds since the message arrived
    unsigned conn_use = 0;          // 0 when absent
    delivery_status status = delivery_status::deferred;
};

enum class parse_error { line_too_long, field_too_long, bad_timestamp, bad_header, bad_delivery, bad_decision };
std::string_view to_string(parse_error e);

// now: unix seconds of the caller's clock; "Mmm dd hh:mm:ss" stamps get the year
// that puts them at most one day in the future of now.
expected<maillog_record, parse_error> parse_maillog_line(std::string_view line, std::int64_t now);

}  // namespace relaygate::watch
