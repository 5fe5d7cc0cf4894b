// decision.cpp: the From-domain gate (see decision.hpp). Findings are
// collected per header and mailbox; the first finding of the worst severity
// becomes the reason, and the mode turns the severity into a verdict.
#include "relaygate/milter/decision.hpp"

#include <algorithm>
#include <cctype>

namespace relaygate::milter {
namespace {

using registry::domain_registry;
using registry::verification_state;

struct finding {
    severity level = severity::none;
    std::string code;
    std::string text;
    std::string domain;
};

struct collector {
    finding worst;
    void note(finding f) {
        if (f.level > worst.level) worst = std::move(f);  // the first of the worst severity wins
    }
};

bool submitter_may_use(const registry::domain_entry& e, const submitter& who, finding& out, std::string_view what) {
    const std::string d = std::string(what) + " domain " + e.domain;
    if (!e.sasl_logins.empty() &&
        std::find(e.sasl_logins.begin(), e.sasl_logins.end(), who.sasl_login) == e.sasl_logins.end()) {
        out = {severity::permanent, "sasl_not_allowed",
               who.sasl_login.empty() ? d + " may not be used without SASL authentication"
                                      : d + " may not be used by SASL login " + who.sasl_login,
               e.domain};
        return false;
    }
    if (!e.client_networks.empty() &&
        std::none_of(e.client_networks.begin(), e.client_networks.end(),
                     [&](const registry::ip_network& n) { return n.contains(who.client_address); })) {
        out = {severity::permanent, "network_not_allowed",
               d + " may not be used from " + (who.client_address.empty() ? "an unknown client" : who.client_address),
               e.domain};
        return false;
    }
    return true;
}

// Checks one mailbox domain; `what` is "From" or "Sender" for the texts.
finding check_domain(const domain_registry& reg, const std::string& domain, const submitter& who, std::string_view what,
                     bool& is_operator) {
    is_operator = false;
    const std::string d = std::string(what) + " domain " + domain;
    if (reg.is_operator_domain(domain)) {
        is_operator = true;
        return {};
    }
    const auto* entry = reg.find(domain);
    if (entry == nullptr) return {severity::permanent, "not_registered", d + " is not registered", domain};
    finding f;
    // Who may use a domain is checked before its state, so one customer learns nothing of another's.
    if (!submitter_may_use(*entry, who, f, what)) return f;
    const auto st = reg.status_of(domain);
    switch (st.state) {
        case verification_state::verified:
            return {};
        case verification_state::pending:
            return {severity::temporary, "pending", d + " is not verified yet: verification pending", domain};
        case verification_state::failed:
            break;
    }
    if (st.temporary_failure) {
        return {severity::temporary, st.reason_code.empty() ? "verification_temporary" : st.reason_code,
                d + " cannot be verified now" + (st.reason_text.empty() ? "" : ": " + st.reason_text), domain};
    }
    return {severity::permanent, st.reason_code.empty() ? "not_verified" : st.reason_code,
            d + " is not verified" + (st.reason_text.empty() ? "" : ": " + st.reason_text), domain};
}

// Parses and checks every mailbox of one header kind; returns the mailboxes' domains.
// seen: the headers of that kind the message had (at least values.size(); more when add() kept only some).
std::vector<std::string> check_header(const domain_registry& reg, const std::vector<std::string>& values,
                                      std::size_t seen, std::string_view what, const submitter& who,
                                      const decision_policy& policy, collector& c, decision& out) {
    const std::string lower = what == "From" ? "from" : "sender";
    std::vector<std::string> domains;
    const std::size_t count = std::max(values.size(), seen);
    if (count > 1) {
        c.note({severity::permanent,
                "multiple_" + lower,
                "Message has " + std::to_string(count) + " " + std::string(what) + " headers; RFC 5322 allows one",
                {}});
        return domains;
    }
    if (values.empty()) return domains;
    auto parsed = parse_address_list(values.front(), policy.limits);
    if (!parsed) {
        c.note({severity::permanent,
                lower + "_unparsable",
                std::string(what) + " header cannot be parsed: " + parsed.error().detail,
                {}});
        return domains;
    }
    if (parsed->empty()) {
        c.note({severity::permanent, lower + "_no_mailbox", std::string(what) + " header has no mailbox", {}});
        return domains;
    }
    for (std::size_t i = 0; i < parsed->size(); ++i) {
        const auto& domain = (*parsed)[i].domain;
        bool is_operator = false;
        finding f = check_domain(reg, domain, who, what, is_operator);
        if (i == 0 && what == "From" && f.level == severity::none) {
            out.signing_domain = domain;  // DKIM aligns with the first author's domain
            out.signing_domain_is_operator = is_operator;
        }
        c.note(std::move(f));
        domains.push_back(domain);
    }
    return domains;
}

}  // namespace

void message_headers::add(std::string_view name, std::string_view value, const from_header_limits& limits) {
    auto same = [](std::string_view a, std::string_view b) {
        return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
                   return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
               });
    };
    const bool is_from = same(name, "From");
    if (!is_from && !same(name, "Sender")) return;
    auto& values = is_from ? from : sender;
    auto& seen = is_from ? from_seen : sender_seen;
    ++seen;
    if (values.size() >= max_kept_values) return;  // counted, not kept
    values.emplace_back(value.substr(0, limits.max_bytes + 1));
}

decision decide(const domain_registry& snapshot, const message_headers& headers, const submitter& who,
                const decision_policy& policy) {
    decision out;
    collector c;
    if (headers.from.empty() && policy.missing_from == missing_from_policy::reject) {
        c.note({severity::permanent, "no_from", "Message has no From header", {}});
    }
    out.from_domains = check_header(snapshot, headers.from, headers.from_seen, "From", who, policy, c, out);
    check_header(snapshot, headers.sender, headers.sender_seen, "Sender", who, policy, c, out);

    out.worst = c.worst.level;
    if (out.worst != severity::none) {
        out.reason_code = std::move(c.worst.code);
        out.reason_text = std::move(c.worst.text);
        out.domain = std::move(c.worst.domain);
    }
    if (policy.mode == enforcement_mode::tag) {
        out.action = out.worst == severity::none ? verdict::accept : verdict::tag;
        out.tag_header = out.worst == severity::none
                             ? "pass"
                             : std::string(out.worst == severity::permanent ? "reject" : "tempfail") +
                                   "; reason=" + out.reason_code + (out.domain.empty() ? "" : "; domain=" + out.domain);
        return out;
    }
    if (out.worst == severity::permanent && policy.mode == enforcement_mode::reject) {
        out.action = verdict::reject;
        out.reply = {"550", "5.7.1", out.reason_text};
    } else if (out.worst != severity::none) {
        out.action = verdict::tempfail;
        out.reply = {"451", "4.7.1", out.reason_text};
    }
    return out;
}

std::string_view to_string(verdict v) {
    switch (v) {
        case verdict::accept:
            return "accept";
        case verdict::reject:
            return "reject";
        case verdict::tempfail:
            return "tempfail";
        case verdict::tag:
            return "tag";
    }
    return "accept";
}

std::string_view to_string(enforcement_mode m) {
    switch (m) {
        case enforcement_mode::reject:
            return "reject";
        case enforcement_mode::tempfail:
            return "tempfail";
        case enforcement_mode::tag:
            return "tag";
    }
    return "reject";
}

std::optional<enforcement_mode> parse_enforcement_mode(std::string_view text) {
    if (text == "reject") return enforcement_mode::reject;
    if (text == "tempfail") return enforcement_mode::tempfail;
    if (text == "tag") return enforcement_mode::tag;
    return std::nullopt;
}

std::string_view to_string(missing_from_policy p) { return p == missing_from_policy::reject ? "reject" : "accept"; }

std::optional<missing_from_policy> parse_missing_from_policy(std::string_view text) {
    if (text == "reject") return missing_from_policy::reject;
    if (text == "accept") return missing_from_policy::accept;
    return std::nullopt;
}

}  // namespace relaygate::milter
