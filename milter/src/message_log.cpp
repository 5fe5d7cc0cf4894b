// message_log.cpp: syslog line and JSON rejection record of a decision (see message_log.hpp).
#include "relaygate/milter/message_log.hpp"

#include <nlohmann/json.hpp>

#include <ctime>

#include "relaygate/log/decision_line.hpp"
#include "relaygate/log/log.hpp"

namespace relaygate::milter {
namespace {

std::string iso8601(std::int64_t t) {
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string joined(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
    return s;
}

// The milter's signing status in the decision-line codec's closed vocabulary (enum to enum, no text).
log::dkim_status log_status(dkim_status s) {
    switch (s) {
        case dkim_status::off:
            return log::dkim_status::off;
        case dkim_status::not_delivered:
            return log::dkim_status::not_shown;
        case dkim_status::not_signed:
            return log::dkim_status::unsigned_;
        case dkim_status::signed_ok:
            return log::dkim_status::signed_;
        case dkim_status::failed:
            return log::dkim_status::error;
    }
    return log::dkim_status::error;
}

}  // namespace

bool is_logged_as_rejection(const decision& d) { return d.action != verdict::accept; }

// The line itself is written by the one decision-line codec (relaygate/log/decision_line.hpp).
std::string format_decision_line(const message_record& m, const decision& d) {
    static constexpr log::milter_action actions[] = {log::milter_action::accept, log::milter_action::reject,
                                                     log::milter_action::tempfail, log::milter_action::tag};
    const std::string from_domains = joined(d.from_domains);
    const std::string reply = d.reply.empty() ? std::string() : d.reply.to_string();
    return log::write_milter_line({.queue_id = m.queue_id,
                                   .action = actions[static_cast<int>(d.action)],
                                   .reason = log::parse_decision_reason(d.reason_code),
                                   .domain = d.domain,
                                   .from_domains = from_domains,
                                   .client = m.client_address,
                                   .sasl = m.sasl_login,
                                   .sender = m.envelope_sender,
                                   .rcpts = m.recipient_count,
                                   .reply = reply,
                                   .tag = d.tag_header,
                                   .dkim = log_status(m.dkim.status),
                                   .dkim_error = m.dkim.detail,
                                   .url = m.url});
}

std::string format_rejection_json(const message_record& m, const decision& d) {
    nlohmann::ordered_json j;
    j["time"] = iso8601(m.time);
    j["queue_id"] = m.queue_id;
    j["action"] = std::string(to_string(d.action));
    j["client_address"] = m.client_address;
    j["sasl_login"] = m.sasl_login;
    j["envelope_sender"] = m.envelope_sender;
    j["from_domains"] = d.from_domains;
    j["recipient_count"] = m.recipient_count;
    j["reason_code"] = d.reason_code;
    j["reason_text"] = d.reason_text;
    j["domain"] = d.domain;
    j["reply"] = d.reply.to_string();
    return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace relaygate::milter
