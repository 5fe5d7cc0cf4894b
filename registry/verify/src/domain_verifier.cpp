// domain_verifier.cpp: verification of registered domains (see domain_verifier.hpp):
// DKIM (dkim_verifier), SPF for every outbound IP (spf_verifier), DMARC (reported
// only). verify_all runs `parallel` worker threads over the shared async resolver,
// so that many domains' queries are in flight at once although spf_verifier and
// dkim_test_key are synchronous. Also the report's verdict and reason texts.
#include "relaygate/verify/domain_verifier.hpp"

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>

#include "relaygate/log/log.hpp"
#include "relaygate/verify/dkim_verifier.hpp"
#include "relaygate/verify/signing_selector.hpp"
#include "relaygate/verify/spf_include_cache.hpp"
#include "relaygate/verify/spf_verifier.hpp"

namespace relaygate::registry {

std::string_view to_string(dkim_outcome o) {
    switch (o) {
        case dkim_outcome::match:
            return "match";
        case dkim_outcome::no_record:
            return "no_record";
        case dkim_outcome::key_mismatch:
            return "key_mismatch";
        case dkim_outcome::revoked:
            return "revoked";
        case dkim_outcome::bad_syntax:
            return "bad_syntax";
        case dkim_outcome::key_too_short:
            return "key_too_short";
        case dkim_outcome::temporary:
            return "temporary";
        case dkim_outcome::held_key_error:
            return "held_key_error";
    }
    return "temporary";
}

std::string_view to_string(spf_outcome o) {
    switch (o) {
        case spf_outcome::pass:
            return "pass";
        case spf_outcome::fail:
            return "fail";
        case spf_outcome::softfail:
            return "softfail";
        case spf_outcome::neutral:
            return "neutral";
        case spf_outcome::none:
            return "none";
        case spf_outcome::permerror:
            return "permerror";
        case spf_outcome::temperror:
            return "temperror";
    }
    return "temperror";
}

bool domain_report::verified() const {
    return dkim.outcome == dkim_outcome::match &&
           std::all_of(spf.begin(), spf.end(), [](const spf_ip_result& r) { return r.outcome == spf_outcome::pass; });
}

bool domain_report::temporary() const {
    if (verified()) return false;
    bool dkim_ok = dkim.outcome == dkim_outcome::match || dkim.outcome == dkim_outcome::temporary;
    bool spf_ok = std::all_of(spf.begin(), spf.end(), [](const spf_ip_result& r) {
        return r.outcome == spf_outcome::pass || r.outcome == spf_outcome::temperror;
    });
    return dkim_ok && spf_ok;  // nothing failed for good: a retry may verify it
}

namespace {

bool definitive(spf_outcome o) { return o != spf_outcome::pass && o != spf_outcome::temperror; }
bool definitive(dkim_outcome o) { return o != dkim_outcome::match && o != dkim_outcome::temporary; }

// The part a reason names: the first definitive failure (DKIM, then SPF by IP
// order), else the first temporary one. nullptr/false when verified.
struct failing_part {
    bool dkim = false;
    const spf_ip_result* spf = nullptr;
};
failing_part first_failure(const domain_report& r) {
    if (definitive(r.dkim.outcome)) return {.dkim = true};
    for (const auto& s : r.spf) {
        if (definitive(s.outcome)) return {.spf = &s};
    }
    if (r.dkim.outcome == dkim_outcome::temporary) return {.dkim = true};
    for (const auto& s : r.spf) {
        if (s.outcome == spf_outcome::temperror) return {.spf = &s};
    }
    return {};
}

}  // namespace

std::string domain_report::reason_code() const {
    auto f = first_failure(*this);
    if (f.dkim) return "dkim_" + std::string(to_string(dkim.outcome));
    if (f.spf != nullptr) return "spf_" + std::string(to_string(f.spf->outcome));
    return "";
}

std::string domain_report::reason_text() const {
    auto part = first_failure(*this);
    if (part.dkim) return dkim.detail;
    const auto* f = part.spf;
    if (f == nullptr) return "";
    auto others = std::count_if(spf.begin(), spf.end(),
                                [f](const spf_ip_result& r) { return &r != f && r.outcome != spf_outcome::pass; });
    std::string more = others > 0 ? " and " + std::to_string(others) + " more IP(s)" : "";
    std::string outcome(to_string(f->outcome));
    switch (f->outcome) {
        case spf_outcome::none:
            return "no SPF record for " + domain;
        case spf_outcome::permerror:
            return "SPF for " + domain + " is broken (permerror: " + f->detail + ")";
        case spf_outcome::temperror:
            return "SPF for " + domain + " could not be checked for " + f->ip + " (temperror: " + f->detail + ")";
        default:
            return "SPF for " + domain + " does not authorize " + f->ip + " (" + outcome + ")" + more;
    }
}

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// RFC 7489 §6.3/6.6.3: exactly one record starting with v=DMARC1; p= gives the policy.
// (No fallback to the organizational domain: that needs the public suffix list.)
dmarc_result dmarc_from(const dns::answer& a) {
    dmarc_result d;
    if (a.result != dns::status::ok) {
        d.temporary = a.result != dns::status::nxdomain && a.result != dns::status::nodata;
        return d;
    }
    std::vector<std::string> records;
    for (const auto& t : a.txt) {
        auto v = trim(t);
        if (v.starts_with("v=DMARC1") && (v.size() == 8 || v[8] == ';' || v[8] == ' ')) records.push_back(t);
    }
    if (records.size() != 1) return d;  // none, or several: both mean "no DMARC"
    d.present = true;
    d.record = records.front();
    std::string_view rest = d.record;
    while (!rest.empty()) {
        auto semi = rest.find(';');
        auto tag = trim(rest.substr(0, semi));
        rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
        auto eq = tag.find('=');
        if (eq == std::string_view::npos || trim(tag.substr(0, eq)) != "p") continue;
        std::string p(trim(tag.substr(eq + 1)));
        std::transform(p.begin(), p.end(), p.begin(), [](unsigned char c) { return std::tolower(c); });
        if (p == "none" || p == "quarantine" || p == "reject") d.policy = p;
        break;
    }
    return d;
}

}  // namespace

struct domain_verifier::impl {
    dns::resolver& resolver;
    std::vector<std::string> ips;
    dkim_verifier dkim;
    spf_verifier spf;
    impl(dns::resolver& r, std::vector<std::string> outbound, unsigned min_rsa_bits)
        : resolver(r), ips(std::move(outbound)), dkim(r, min_rsa_bits), spf(r) {}
};

domain_verifier::domain_verifier(dns::resolver& resolver, std::vector<std::string> outbound_ips, unsigned min_rsa_bits)
    : impl_(std::make_unique<impl>(resolver, std::move(outbound_ips), min_rsa_bits)) {}
domain_verifier::~domain_verifier() = default;

namespace {

// Checks every selector of a rotating entry and picks the signing one; rep.dkim is its result.
void check_selectors(dkim_verifier& dkim, const domain_entry& entry, std::string_view previous, domain_report& rep) {
    std::vector<selector_check> checks;
    for (std::size_t i = 0; i < selector_count(entry); ++i) {
        domain_entry probe{
            .domain = entry.domain, .selector = selector_name(entry, i), .key_path = selector_key(entry, i)};
        auto result = dkim.check(probe);
        checks.push_back(selector_check_of(to_string(result.outcome)));
        rep.selectors.push_back({probe.selector, std::move(result)});
    }
    const std::size_t before = previous.empty() ? 0 : selector_index(entry, previous);
    const std::size_t signing = choose_signing_selector(checks, before);
    rep.signing_selector = rep.selectors[signing].selector;
    rep.dkim = rep.selectors[signing].dkim;
}

}  // namespace

domain_report domain_verifier::verify(const domain_entry& entry, std::string_view previous) {
    return verify(entry, previous, nullptr);
}

domain_report domain_verifier::verify(const domain_entry& entry, std::string_view previous,
                                      spf_include_cache* includes) {
    domain_report rep;
    rep.domain = entry.domain;
    // DMARC is independent of the rest: let its query run while DKIM and SPF do.
    auto dmarc = std::make_shared<std::promise<dns::answer>>();  // shared: outlives us if we throw
    auto dmarc_answer = dmarc->get_future();
    impl_->resolver.resolve_async("_dmarc." + entry.domain, dns::rr_type::txt,
                                  [dmarc](const dns::answer& a) { dmarc->set_value(a); });
    if (entry.newer_selectors.empty()) {
        rep.dkim = impl_->dkim.check(entry);
        rep.signing_selector = entry.selector;
    } else {
        check_selectors(impl_->dkim, entry, previous, rep);
    }
    rep.spf = impl_->spf.check_all(entry.domain, impl_->ips, includes);
    rep.dmarc = dmarc_from(dmarc_answer.get());
    log::debug("- domain_verify domain=" + log::quote(entry.domain) + " verified=" + (rep.verified() ? "yes" : "no") +
               " reason=" + log::quote(rep.reason_code()));
    return rep;
}

std::vector<domain_report> domain_verifier::verify_all(const std::vector<domain_entry>& entries, unsigned parallel,
                                                       const previous_signing& previous) {
    std::vector<domain_report> reports(entries.size());
    std::atomic<std::size_t> next{0};
    spf_include_cache includes;  // this pass's: a shared include is resolved once
    auto worker = [&] {
        for (std::size_t i; (i = next.fetch_add(1)) < entries.size();) {
            const auto& e = entries[i];
            const std::string prev = previous && !e.newer_selectors.empty() ? previous(e) : std::string();
            reports[i] = verify(e, prev, &includes);
        }
    };
    unsigned n = std::clamp<unsigned>(parallel, 1, static_cast<unsigned>(std::max<std::size_t>(entries.size(), 1)));
    std::vector<std::thread> pool;
    pool.reserve(n - 1);
    for (unsigned t = 1; t < n; ++t) pool.emplace_back(worker);
    worker();  // the calling thread works too
    for (auto& t : pool) t.join();
    log::debug("- verify_pass domains=" + std::to_string(entries.size()) + " include_names=" +
               std::to_string(includes.size()) + " include_lookups=" + std::to_string(includes.resolved()) +
               " include_hits=" + std::to_string(includes.hits()));
    return reports;
}

}  // namespace relaygate::registry
