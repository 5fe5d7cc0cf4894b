// decision_line.cpp: parse_decision_body (see decision_line.hpp) and
// unquote_value. Milter: "QID ACTION reason=R [domain=D] from_domains=F ...";
// policy: "QID policy action=A ..." and "- socketmap key=K domain=D reply=R
// reason=X". Limits: 64 fields, values up to max_field_bytes, action and
// reason tokens of [A-Za-z0-9_.:-]{1,64} (they become metric labels).
#include "decision_line.hpp"

#include <array>

namespace relaygate::watch {
namespace {

using sv = std::string_view;

bool alnum(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

bool label_token(sv t) {
    if (t.empty() || t.size() > max_token_bytes) return false;
    for (char c : t) {
        if (!alnum(c) && c != '_' && c != '.' && c != ':' && c != '-') return false;
    }
    return true;
}

// "-" or 5..32 alphanumerics (short or long Postfix queue id).
bool queue_id_token(sv t) {
    if (t == "-") return true;
    if (t.size() < 5 || t.size() > 32) return false;
    for (char c : t) {
        if (!alnum(c)) return false;
    }
    return true;
}

// Space-separated key=value pairs; a value starting with '"' runs to the
// unescaped closing quote. Bare words (no '=') are skipped.
struct kv_reader {
    sv rest;
    std::size_t count = 0;
    enum class step { field, end, bad, too_long };
    step next(sv& key, sv& value) {
        for (;;) {
            while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
            if (rest.empty()) return step::end;
            if (++count > max_decision_fields) return step::bad;
            std::size_t i = 0;
            while (i < rest.size() && rest[i] != '=' && rest[i] != ' ') ++i;
            if (i == rest.size() || rest[i] == ' ') {  // bare word
                rest.remove_prefix(i);
                continue;
            }
            key = rest.substr(0, i);
            std::size_t end = i + 1;
            if (end < rest.size() && rest[end] == '"') {
                ++end;
                while (end < rest.size() && rest[end] != '"') end += rest[end] == '\\' ? 2 : 1;
                if (end >= rest.size()) return step::bad;  // unterminated quote
                ++end;
                if (end < rest.size() && rest[end] != ' ') return step::bad;
            } else {
                while (end < rest.size() && rest[end] != ' ') ++end;
            }
            value = rest.substr(i + 1, end - i - 1);
            rest.remove_prefix(end);
            if (key.empty()) return step::bad;
            if (value.size() > max_field_bytes) return step::too_long;
            return step::field;
        }
    }
};

bool milter_action(sv w) {
    static constexpr std::array<sv, 4> actions = {"accept", "reject", "tempfail", "tag"};
    for (const auto a : actions) {
        if (w == a) return true;
    }
    return false;
}

}  // namespace

namespace detail {

expected<maillog_record, parse_error> parse_decision_body(maillog_record r, sv program, sv body) {
    const auto sp1 = body.find(' ');
    if (sp1 == sv::npos) return r;
    const sv qid = body.substr(0, sp1);
    const auto sp2 = body.find(' ', sp1 + 1);
    const sv word = body.substr(sp1 + 1, sp2 == sv::npos ? sv::npos : sp2 - sp1 - 1);
    line_kind kind = line_kind::other;
    if (program == "relaygate-milter" && milter_action(word)) {
        kind = line_kind::milter_decision;
    } else if (program == "relaygate-policy" && word == "policy") {
        kind = line_kind::policy_decision;
    } else if (program == "relaygate-policy" && word == "socketmap" && qid == "-") {
        kind = line_kind::policy_steering;
    } else {
        return r;  // start, reload, stats... of these programs: not decisions
    }
    if (!queue_id_token(qid)) return unexpected{parse_error::bad_decision};
    r.queue_id = qid == "-" ? sv{} : qid;
    if (kind == line_kind::milter_decision) r.action = word;
    kv_reader fields{sp2 == sv::npos ? sv{} : body.substr(sp2 + 1)};
    sv key, value;
    bool have_reply = false;
    for (;;) {
        const auto st = fields.next(key, value);
        if (st == kv_reader::step::end) break;
        if (st == kv_reader::step::bad) return unexpected{parse_error::bad_decision};
        if (st == kv_reader::step::too_long) return unexpected{parse_error::field_too_long};
        if (kind == line_kind::milter_decision) {
            if (key == "reason") r.reason = value;
            if (key == "from_domains") r.from_domains = value;
        } else if (kind == line_kind::policy_decision) {
            if (key == "action") r.action = value;
        } else {
            if (key == "reason") r.reason = value;
            if (key == "reply") {
                r.reply = value;
                have_reply = true;
            }
        }
    }
    const bool ok = kind == line_kind::milter_decision   ? label_token(r.reason)
                    : kind == line_kind::policy_decision ? label_token(r.action)
                                                         : have_reply && label_token(r.reason);
    if (!ok) return unexpected{parse_error::bad_decision};
    r.kind = kind;
    return r;
}

}  // namespace detail

std::string unquote_value(std::string_view v) {
    if (v.size() < 2 || v.front() != '"' || v.back() != '"') return std::string(v);
    v = v.substr(1, v.size() - 2);
    std::string out;
    out.reserve(v.size());
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] != '\\' || i + 1 == v.size()) {
            out += v[i];
        } else if (v[i + 1] == 'x' && i + 3 < v.size() && hex(v[i + 2]) >= 0 && hex(v[i + 3]) >= 0) {
            out += static_cast<char>(hex(v[i + 2]) * 16 + hex(v[i + 3]));
            i += 3;
        } else {
            out += v[++i];
        }
    }
    return out;
}

}  // namespace relaygate::watch
