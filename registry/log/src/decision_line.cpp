// decision_line.cpp: writer and reader of the decision lines (see
// decision_line.hpp). The writers build the line in one string (the policy's
// is on its hot path); the reader walks key=value pairs without allocating.
#include "relaygate/log/decision_line.hpp"

#include <algorithm>
#include <array>
#include <tuple>

#include "relaygate/log/log.hpp"

namespace relaygate::log {
namespace {

using sv = std::string_view;

constexpr std::array<sv, 4> milter_actions = {"accept", "reject", "tempfail", "tag"};
constexpr std::array<sv, 30> reasons = {"ok",
                                        "internal_error",
                                        "dkim_sign_error",
                                        "sasl_not_allowed",
                                        "network_not_allowed",
                                        "not_registered",
                                        "pending",
                                        "verification_temporary",
                                        "not_verified",
                                        "no_from",
                                        "multiple_from",
                                        "multiple_sender",
                                        "from_unparsable",
                                        "sender_unparsable",
                                        "from_no_mailbox",
                                        "sender_no_mailbox",
                                        "dkim_no_record",
                                        "dkim_key_mismatch",
                                        "dkim_revoked",
                                        "dkim_bad_syntax",
                                        "dkim_key_too_short",
                                        "dkim_temporary",
                                        "dkim_held_key_error",
                                        "spf_fail",
                                        "spf_softfail",
                                        "spf_neutral",
                                        "spf_none",
                                        "spf_permerror",
                                        "spf_temperror",
                                        "other"};
static_assert(reasons.size() == static_cast<std::size_t>(decision_reason::other) + 1);
constexpr std::array<sv, 6> dkim_words = {"", "off", "signed", "unsigned", "pending", "error"};
constexpr std::array<sv, 5> policy_actions = {"dunno", "defer_rate", "defer_size", "fail_open", "filter"};
constexpr std::array<sv, 6> socketmap_words = {"ok", "notfound", "temp", "timeout", "perm", "other"};
// The same statuses as Postfix reads them (socketmap_table(5)); other has no word.
constexpr std::array<sv, 6> socketmap_wire_words = {"OK", "NOTFOUND", "TEMP", "TIMEOUT", "PERM", ""};

template <std::size_t N>
std::optional<std::size_t> index_of(const std::array<sv, N>& words, sv w) {
    auto it = std::find(words.begin(), words.end(), w);
    return it == words.end() ? std::nullopt : std::optional<std::size_t>(it - words.begin());
}

bool alnum(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// An ok value's transport: "msft-out:[127.0.0.1]:25" -> "msft-out"; "other" when not a plain token.
sv transport_of(sv value) {
    sv transport = value.substr(0, value.find(':'));
    const bool token = !transport.empty() && transport.size() <= max_decision_token &&
                       std::all_of(transport.begin(), transport.end(),
                                   [](char c) { return alnum(c) || c == '-' || c == '_' || c == '.'; });
    return token ? transport : sv("other");
}

bool label_token(sv t) {
    return !t.empty() && t.size() <= max_decision_token && std::all_of(t.begin(), t.end(), [](char c) {
        return alnum(c) || c == '_' || c == '.' || c == ':' || c == '-';
    });
}

// "-" or 5..32 alphanumerics (short or long Postfix queue id).
bool queue_id_token(sv t) {
    return t == "-" || (t.size() >= 5 && t.size() <= 32 && std::all_of(t.begin(), t.end(), alnum));
}

void put(std::string& line, sv key, sv value) {
    line += ' ';
    line += key;
    line += '=';
    line += quote(value);
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
            if (value.size() > max_decision_value) return step::too_long;
            return step::field;
        }
    }
};

// The first word of an unquoted-or-quoted reply, without allocating.
sv reply_word(sv logged) {
    if (logged.size() >= 2 && logged.front() == '"') logged = logged.substr(1, logged.size() - 2);
    return logged.substr(0, logged.find(' '));
}

}  // namespace

std::string_view to_string(milter_action a) { return milter_actions[static_cast<std::size_t>(a)]; }
std::string_view to_string(decision_reason r) { return reasons[static_cast<std::size_t>(r)]; }
std::string_view to_string(dkim_status s) { return dkim_words[static_cast<std::size_t>(s)]; }
std::string_view to_string(policy_action a) { return policy_actions[static_cast<std::size_t>(a)]; }
std::string_view to_string(socketmap_status s) { return socketmap_words[static_cast<std::size_t>(s)]; }

std::optional<milter_action> parse_milter_action(std::string_view text) {
    auto i = index_of(milter_actions, text);
    return i ? std::optional(static_cast<milter_action>(*i)) : std::nullopt;
}

decision_reason parse_decision_reason(std::string_view text) {
    auto i = index_of(reasons, text);
    return i ? static_cast<decision_reason>(*i) : decision_reason::other;
}

std::optional<policy_action> parse_policy_action(std::string_view text) {
    auto i = index_of(policy_actions, text);
    return i ? std::optional(static_cast<policy_action>(*i)) : std::nullopt;
}

std::string write_milter_line(const milter_line& m) {
    std::string line = m.queue_id.empty() ? "-" : quote(m.queue_id);
    line += ' ';
    line += to_string(m.action);
    put(line, "reason", to_string(m.reason));
    if (!m.domain.empty()) put(line, "domain", m.domain);
    put(line, "from_domains", m.from_domains);
    put(line, "client", m.client);
    put(line, "sasl", m.sasl);
    put(line, "sender", m.sender);
    line += " rcpts=" + std::to_string(m.rcpts);
    if (!m.reply.empty()) put(line, "reply", m.reply);
    if (!m.tag.empty()) put(line, "tag", m.tag);
    if (m.dkim == dkim_status::error) {
        put(line, "dkim", "error:" + std::string(m.dkim_error));
    } else if (m.dkim != dkim_status::not_shown) {
        put(line, "dkim", to_string(m.dkim));
    }
    if (!m.url.empty()) {
        line += ' ';
        line += m.url;
    }
    return line;
}

std::string write_policy_line(const policy_line& p) {
    std::string line;
    line.reserve(160 + p.sender.size() + p.recipient.size() + p.detail.size());
    line += p.queue_id.empty() ? "-" : p.queue_id;
    line += " policy action=";
    line += to_string(p.action);
    line += " state=";
    line += p.state.empty() ? "-" : p.state;
    put(line, "sender", p.sender);
    put(line, "recipient", p.recipient);
    line += " client=";
    line += p.client.empty() ? "-" : p.client;
    if (!p.sasl.empty()) put(line, "sasl", p.sasl);
    if (!p.detail.empty()) {
        line += ' ';
        line += p.detail;
    }
    if (p.action == policy_action::filter) {
        line += " filter=";
        line += p.filter;
    }
    if (p.failures) line += " failures=" + std::to_string(*p.failures);
    return line;
}

std::pair<socketmap_status, std::string_view> socketmap_reply_parts(std::string_view reply) {
    const sv word = reply.substr(0, reply.find(' '));
    std::string lower;
    for (char c : word.substr(0, 16)) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    auto i = index_of(socketmap_words, lower);
    auto status = i && word.size() <= 16 ? static_cast<socketmap_status>(*i) : socketmap_status::other;
    if (status != socketmap_status::ok || word.size() == reply.size()) return {status, {}};
    return {status, transport_of(reply.substr(word.size() + 1))};
}

std::string write_socketmap_line(const socketmap_line& s) {
    const sv word = socketmap_wire_words[static_cast<std::size_t>(s.status)];
    std::string reply(word);
    if (!word.empty()) reply += ' ';  // "NOTFOUND " keeps its space, as on the wire
    reply += s.value;
    std::string line = "- socketmap";
    put(line, "key", s.key);
    line += " domain=";
    line += s.domain.empty() ? "-" : s.domain;
    put(line, "reply", reply);
    line += " reason=";
    line += s.reason;
    line += " status=";
    line += to_string(s.status);
    if (s.status == socketmap_status::ok) put(line, "transport", transport_of(s.value));
    return line;
}

namespace {

// The fields of one kind of line; false when a required one is missing or bad.
bool read_fields(decision_fields& d, sv rest, decision_read::outcome& error) {
    kv_reader fields{rest};
    sv key, value, action_token;
    bool have_reply = false, have_status = false;
    for (;;) {
        const auto st = fields.next(key, value);
        if (st == kv_reader::step::end) break;
        if (st != kv_reader::step::field) {
            error = st == kv_reader::step::too_long ? decision_read::outcome::field_too_long
                                                    : decision_read::outcome::bad_line;
            return false;
        }
        using k = decision_fields::kind;
        if (d.what == k::milter) {
            if (key == "reason") d.reason_token = value;
            if (key == "from_domains") d.from_domains = value;
            if (key == "dkim") {
                const sv first = reply_word(value);
                const sv word = first.substr(0, first.find(':'));
                auto i = index_of(dkim_words, word);
                d.dkim = i && !word.empty() ? static_cast<dkim_status>(*i) : dkim_status::error;
            }
        } else if (d.what == k::policy) {
            if (key == "action") action_token = value;
        } else {
            if (key == "reason") d.steering_reason = value;
            if (key == "reply") d.reply = value, have_reply = true;
            if (key == "status") {
                auto i = index_of(socketmap_words, value);
                d.status = i ? static_cast<socketmap_status>(*i) : socketmap_status::other;
                have_status = true;
            }
            if (key == "transport") d.transport = label_token(value) ? value : sv("other");
        }
    }
    error = decision_read::outcome::bad_line;
    switch (d.what) {
        case decision_fields::kind::milter:
            d.reason = parse_decision_reason(d.reason_token);
            return label_token(d.reason_token);
        case decision_fields::kind::policy: {
            auto a = parse_policy_action(action_token);
            if (a) d.policy = *a;
            return a.has_value();
        }
        case decision_fields::kind::socketmap:
            if (!have_reply || !label_token(d.steering_reason)) return false;
            if (!have_status) {  // a line of an older writer: the reply says it
                sv inner = d.reply;
                if (inner.size() >= 2 && inner.front() == '"') inner = inner.substr(1, inner.size() - 2);
                std::tie(d.status, d.transport) = socketmap_reply_parts(inner);
            }
            return true;
    }
    return false;
}

}  // namespace

decision_read read_decision_line(std::string_view program, std::string_view body) {
    using outcome = decision_read::outcome;
    const auto sp1 = body.find(' ');
    if (sp1 == sv::npos) return {};
    const sv qid = body.substr(0, sp1);
    const auto sp2 = body.find(' ', sp1 + 1);
    const sv word = body.substr(sp1 + 1, sp2 == sv::npos ? sv::npos : sp2 - sp1 - 1);
    decision_read r;
    decision_fields& d = r.fields;
    if (program == "relaygate-milter" && parse_milter_action(word)) {
        d.what = decision_fields::kind::milter;
        d.action = *parse_milter_action(word);
    } else if (program == "relaygate-policy" && word == "policy") {
        d.what = decision_fields::kind::policy;
    } else if (program == "relaygate-policy" && word == "socketmap" && qid == "-") {
        d.what = decision_fields::kind::socketmap;
    } else {
        return {};  // start, reload, stats... of these programs: not decisions
    }
    if (!queue_id_token(qid)) return {outcome::bad_line, {}};
    d.queue_id = qid == "-" ? sv{} : qid;
    outcome error = outcome::bad_line;
    if (!read_fields(d, sp2 == sv::npos ? sv{} : body.substr(sp2 + 1), error)) return {error, {}};
    r.what = outcome::decision;
    return r;
}

std::string unquote(std::string_view v) {
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

}  // namespace relaygate::log
