// spf_verifier.cpp: check_host() of RFC 7208, evaluated here over dns::resolver
// with the record parser and macro expander of spf_record.cpp. relaygate used to
// run libspf2 1.2.10 and correct it around the edges, but measured against the
// RFC 7208 test suite (tests/registry/verify/spf_rfc7208_suite_itest.cpp) libspf2 passed
// records receivers call permerror, failed valid ones (/0 prefixes, dotted
// modifier names) and gave temperror where the answer is definitive (null MX,
// failed exp= lookups); those sit in its parser and evaluator, so the terms are
// evaluated here. Limits (§4.6.4): 10 DNS-querying terms across include/redirect,
// 2 void lookups, 10 MX names, 10 PTR names. Any DNS failure (SERVFAIL/timeout)
// of a term gives temperror; exp= is checked for syntax but never fetched (the
// explanation does not change the result, §6.2). Within one check_all every answer
// is kept for the next IP (a domain costs one TXT lookup however many IPs); names
// reached through include:/redirect= go through the pass's spf_include_cache when
// one is given, so an include shared by many domains is resolved once per pass.
#include "relaygate/verify/spf_verifier.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <variant>

#include "relaygate/verify/spf_include_cache.hpp"
#include "relaygate/verify/spf_record.hpp"

namespace relaygate::registry {
namespace {

using answer_memo = std::map<std::pair<std::string, int>, dns::answer>;

constexpr int max_dns_terms = 10;
constexpr int max_void_lookups = 2;
constexpr std::size_t max_mx_names = 10;
constexpr std::size_t max_ptr_names = 10;
constexpr int max_depth = 12;  // include/redirect nesting; the term limit ends loops first

struct verdict {
    spf_outcome outcome;
    std::string detail;
};

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

// Does address (text) fall into network/prefix (bytes)?
bool in_network(const std::vector<std::uint8_t>& ip, const std::uint8_t* network, int prefix) {
    for (int bit = 0; bit < prefix; ++bit) {
        int mask = 0x80 >> (bit % 8);
        if ((ip[bit / 8] & mask) != (network[bit / 8] & mask)) return false;
    }
    return true;
}

std::vector<std::uint8_t> to_bytes(const std::string& text, bool v6) {
    std::vector<std::uint8_t> out(v6 ? 16 : 4);
    if (inet_pton(v6 ? AF_INET6 : AF_INET, text.c_str(), out.data()) != 1) return {};
    return out;
}

// One check_host() run for one IP: the limits' counters and the DNS lookups.
class evaluation {
public:
    evaluation(dns::resolver& resolver, answer_memo& memo, spf_include_cache* shared, std::vector<std::uint8_t> ip,
               const std::string& sender_domain)
        : resolver_(resolver), memo_(memo), shared_(shared), ip_(std::move(ip)) {
        macros_.local_part = "postmaster";
        macros_.sender_domain = sender_domain;
        macros_.helo = "unknown";  // relaygate checks MAIL FROM only; it has no HELO name
        macros_.ip = ip_;
    }

    verdict check_host(const std::string& domain, int depth);

private:
    enum class match { yes, no };
    using term_outcome = std::variant<match, verdict>;  // a verdict ends the evaluation

    bool v6() const { return ip_.size() == 16; }
    dns::answer lookup(const std::string& name, dns::rr_type type);
    std::optional<verdict> count_term();
    std::optional<verdict> count_void();
    expected<std::string, std::string> target(const std::string& spec, const std::string& domain);
    std::vector<std::string> validated_names();
    term_outcome evaluate(const spf::mechanism& m, const std::string& domain, int depth);
    term_outcome addresses_match(const std::string& name, int cidr4, int cidr6, bool is_term);
    term_outcome mx_match(const std::string& name, int cidr4, int cidr6);
    term_outcome include_match(const std::string& name, int depth);

    dns::resolver& resolver_;
    answer_memo& memo_;
    spf_include_cache* shared_;  // nullptr: no pass cache
    std::vector<std::uint8_t> ip_;
    spf::macro_context macros_;
    int terms_ = 0;
    int voids_ = 0;
    int depth_ = 0;  // of the record being evaluated: > 0 inside an include/redirect
};

dns::answer evaluation::lookup(const std::string& name, dns::rr_type type) {
    if (!spf::is_valid_domain(name)) {
        // An expanded name DNS cannot carry (empty or > 63 byte label): nothing there.
        return dns::answer{.result = dns::status::nxdomain, .qname = name};
    }
    auto key = std::make_pair(name, static_cast<int>(type));
    if (auto hit = memo_.find(key); hit != memo_.end()) return hit->second;
    // Inside an include/redirect the names are usually a provider's, shared by many domains.
    auto a = shared_ != nullptr && depth_ > 0 ? shared_->resolve(resolver_, name, type) : resolver_.resolve(name, type);
    memo_.emplace(key, a);
    return a;
}

bool dns_failed(const dns::answer& a) {
    return a.result != dns::status::ok && a.result != dns::status::nxdomain && a.result != dns::status::nodata;
}

verdict dns_failure(const dns::answer& a) {
    std::string text = "DNS failure: " + a.qname + " " + std::string(dns::to_string(a.result));
    if (!a.error_text.empty()) text += " (" + a.error_text + ")";
    return {spf_outcome::temperror, text};
}

std::optional<verdict> evaluation::count_term() {
    if (++terms_ <= max_dns_terms) return std::nullopt;
    return verdict{spf_outcome::permerror,
                   "more than " + std::to_string(max_dns_terms) + " DNS-querying terms (RFC 7208 4.6.4)"};
}

std::optional<verdict> evaluation::count_void() {
    if (++voids_ <= max_void_lookups) return std::nullopt;
    return verdict{spf_outcome::permerror, std::to_string(voids_) + " void DNS lookups (more than " +
                                               std::to_string(max_void_lookups) + ", RFC 7208 4.6.4)"};
}

// The names PTR gives for the IP whose A/AAAA lead back to it (§5.5), at most 10 asked.
std::vector<std::string> evaluation::validated_names() {
    std::string reverse = spf::expand_domain("%{ir}.%{v}.arpa", macros_).value();
    auto ptr = lookup(reverse, dns::rr_type::ptr);
    std::vector<std::string> out;
    if (ptr.result != dns::status::ok) return out;  // a DNS error: the mechanism does not match
    for (std::size_t k = 0; k < ptr.names.size() && k < max_ptr_names; ++k) {
        auto a = lookup(ptr.names[k], v6() ? dns::rr_type::aaaa : dns::rr_type::a);
        for (const auto& addr : a.addresses) {
            if (to_bytes(addr, v6()) == ip_) {
                out.push_back(lower(ptr.names[k]));
                break;
            }
        }
    }
    return out;
}

expected<std::string, std::string> evaluation::target(const std::string& spec, const std::string& domain) {
    if (spec.empty()) return domain;
    macros_.domain = domain;
    if (spf::uses_ptr_macro(spec)) {
        auto names = validated_names();
        std::string d = lower(domain);
        auto best = std::find_if(names.begin(), names.end(), [&](const std::string& n) {
            return n == d || n.ends_with("." + d);  // §7.3: prefer the domain or a subdomain of it
        });
        macros_.validated_ptr = best != names.end() ? *best : names.empty() ? "unknown" : names.front();
    }
    return spf::expand_domain(spec, macros_);
}

evaluation::term_outcome evaluation::addresses_match(const std::string& name, int cidr4, int cidr6, bool is_term) {
    auto a = lookup(name, v6() ? dns::rr_type::aaaa : dns::rr_type::a);
    if (dns_failed(a)) return dns_failure(a);
    if (a.result != dns::status::ok || a.addresses.empty()) {
        if (is_term) {
            if (auto v = count_void()) return *v;
        }
        return match::no;
    }
    for (const auto& addr : a.addresses) {
        auto bytes = to_bytes(addr, v6());
        if (!bytes.empty() && in_network(ip_, bytes.data(), v6() ? cidr6 : cidr4)) return match::yes;
    }
    return match::no;
}

evaluation::term_outcome evaluation::mx_match(const std::string& name, int cidr4, int cidr6) {
    auto mx = lookup(name, dns::rr_type::mx);
    if (dns_failed(mx)) return dns_failure(mx);
    std::vector<std::string> hosts;
    for (const auto& m : mx.mx) {
        if (!m.exchange.empty() && m.exchange != ".") hosts.push_back(m.exchange);  // "0 ." is null MX (RFC 7505)
    }
    if (hosts.empty()) {
        if (auto v = count_void()) return *v;
        return match::no;
    }
    if (hosts.size() > max_mx_names) {
        return verdict{spf_outcome::permerror, name + " has more than 10 MX names (RFC 7208 4.6.4)"};
    }
    for (const auto& h : hosts) {
        auto r = addresses_match(h, cidr4, cidr6, false);
        if (!std::holds_alternative<match>(r) || std::get<match>(r) == match::yes) return r;
    }
    return match::no;
}

evaluation::term_outcome evaluation::include_match(const std::string& name, int depth) {
    auto v = check_host(name, depth + 1);
    switch (v.outcome) {
        case spf_outcome::pass:
            return match::yes;
        case spf_outcome::fail:
        case spf_outcome::softfail:
        case spf_outcome::neutral:
            return match::no;
        case spf_outcome::temperror:
            return v;
        case spf_outcome::none:
            return verdict{spf_outcome::permerror, "include:" + name + " has no SPF record"};
        case spf_outcome::permerror:
            break;
    }
    return v;
}

evaluation::term_outcome evaluation::evaluate(const spf::mechanism& m, const std::string& domain, int depth) {
    using kind = spf::mechanism_kind;
    if (m.kind == kind::all) return match::yes;
    if (m.kind == kind::ip4 || m.kind == kind::ip6) {
        bool family = (m.kind == kind::ip6) == v6();
        return family && in_network(ip_, m.network.data(), v6() ? m.cidr6 : m.cidr4) ? match::yes : match::no;
    }
    if (auto v = count_term()) return *v;
    auto name = target(m.domain_spec, domain);
    if (!name) return verdict{spf_outcome::permerror, name.error()};
    switch (m.kind) {
        case kind::a:
            return addresses_match(*name, m.cidr4, m.cidr6, true);
        case kind::mx:
            return mx_match(*name, m.cidr4, m.cidr6);
        case kind::include:
            return include_match(*name, depth);
        case kind::exists: {
            auto a = lookup(*name, dns::rr_type::a);  // always A, whatever the client's family (§5.7)
            if (dns_failed(a)) return dns_failure(a);
            if (a.result == dns::status::ok && !a.addresses.empty()) return match::yes;
            if (auto v = count_void()) return *v;
            return match::no;
        }
        default: {  // ptr
            std::string want = lower(*name);
            for (const auto& n : validated_names()) {
                if (n == want || n.ends_with("." + want)) return match::yes;
            }
            return match::no;
        }
    }
}

spf_outcome qualifier_outcome(spf::qualifier q) {
    switch (q) {
        case spf::qualifier::fail:
            return spf_outcome::fail;
        case spf::qualifier::softfail:
            return spf_outcome::softfail;
        case spf::qualifier::neutral:
            return spf_outcome::neutral;
        case spf::qualifier::pass:
            break;
    }
    return spf_outcome::pass;
}

std::string ip_text(const std::vector<std::uint8_t>& ip) {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(ip.size() == 16 ? AF_INET6 : AF_INET, ip.data(), buf, sizeof buf);
    return buf;
}

verdict evaluation::check_host(const std::string& domain, int depth) {
    if (depth > max_depth) return {spf_outcome::permerror, "include/redirect nested too deep"};
    struct depth_scope {  // the lookups below belong to this record's depth
        int& current;
        int saved;
        ~depth_scope() { current = saved; }
    } scope{depth_, depth_};
    depth_ = depth;
    if (!spf::is_valid_domain(domain)) return {spf_outcome::none, "'" + domain + "' is not a valid domain name"};
    auto txt = lookup(domain, dns::rr_type::txt);
    if (dns_failed(txt)) return dns_failure(txt);
    std::vector<const std::string*> records;
    for (const auto& t : txt.txt) {
        if (spf::is_spf_record(t)) records.push_back(&t);
    }
    if (records.empty()) return {spf_outcome::none, domain + " publishes no SPF record"};
    if (records.size() > 1) return {spf_outcome::permerror, domain + " publishes more than one SPF record"};
    auto record = spf::parse_record(*records.front());
    if (!record) return {spf_outcome::permerror, "SPF record of " + domain + ": " + record.error()};
    for (const auto& m : record->mechanisms) {
        auto r = evaluate(m, domain, depth);
        if (auto* v = std::get_if<verdict>(&r)) return *v;
        if (std::get<match>(r) == match::yes) {
            auto o = qualifier_outcome(m.q);
            return {o, "domain of " + domain + (o == spf_outcome::pass ? " designates " : " does not designate ") +
                           ip_text(ip_) + " as permitted sender"};
        }
    }
    if (record->redirect) {
        if (auto v = count_term()) return *v;
        auto name = target(*record->redirect, domain);
        if (!name) return {spf_outcome::permerror, name.error()};
        auto v = check_host(*name, depth + 1);
        if (v.outcome == spf_outcome::none) return {spf_outcome::permerror, "redirect=" + *name + " has no SPF record"};
        return v;
    }
    return {spf_outcome::neutral, ip_text(ip_) + " is neither permitted nor denied by domain of " + domain};
}

}  // namespace

struct spf_verifier::impl {
    dns::resolver& resolver;
};

spf_verifier::spf_verifier(dns::resolver& resolver) : impl_(std::make_unique<impl>(impl{resolver})) {}
spf_verifier::~spf_verifier() = default;

spf_ip_result spf_verifier::check(std::string_view domain, std::string_view ip) {
    answer_memo memo;
    return check_one(domain, ip, memo, nullptr);
}

std::vector<spf_ip_result> spf_verifier::check_all(std::string_view domain, const std::vector<std::string>& ips,
                                                   spf_include_cache* shared) {
    answer_memo memo;  // one domain's answers, for every IP
    std::vector<spf_ip_result> out;
    out.reserve(ips.size());
    for (const auto& ip : ips) out.push_back(check_one(domain, ip, memo, shared));
    return out;
}

spf_ip_result spf_verifier::check_one(std::string_view domain, std::string_view ip, answer_memo& memo,
                                      spf_include_cache* shared) {
    spf_ip_result r{.ip = std::string(ip)};
    bool v6 = ip.find(':') != std::string_view::npos;
    auto bytes = to_bytes(r.ip, v6);
    // An IPv4-mapped IPv6 address is its IPv4 address (RFC 7208 §5: ::ffff:1.2.3.4 is 1.2.3.4).
    static constexpr std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (v6 && !bytes.empty() && std::memcmp(bytes.data(), mapped, sizeof mapped) == 0) {
        bytes.erase(bytes.begin(), bytes.begin() + 12);
    }
    std::string d = lower(std::string(domain));
    if (d.ends_with('.')) d.pop_back();
    if (bytes.empty()) {
        r.outcome = spf_outcome::permerror;
        r.detail = "cannot check " + r.ip + " for " + d + " (bad IP)";
        return r;
    }
    evaluation e(impl_->resolver, memo, shared, std::move(bytes), d);
    auto v = e.check_host(d, 0);
    r.outcome = v.outcome;
    r.detail = std::move(v.detail);
    return r;
}

std::string spf_mechanisms_for(const std::vector<std::string>& ips) {
    std::string out;
    for (const auto& ip : ips) {
        if (!out.empty()) out += ' ';
        out += (ip.find(':') != std::string::npos ? "ip6:" : "ip4:") + ip;
    }
    return out;
}

}  // namespace relaygate::registry
