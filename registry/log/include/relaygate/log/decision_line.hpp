// decision_line.hpp: the one codec of relaygate's decision log lines, writer
// and reader together (tests/registry/log/decision_line_test.cpp round-trips
// them; fuzz/decision_line_fuzz.cpp reads hostile text):
//   milter    "QID ACTION reason=R [domain=D] from_domains=F client=C sasl=S sender=E rcpts=N
//              [reply=Q] [tag=T] [dkim=K] [url_action=A url_risk=R url_domain=D url_findings=N urls=N]"
//   policy    "QID policy action=A state=S sender=E recipient=R client=C [sasl=S] [DETAIL] [filter=F]
//              [failures=N]"
//   socketmap "- socketmap key=K domain=D reply=Q reason=X status=S [transport=T]"
// Written by relaygate-milter and relaygate-policy, read by relaygate-watch.
// Actions, reasons and the DKIM status are closed vocabularies; values go
// through log::quote(). The reader is pure and bounded (64 fields, 2048-byte
// values, 64-byte tokens) and returns views into the line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace relaygate::log {

inline constexpr std::size_t max_decision_fields = 64;   // key=value pairs read per line
inline constexpr std::size_t max_decision_value = 2048;  // bytes of one value as logged
inline constexpr std::size_t max_decision_token = 64;    // bytes of a label token (action, reason)

enum class milter_action : std::uint8_t { accept, reject, tempfail, tag };

// Why the milter decided as it did: its own checks, then the registry's
// verification reason codes (dkim_<outcome>, spf_<outcome>). A token no
// writer of this version produces reads as other.
enum class decision_reason : std::uint8_t {
    ok,
    internal_error,
    dkim_sign_error,
    sasl_not_allowed,
    network_not_allowed,
    not_registered,
    pending,
    verification_temporary,
    not_verified,
    no_from,
    multiple_from,
    multiple_sender,
    from_unparsable,
    sender_unparsable,
    from_no_mailbox,
    sender_no_mailbox,
    dkim_no_record,
    dkim_key_mismatch,
    dkim_revoked,
    dkim_bad_syntax,
    dkim_key_too_short,
    dkim_temporary,
    dkim_held_key_error,
    spf_fail,
    spf_softfail,
    spf_neutral,
    spf_none,
    spf_permerror,
    spf_temperror,
    other,
};

// What became of DKIM signing: not shown (the message was not delivered),
// off, signed, unsigned (operator domain without a key), pending (shown only
// until the end of message), error (with a detail: "dkim=error:<why>").
enum class dkim_status : std::uint8_t { not_shown, off, signed_, unsigned_, pending, error };

enum class policy_action : std::uint8_t { dunno, defer_rate, defer_size, fail_open, filter };

// The socketmap reply's status word (Postfix socketmap_table(5)); other for
// a reply that has none of them.
enum class socketmap_status : std::uint8_t { ok, notfound, temp, timeout, perm, other };

std::string_view to_string(milter_action a);
std::string_view to_string(decision_reason r);
std::string_view to_string(dkim_status s);  // "" for not_shown
std::string_view to_string(policy_action a);
std::string_view to_string(socketmap_status s);
std::optional<milter_action> parse_milter_action(std::string_view text);
decision_reason parse_decision_reason(std::string_view text);  // other when unknown
std::optional<policy_action> parse_policy_action(std::string_view text);

// One milter decision (values unquoted; the writer quotes them).
struct milter_line {
    std::string_view queue_id;  // "" = unknown, written "-"
    milter_action action = milter_action::accept;
    decision_reason reason = decision_reason::ok;
    std::string_view domain;        // "" = not written
    std::string_view from_domains;  // "a.example,b.example"
    std::string_view client, sasl, sender;
    std::size_t rcpts = 0;
    std::string_view reply;  // "" = not written
    std::string_view tag;    // "" = not written
    dkim_status dkim = dkim_status::not_shown;
    std::string_view dkim_error;  // with dkim_status::error
    std::string_view url;         // the URL check's "url_action=... urls=N" fields, written as is; "" = off
};
std::string write_milter_line(const milter_line& m);

// One policy delegation decision.
struct policy_line {
    std::string_view queue_id;  // "" = "-"
    policy_action action = policy_action::dunno;
    std::string_view state;  // protocol_state; "" = "-"
    std::string_view sender, recipient;
    std::string_view client;                // "" = "-"
    std::string_view sasl;                  // "" = not written
    std::string_view detail;                // extra "key=value ..." text written as is (the limit that fired)
    std::string_view filter;                // policy_action::filter: the FILTER target
    std::optional<std::uint64_t> failures;  // policy_action::fail_open: counter failures so far
};
std::string write_policy_line(const policy_line& p);

// One socketmap lookup, typed as the policy made it: the reply's status and
// value (the writer logs them as reply="OK msft-out:..." status=ok
// transport=msft-out; the transport is the value's first ':'-separated token).
struct socketmap_line {
    std::string_view key, domain;  // domain "" = "-"
    socketmap_status status = socketmap_status::notfound;
    std::string_view value;   // ok: the map value; temp/perm: the reason; notfound: ""
    std::string_view reason;  // the steering reason token (domain_list, mx_microsoft, ...)
};
std::string write_socketmap_line(const socketmap_line& s);
// The reader's fallback for lines of an older writer (no status=): "OK msft-out:[127.0.0.1]:25"
// -> {ok, "msft-out"}; "NOTFOUND " -> {notfound, ""}.
std::pair<socketmap_status, std::string_view> socketmap_reply_parts(std::string_view reply);

// What the reader found, as views into the line.
struct decision_fields {
    enum class kind { milter, policy, socketmap } what = kind::milter;
    std::string_view queue_id;  // "" for "-"
    // milter
    milter_action action = milter_action::accept;
    decision_reason reason = decision_reason::ok;  // other for a token this version does not write
    std::string_view reason_token;                 // the reason as logged (a label token)
    std::string_view from_domains;                 // as logged (maybe quoted: unquote())
    dkim_status dkim = dkim_status::not_shown;
    // policy
    policy_action policy = policy_action::dunno;
    // socketmap
    std::string_view reply;  // as logged
    std::string_view steering_reason;
    socketmap_status status = socketmap_status::other;
    std::string_view transport;  // "" unless status ok; "other" when not a plain token
};

struct decision_read {
    // not_a_decision: another line of these programs (start, reload...)
    enum class outcome { decision, not_a_decision, bad_line, field_too_long } what = outcome::not_a_decision;
    decision_fields fields;  // with outcome::decision
};

// program: "relaygate-milter" or "relaygate-policy"; body: the text after "tag[pid]: ".
decision_read read_decision_line(std::string_view program, std::string_view body);

// Reverses log::quote(): "\"a\\\"b\"" -> "a\"b"; a value without quotes is returned as is.
std::string unquote(std::string_view value);

}  // namespace relaygate::log
