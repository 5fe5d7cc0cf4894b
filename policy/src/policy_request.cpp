// policy_request.cpp: see policy_request.hpp. One pass over the buffer; the
// attribute dispatch is a table from name to the field it fills.
#include "relaygate/policy/policy_request.hpp"

#include <array>
#include <charconv>
#include <cstring>
#include <utility>

namespace relaygate::policy {
namespace {

using view_field = std::string_view policy_request::*;

constexpr std::array<std::pair<std::string_view, view_field>, 9> view_fields{{
    {"request", &policy_request::request},
    {"protocol_state", &policy_request::protocol_state},
    {"queue_id", &policy_request::queue_id},
    {"instance", &policy_request::instance},
    {"sender", &policy_request::sender},
    {"recipient", &policy_request::recipient},
    {"client_address", &policy_request::client_address},
    {"sasl_username", &policy_request::sasl_username},
    {"policy_context", &policy_request::policy_context},
}};

bool valid_name(std::string_view name) {
    if (name.empty()) return false;
    for (char c : name) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    }
    return true;
}

template <class T>
bool parse_number(std::string_view text, T& out) {
    if (text.empty()) {
        out = 0;  // Postfix sends "size=0"; an empty value means "not known"
        return true;
    }
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size();
}

// Fills one attribute into req; false when the value is malformed.
bool apply_attribute(policy_request& req, std::string_view name, std::string_view value) {
    for (const auto& [known, field] : view_fields) {
        if (known == name) {
            req.*field = value;
            return true;
        }
    }
    if (name == "size") return parse_number(value, req.size);
    if (name == "recipient_count") return parse_number(value, req.recipient_count);
    return true;
}

}  // namespace

policy_parse_result parse_policy_request(std::string_view buf, const policy_request_limits& limits) {
    policy_parse_result r;
    std::size_t pos = 0;
    while (true) {
        std::size_t nl = buf.find('\n', pos);
        std::size_t line_end = nl == std::string_view::npos ? buf.size() : nl;
        if (line_end - pos > limits.max_line + 1) {  // +1: a tolerated '\r'
            r.status = policy_parse_status::line_too_long;
            return r;
        }
        if (nl == std::string_view::npos) {
            if (buf.size() >= limits.max_request) r.status = policy_parse_status::request_too_long;
            return r;  // incomplete
        }
        if (nl + 1 > limits.max_request) {
            r.status = policy_parse_status::request_too_long;
            return r;
        }
        std::string_view line = buf.substr(pos, line_end - pos);
        pos = nl + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.size() > limits.max_line) {
            r.status = policy_parse_status::line_too_long;
            return r;
        }
        if (line.empty()) break;
        if (++r.request.attributes > limits.max_attributes) {
            r.status = policy_parse_status::too_many_attributes;
            return r;
        }
        std::size_t eq = line.find('=');
        if (eq == std::string_view::npos || !valid_name(line.substr(0, eq)) ||
            line.find('\0') != std::string_view::npos) {
            r.status = policy_parse_status::bad_line;
            return r;
        }
        if (!apply_attribute(r.request, line.substr(0, eq), line.substr(eq + 1))) {
            r.status = policy_parse_status::bad_number;
            return r;
        }
    }
    if (r.request.request != "smtpd_access_policy") {
        r.status = policy_parse_status::not_a_policy_request;
        return r;
    }
    r.status = policy_parse_status::ok;
    r.consumed = pos;
    return r;
}

std::string_view to_string(policy_parse_status s) {
    switch (s) {
        case policy_parse_status::incomplete:
            return "incomplete";
        case policy_parse_status::ok:
            return "ok";
        case policy_parse_status::line_too_long:
            return "line_too_long";
        case policy_parse_status::request_too_long:
            return "request_too_long";
        case policy_parse_status::too_many_attributes:
            return "too_many_attributes";
        case policy_parse_status::bad_line:
            return "bad_line";
        case policy_parse_status::bad_number:
            return "bad_number";
        case policy_parse_status::not_a_policy_request:
            return "not_a_policy_request";
    }
    return "unknown";
}

}  // namespace relaygate::policy
