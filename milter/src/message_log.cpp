// message_log.cpp: syslog line and JSON rejection record of a decision (see message_log.hpp).
#include "relaygate/milter/message_log.hpp"

#include <nlohmann/json.hpp>

#include <ctime>

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

}  // namespace

bool is_logged_as_rejection(const decision& d) { return d.action != verdict::accept; }

std::string format_decision_line(const message_record& m, const decision& d) {
    using log::quote;
    std::string line = m.queue_id.empty() ? "-" : quote(m.queue_id);
    line += ' ';
    line += to_string(d.action);
    line += " reason=" + quote(d.reason_code);
    if (!d.domain.empty()) line += " domain=" + quote(d.domain);
    line += " from_domains=" + quote(joined(d.from_domains));
    line += " client=" + quote(m.client_address);
    line += " sasl=" + quote(m.sasl_login);
    line += " sender=" + quote(m.envelope_sender);
    line += " rcpts=" + std::to_string(m.recipient_count);
    if (!d.reply.empty()) line += " reply=" + quote(d.reply.to_string());
    if (!d.tag_header.empty()) line += " tag=" + quote(d.tag_header);
    if (!m.dkim.empty()) line += " dkim=" + quote(m.dkim);
    return line;
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
