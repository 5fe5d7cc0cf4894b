// volume_policy.cpp: see volume_policy.hpp.
#include "relaygate/policy/volume_policy.hpp"

#include <array>
#include <charconv>

#include "relaygate/policy/domain_list.hpp"

namespace relaygate::policy {
namespace {

constexpr std::array<std::string_view, 4> dimension_names{"sender_domain", "sasl_username", "client_address", "sender"};
constexpr std::array<std::string_view, 3> metric_names{"messages", "recipients", "bytes"};
constexpr std::array<std::string_view, 3> class_names{"operator", "registered", "other"};

template <class T>
bool parse_uint(std::string_view s, T& out) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

struct request_keys {
    std::string sender_domain;
    std::string sender;  // lower case; filled only when a rule needs it
};

std::string_view value_of(const policy_request& req, dimension d, const request_keys& keys) {
    switch (d) {
        case dimension::sender_domain:
            return keys.sender_domain;
        case dimension::sender:
            return keys.sender;
        case dimension::sasl_username:
            return req.sasl_username;
        case dimension::client_address:
            return req.client_address;
    }
    return {};
}

std::string human_window(std::uint32_t s) {
    if (s % 86400 == 0) return std::to_string(s / 86400) + (s == 86400 ? " day" : " days");
    if (s % 3600 == 0) return std::to_string(s / 3600) + (s == 3600 ? " hour" : " hours");
    if (s % 60 == 0) return std::to_string(s / 60) + " min";
    return std::to_string(s) + " s";
}

std::string_view human_dimension(dimension d) {
    switch (d) {
        case dimension::sender_domain:
            return "Sender domain";
        case dimension::sasl_username:
            return "Login";
        case dimension::client_address:
            return "Client";
        case dimension::sender:
            return "Sender";
    }
    return "Sender";
}

}  // namespace

std::string_view to_string(dimension d) { return dimension_names[static_cast<int>(d)]; }
std::string_view to_string(metric m) { return metric_names[static_cast<int>(m)]; }
std::string_view to_string(sender_class c) { return class_names[static_cast<int>(c)]; }

std::string_view to_string(verdict v) {
    switch (v) {
        case verdict::dunno:
            return "dunno";
        case verdict::defer_rate:
            return "defer_rate";
        case verdict::defer_size:
            return "defer_size";
        case verdict::fail_open:
            return "fail_open";
        case verdict::filter:
            return "filter";
    }
    return "unknown";
}

expected<rate_rule, std::string> parse_rate_rule(std::string_view text) {
    auto bad = [&](std::string_view why) {
        return unexpected("limit '" + std::string(text) + "': " + std::string(why) +
                          " (want DIMENSION:METRIC:MAX/WINDOW, e.g. sender_domain:recipients:1000/1h)");
    };
    std::size_t c1 = text.find(':');
    std::size_t c2 = c1 == std::string_view::npos ? c1 : text.find(':', c1 + 1);
    std::size_t slash = text.rfind('/');
    if (c2 == std::string_view::npos || slash == std::string_view::npos || slash < c2) return bad("bad syntax");
    rate_rule r;
    std::string_view dim = text.substr(0, c1), met = text.substr(c1 + 1, c2 - c1 - 1);
    std::size_t d = 0, m = 0;
    while (d < dimension_names.size() && dimension_names[d] != dim) ++d;
    while (m < metric_names.size() && metric_names[m] != met) ++m;
    if (d == dimension_names.size())
        return bad("unknown dimension (sender_domain, sender, sasl_username, client_address)");
    if (m == metric_names.size()) return bad("unknown metric (messages, recipients, bytes)");
    r.dim = static_cast<dimension>(d);
    r.what = static_cast<metric>(m);
    if (!parse_uint(text.substr(c2 + 1, slash - c2 - 1), r.max)) return bad("bad maximum");
    std::string_view win = text.substr(slash + 1);
    std::uint32_t unit = 1;
    if (!win.empty()) {
        switch (win.back()) {
            case 's':
                unit = 1;
                break;
            case 'm':
                unit = 60;
                break;
            case 'h':
                unit = 3600;
                break;
            case 'd':
                unit = 86400;
                break;
            default:
                unit = 0;
        }
        if (unit != 0) win.remove_suffix(1);
    }
    if (unit == 0) unit = 1;
    std::uint32_t n = 0;
    if (!parse_uint(win, n) || n == 0 || n > 30u * 86400 / unit) return bad("bad window (1s .. 30d)");
    r.window_s = n * unit;
    return r;
}

expected<std::vector<rate_rule>, std::string> parse_rate_rules(const std::vector<std::string>& texts) {
    std::vector<rate_rule> rules;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        auto r = parse_rate_rule(texts[i]);
        if (!r) return unexpected(r.error());
        for (std::size_t j = 0; j < rules.size(); ++j) {
            if (rules[j].dim == r->dim && rules[j].what == r->what && rules[j].window_s == r->window_s)
                return unexpected("limit '" + texts[i] + "': same dimension, metric and window as limit '" + texts[j] +
                                  "' (they would count every request twice); keep one");
        }
        rules.push_back(*r);
    }
    if (rules.size() > 16) return unexpected(std::string("limit: at most 16 limits"));
    return rules;
}

expected<std::pair<std::string, std::uint64_t>, std::string> parse_size_cap(std::string_view text) {
    std::size_t colon = text.find(':');
    std::string_view cls = text.substr(0, colon);
    std::uint64_t bytes = 0;
    bool known = cls == "default";
    for (auto n : class_names) known = known || n == cls;
    if (colon == std::string_view::npos || !known || !parse_uint(text.substr(colon + 1), bytes))
        return unexpected("size-cap '" + std::string(text) +
                          "': want CLASS:BYTES with CLASS one of default, operator, registered, other");
    return std::pair{std::string(cls), bytes};
}

std::string address_domain(std::string_view address) {
    std::size_t at = address.rfind('@');
    if (at == std::string_view::npos) return {};
    return normalize_domain(address.substr(at + 1));
}

sender_class classify_sender(std::string_view sender_domain, const registry::domain_registry* reg) {
    if (reg == nullptr || sender_domain.empty()) return sender_class::other;
    if (reg->is_operator_domain(sender_domain)) return sender_class::operator_domain;
    if (reg->find(sender_domain) != nullptr) return sender_class::registered;
    return sender_class::other;
}

policy_decision decide_volume(const policy_request& req, const volume_config& cfg, counter_store& counters,
                              const registry::domain_registry* reg, std::int64_t now_ms) {
    policy_decision d;
    bool rcpt = req.protocol_state == "RCPT";
    bool eom = req.protocol_state == "END-OF-MESSAGE";
    if (!rcpt && !eom) return d;  // other stages: nothing to count
    request_keys keys;
    keys.sender_domain = address_domain(req.sender);
    for (const auto& rule : cfg.rules) {
        if (rule.dim == dimension::sender && keys.sender.empty() && req.sender.find('@') != std::string_view::npos) {
            keys.sender.assign(req.sender);
            for (char& ch : keys.sender)
                if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
        }
    }
    const std::string& sender_domain = keys.sender_domain;
    // Size cap: the declared SIZE at RCPT, the real size at END-OF-MESSAGE.
    if (req.size > 0 && !cfg.size_caps.empty()) {
        sender_class cls = classify_sender(sender_domain, reg);
        auto it = cfg.size_caps.find(std::string(to_string(cls)));
        if (it == cfg.size_caps.end()) it = cfg.size_caps.find("default");
        if (it != cfg.size_caps.end() && it->second > 0 && req.size > it->second) {
            d.what = verdict::defer_size;
            d.text = "Message size " + std::to_string(req.size) + " exceeds the limit of " +
                     std::to_string(it->second) + " bytes for " + std::string(to_string(cls)) + " senders";
            d.detail = "class=" + std::string(to_string(cls)) + " size=" + std::to_string(req.size) +
                       " cap=" + std::to_string(it->second);
            return d;
        }
    }
    // Reused between calls (one loop thread): the keys keep their capacity, no allocation per request.
    static thread_local std::array<counter_op, 16> ops;
    std::array<const rate_rule*, 16> rule_of{};
    std::size_t n = 0;
    for (const auto& rule : cfg.rules) {
        std::string_view value = value_of(req, rule.dim, keys);
        if (value.empty() || n == ops.size()) continue;  // no login / null sender: that dimension does not apply
        counter_op& op = ops[n];
        op.key.assign(to_string(rule.dim));
        op.key += ':';
        op.key += value;
        op.what = rule.what;
        op.window_s = rule.window_s;
        op.limit = rule.max;
        op.enforce = rcpt;
        op.check = rule.what == metric::recipients ? 1 : rule.what == metric::bytes ? req.size : 0;
        if (rcpt) {
            // messages: over once the count reached the limit (check 0, so test est >= max).
            if (rule.what == metric::messages) op.check = 1;
            op.add = rule.what == metric::recipients ? 1 : 0;
        } else {
            op.add = rule.what == metric::messages ? 1 : rule.what == metric::bytes ? req.size : 0;
        }
        rule_of[n++] = &rule;
    }
    if (n == 0) return d;
    counter_result r = counters.apply(std::span(ops.data(), n), now_ms);
    if (r.failed) {
        d.what = verdict::fail_open;
        d.detail = "reason=counter_store_unavailable";
        return d;
    }
    if (r.over < 0) return d;
    const rate_rule& rule = *rule_of[static_cast<std::size_t>(r.over)];
    std::string_view value = value_of(req, rule.dim, keys);
    d.what = verdict::defer_rate;
    d.text = std::string(human_dimension(rule.dim)) + " " + std::string(value) + " is over its limit of " +
             std::to_string(rule.max) + " " + std::string(to_string(rule.what)) + " per " +
             human_window(rule.window_s) + "; try again later";
    d.detail = "limit=" + std::string(to_string(rule.dim)) + ":" + std::string(to_string(rule.what)) + ":" +
               std::to_string(rule.max) + "/" + std::to_string(rule.window_s) + " key=" + std::string(value) +
               " current=" + std::to_string(r.estimate);
    return d;
}

std::string format_action(const policy_decision& d) {
    // The text carries request values (login, client): no control byte may
    // reach the wire, or the reply would split or confuse Postfix.
    std::string text = d.text;
    for (char& c : text)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    switch (d.what) {
        case verdict::defer_rate:
        case verdict::defer_size:
            return "action=DEFER_IF_PERMIT 4.7.1 " + text + "\n\n";
        case verdict::filter:
            return "action=FILTER " + text + "\n\n";
        case verdict::dunno:
        case verdict::fail_open:
            break;
    }
    return "action=DUNNO\n\n";
}

}  // namespace relaygate::policy
