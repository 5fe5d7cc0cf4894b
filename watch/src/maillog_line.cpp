// maillog_line.cpp: parse_maillog_line (see maillog_line.hpp). One pass over
// the line, no allocation: header (time stamp, host, syslog_name[pid]:), then
// the queue id, then the program-specific key=value list. relaygate-milter
// and relaygate-policy lines go to the registry's decision-line codec
// (relaygate/log/decision_line.hpp), which writes them too.
#include "relaygate/watch/maillog_line.hpp"

#include <array>
#include <charconv>

namespace relaygate::watch {
namespace {

using sv = std::string_view;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool digits(sv s, std::size_t pos, std::size_t n, int& out) {
    if (pos + n > s.size()) return false;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    out = v;
    return true;
}

bool valid_clock(int h, int mi, int s) { return h < 24 && mi < 60 && s <= 60; }

// "Dec 01 18:28:39 " or "Dec  1 18:28:39 " (15 chars).
bool parse_bsd_time(sv line, std::int64_t now, std::int64_t& out, std::size_t& used) {
    static constexpr std::array<sv, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (line.size() < 16 || line[3] != ' ' || line[6] != ' ' || line[9] != ':' || line[12] != ':') return false;
    unsigned month = 0;
    for (unsigned i = 0; i < months.size(); ++i) {
        if (line.substr(0, 3) == months[i]) month = i + 1;
    }
    int day = 0, h = 0, mi = 0, s = 0;
    if (month == 0) return false;
    if (line[4] == ' ') {
        if (!digits(line, 5, 1, day)) return false;
    } else if (!digits(line, 4, 2, day)) {
        return false;
    }
    if (day < 1 || day > 31 || !digits(line, 7, 2, h) || !digits(line, 10, 2, mi) || !digits(line, 13, 2, s) ||
        !valid_clock(h, mi, s)) {
        return false;
    }
    const std::int64_t now_days = now / 86400;
    // Year of now (civil_from_days is not needed: try this year, then last year).
    std::int64_t year = 1970 + now_days / 366;
    while (days_from_civil(year + 1, 1, 1) <= now_days) ++year;
    std::int64_t t = days_from_civil(year, month, static_cast<unsigned>(day)) * 86400 + h * 3600 + mi * 60 + s;
    if (t > now + 86400)
        t = days_from_civil(year - 1, month, static_cast<unsigned>(day)) * 86400 + h * 3600 + mi * 60 + s;
    out = t;
    used = 15;
    return true;
}

// "2026-12-01T18:28:51[.frac](Z|+hh:mm|-hh:mm)".
bool parse_rfc3339(sv line, std::int64_t& out, std::size_t& used) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    if (line.size() < 20 || line[4] != '-' || line[7] != '-' || line[10] != 'T' || line[13] != ':' || line[16] != ':' ||
        !digits(line, 0, 4, y) || !digits(line, 5, 2, mo) || !digits(line, 8, 2, d) || !digits(line, 11, 2, h) ||
        !digits(line, 14, 2, mi) || !digits(line, 17, 2, s)) {
        return false;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || !valid_clock(h, mi, s)) return false;
    std::size_t i = 19;
    if (i < line.size() && line[i] == '.') {
        ++i;
        const std::size_t start = i;
        while (i < line.size() && line[i] >= '0' && line[i] <= '9' && i - start < 9) ++i;
        if (i == start) return false;
    }
    int offset = 0;
    if (i < line.size() && line[i] == 'Z') {
        ++i;
    } else if (i + 6 <= line.size() && (line[i] == '+' || line[i] == '-') && line[i + 3] == ':') {
        int oh = 0, om = 0;
        if (!digits(line, i + 1, 2, oh) || !digits(line, i + 4, 2, om) || oh > 23 || om > 59) return false;
        offset = (oh * 3600 + om * 60) * (line[i] == '-' ? -1 : 1);
        i += 6;
    } else {
        return false;
    }
    out = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 + h * 3600 + mi * 60 + s -
          offset;
    used = i;
    return true;
}

bool queue_id_char(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// Splits "key=value, key=value, ..." one field at a time. Values in <> may hold
// ", " (quoted local parts): they end at the '>' that precedes ", " or the end.
struct field_reader {
    sv rest;
    bool next(sv& key, sv& value) {
        if (rest.empty()) return false;
        const auto eq = rest.find('=');
        if (eq == sv::npos) return false;
        key = rest.substr(0, eq);
        sv after = rest.substr(eq + 1);
        std::size_t end = 0;
        if (!after.empty() && after[0] == '<') {
            end = after.find(">, ");
            end = end == sv::npos ? after.size() : end + 1;
        } else {
            end = after.find(", ");
            if (end == sv::npos) end = after.size();
        }
        value = after.substr(0, end);
        rest = end + 2 <= after.size() ? after.substr(end + 2) : sv{};
        return true;
    }
};

sv strip_angle(sv v) {
    if (v.size() >= 2 && v.front() == '<' && v.back() == '>') return v.substr(1, v.size() - 2);
    return v;
}

bool parse_status(sv v, delivery_status& st, sv& reply) {
    static constexpr std::array<std::pair<sv, delivery_status>, 5> words = {
        {{"sent", delivery_status::sent},
         {"deferred", delivery_status::deferred},
         {"bounced", delivery_status::bounced},
         {"expired", delivery_status::expired},
         {"undeliverable", delivery_status::undeliverable}}};
    const auto sp = v.find(' ');
    const sv word = v.substr(0, sp);
    bool found = false;
    for (const auto& [w, s] : words) {
        if (word == w) {
            st = s;
            found = true;
        }
    }
    if (!found) return false;
    if (sp != sv::npos) {
        sv text = v.substr(sp + 1);
        if (text.size() >= 2 && text.front() == '(' && text.back() == ')') text = text.substr(1, text.size() - 2);
        reply = text;
    }
    return true;
}

expected<maillog_record, parse_error> parse_delivery(maillog_record r, sv body) {
    field_reader fields{body};
    sv key, value;
    bool have_status = false;
    while (fields.next(key, value)) {
        if (key == "status") {
            // The status is last and its text may contain anything, commas included.
            const sv all = body.substr(static_cast<std::size_t>(value.data() - body.data()));
            if (!parse_status(all, r.status, r.reply)) return unexpected{parse_error::bad_delivery};
            have_status = true;
            break;
        }
        if (value.size() > max_field_bytes) return unexpected{parse_error::field_too_long};
        if (key == "to") {
            r.to = strip_angle(value);
        } else if (key == "orig_to") {
            r.orig_to = strip_angle(value);
        } else if (key == "relay") {
            r.relay = value;
        } else if (key == "dsn") {
            r.dsn = value;
        } else if (key == "delay") {
            // from_chars for double is in libstdc++ 11+; a bad number is a bad line.
            const auto res = std::from_chars(value.data(), value.data() + value.size(), r.delay);
            if (res.ec != std::errc{} || r.delay < 0) return unexpected{parse_error::bad_delivery};
        } else if (key == "conn_use") {
            const auto res = std::from_chars(value.data(), value.data() + value.size(), r.conn_use);
            if (res.ec != std::errc{}) return unexpected{parse_error::bad_delivery};
        }
    }
    if (!have_status || r.to.empty()) return unexpected{parse_error::bad_delivery};
    if (r.reply.size() > max_field_bytes) return unexpected{parse_error::field_too_long};
    r.kind = line_kind::delivery;
    return r;
}

expected<maillog_record, parse_error> parse_qmgr(maillog_record r, sv body) {
    if (body == "removed") {
        r.kind = line_kind::qmgr_removed;
        return r;
    }
    if (!body.starts_with("from=")) return r;
    field_reader fields{body};
    sv key, value;
    if (!fields.next(key, value)) return r;
    if (value.size() > max_field_bytes) return unexpected{parse_error::field_too_long};
    r.from = strip_angle(value);
    r.kind = line_kind::qmgr_from;
    if (fields.rest.starts_with("status=expired")) {
        r.kind = line_kind::qmgr_expired;
        r.status = delivery_status::expired;
        sv text = fields.rest.substr(14);  // after "status=expired"
        if (text.starts_with(", ")) text.remove_prefix(2);
        r.reply = text;
    }
    return r;
}

// A relaygate-milter or relaygate-policy line, read by the one decision codec.
expected<maillog_record, parse_error> parse_decision(maillog_record r, sv program, sv body) {
    using outcome = log::decision_read::outcome;
    const auto read = log::read_decision_line(program, body);
    if (read.what == outcome::not_a_decision) return r;
    if (read.what == outcome::field_too_long) return unexpected{parse_error::field_too_long};
    if (read.what == outcome::bad_line) return unexpected{parse_error::bad_decision};
    const auto& d = read.fields;
    r.decision = d;
    r.queue_id = d.queue_id;
    switch (d.what) {
        case log::decision_fields::kind::milter:
            r.kind = line_kind::milter_decision;
            r.action = log::to_string(d.action);
            r.reason = d.reason_token;
            r.from_domains = d.from_domains;
            break;
        case log::decision_fields::kind::policy:
            r.kind = line_kind::policy_decision;
            r.action = log::to_string(d.policy);
            break;
        case log::decision_fields::kind::socketmap:
            r.kind = line_kind::policy_steering;
            r.reason = d.steering_reason;
            r.reply = d.reply;
            break;
    }
    return r;
}

}  // namespace

std::string_view to_string(delivery_status s) {
    switch (s) {
        case delivery_status::sent:
            return "sent";
        case delivery_status::deferred:
            return "deferred";
        case delivery_status::bounced:
            return "bounced";
        case delivery_status::expired:
            return "expired";
        case delivery_status::undeliverable:
            return "undeliverable";
    }
    return "deferred";
}

std::string_view to_string(parse_error e) {
    switch (e) {
        case parse_error::line_too_long:
            return "line_too_long";
        case parse_error::field_too_long:
            return "field_too_long";
        case parse_error::bad_timestamp:
            return "bad_timestamp";
        case parse_error::bad_header:
            return "bad_header";
        case parse_error::bad_delivery:
            return "bad_delivery";
        case parse_error::bad_decision:
            return "bad_decision";
    }
    return "bad_header";
}

expected<maillog_record, parse_error> parse_maillog_line(std::string_view line, std::int64_t now) {
    if (line.size() > max_line_bytes) return unexpected{parse_error::line_too_long};
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    maillog_record r;
    std::size_t used = 0;
    if (!parse_bsd_time(line, now, r.time, used) && !parse_rfc3339(line, r.time, used)) {
        return unexpected{parse_error::bad_timestamp};
    }
    sv rest = line.substr(used);
    if (rest.empty() || rest[0] != ' ') return unexpected{parse_error::bad_timestamp};
    rest.remove_prefix(1);
    // host, then "syslog_name[pid]: ".
    const auto host_end = rest.find(' ');
    if (host_end == sv::npos || host_end == 0) return unexpected{parse_error::bad_header};
    r.host = rest.substr(0, host_end);
    rest.remove_prefix(host_end + 1);
    const auto tag_end = rest.find(": ");
    if (tag_end == sv::npos) return unexpected{parse_error::bad_header};
    sv tag = rest.substr(0, tag_end);
    rest.remove_prefix(tag_end + 2);
    if (const auto br = tag.find('['); br != sv::npos) {
        if (tag.back() != ']') return unexpected{parse_error::bad_header};
        tag = tag.substr(0, br);
    }
    if (tag.empty() || tag.size() > max_field_bytes) return unexpected{parse_error::bad_header};
    r.syslog_name = tag;
    if (tag == "relaygate-milter" || tag == "relaygate-policy") return parse_decision(r, tag, rest);
    const auto slash = tag.rfind('/');
    if (slash == sv::npos) return r;  // not a Postfix daemon ("postfix/..."): other
    r.service = tag.substr(0, slash);
    r.program = tag.substr(slash + 1);
    // Queue id: 5..32 alphanumerics then ": ".
    std::size_t q = 0;
    while (q < rest.size() && q <= 32 && queue_id_char(rest[q])) ++q;
    if (q < 5 || q > 32 || rest.substr(q, 2) != ": ") return r;
    r.queue_id = rest.substr(0, q);
    if (r.queue_id == "NOQUEUE") {
        r.queue_id = {};
        return r;
    }
    const sv body = rest.substr(q + 2);
    if (body.starts_with("to=")) return parse_delivery(r, body);
    if (r.program == "qmgr") return parse_qmgr(r, body);
    if (r.program == "cleanup" && body.starts_with("message-id=")) {
        r.message_id = body.substr(11);
        if (r.message_id.size() > max_field_bytes) return unexpected{parse_error::field_too_long};
        r.kind = line_kind::message_id;
    }
    return r;
}

}  // namespace relaygate::watch
