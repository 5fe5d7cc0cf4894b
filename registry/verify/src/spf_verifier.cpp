// spf_verifier.cpp: libspf2 on a custom DNS layer backed by dns::resolver
// (postfix-tech.md §4 recipe). The layer also keeps per-check counts, in a
// thread-local context because libspf2's lookup hook does not get the request:
//   - DNS-querying terms (RFC 7208 §4.6.4): libspf2 1.2.10 limits them to 10 per
//     record only, not across include/redirect, so the layer counts the lookups
//     that are terms (TXT of include/redirect targets, A/AAAA of a/exists, MX, PTR;
//     not the domain's own TXT, not the A/AAAA of MX/PTR answer names);
//   - void lookups (RFC 7208 §4.6.4), not enforced by libspf2 at all: more than 2
//     NXDOMAIN/NODATA answers to term lookups give permerror here;
//   - DNS failures (SERVFAIL/timeout): libspf2 reports SPF_RESULT_INVALID +
//     SPF_E_DNS_ERROR or carries on; any DNS failure in a check gives temperror.
// Loopback IPs: SPF_request_query_mailfrom passes 127/8 and ::1 without looking
// at the record ("localhost gets a free ride"); test and demo outbound IPs are
// loopback, so for them query_without_free_ride takes the same steps minus that.
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>

extern "C" {
#include <spf2/spf.h>
#include <spf2/spf_dns.h>
#include <spf2/spf_dns_rr.h>
}

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <stdexcept>

#include "relaygate/verify/spf_verifier.hpp"

namespace relaygate::registry {
namespace {

constexpr int max_void_lookups = 2;
constexpr int max_dns_terms = 10;
// libspf2 prefixes its texts with the receiving domain (else the host name).
const std::string receiving_domain = "relaygate";

// DNS failures seen while checking one domain for several IPs: libunbound does
// not cache SERVFAIL/timeouts, and without this a dead name costs every IP a full
// timeout (8 IPs x 5 s). Successful answers are left to libunbound's cache.
using failure_memo = std::map<std::pair<std::string, int>, dns::answer>;

struct check_context {
    failure_memo* failures = nullptr;
    std::string domain;                     // whose own TXT lookup is not a term
    std::vector<std::string> answer_names;  // MX/PTR answer names whose A/AAAA lookups come next
    int terms = 0;
    int void_lookups = 0;
    int dns_failures = 0;
    std::string dns_failure_text;
};
thread_local check_context* t_context = nullptr;

std::optional<dns::rr_type> to_rr_type(ns_type t) {
    switch (t) {
        case ns_t_a:
            return dns::rr_type::a;
        case ns_t_aaaa:
            return dns::rr_type::aaaa;
        case ns_t_mx:
            return dns::rr_type::mx;
        case ns_t_txt:
            return dns::rr_type::txt;
        case ns_t_ptr:
            return dns::rr_type::ptr;
        default:
            return std::nullopt;  // e.g. type 99 (SPF RR, obsolete): answered NODATA without a query
    }
}

// Copies one answer's records into the libspf2 rr; false on allocation failure.
bool fill_records(SPF_dns_rr_t* rr, ns_type type, const dns::answer& a) {
    int i = 0;
    auto put_text = [&](const std::string& s) {
        if (SPF_dns_rr_buf_realloc(rr, i, s.size() + 1) != SPF_E_SUCCESS) return false;
        std::memcpy(rr->rr[i]->txt, s.c_str(), s.size() + 1);  // txt/mx/ptr share the storage
        ++i;
        return true;
    };
    switch (type) {
        case ns_t_a:
        case ns_t_aaaa:
            for (const auto& addr : a.addresses) {
                if (SPF_dns_rr_buf_realloc(rr, i, sizeof(SPF_dns_rr_data_t)) != SPF_E_SUCCESS) return false;
                int af = type == ns_t_a ? AF_INET : AF_INET6;
                void* dst = type == ns_t_a ? static_cast<void*>(&rr->rr[i]->a) : static_cast<void*>(&rr->rr[i]->aaaa);
                if (inet_pton(af, addr.c_str(), dst) != 1) continue;
                ++i;
            }
            break;
        case ns_t_txt:
            for (const auto& t : a.txt) {
                if (!put_text(t)) return false;
            }
            break;
        case ns_t_mx:
            for (const auto& m : a.mx) {
                if (!put_text(m.exchange)) return false;
            }
            break;
        default:
            for (const auto& n : a.names) {
                if (!put_text(n)) return false;
            }
            break;
    }
    rr->num_rr = i;
    return true;
}

SPF_dns_rr_t* layer_lookup(SPF_dns_server_t* layer, const char* domain, ns_type type, int) {
    auto* resolver = static_cast<dns::resolver*>(layer->hook);
    auto kind = to_rr_type(type);
    if (!kind) return SPF_dns_rr_new_init(layer, domain, type, 0, NO_DATA);
    dns::answer a;
    auto* memo = t_context != nullptr ? t_context->failures : nullptr;
    auto key = std::make_pair(std::string(domain), static_cast<int>(type));
    auto hit = memo != nullptr ? memo->find(key) : failure_memo::iterator{};
    if (memo != nullptr && hit != memo->end()) {
        a = hit->second;
    } else {
        a = resolver->resolve(domain, *kind);
        bool failed =
            a.result != dns::status::ok && a.result != dns::status::nxdomain && a.result != dns::status::nodata;
        if (memo != nullptr && failed) memo->emplace(key, a);
    }
    SPF_dns_stat_t herrno = NETDB_SUCCESS;
    switch (a.result) {
        case dns::status::ok:
            break;
        case dns::status::nxdomain:
            herrno = HOST_NOT_FOUND;
            break;
        case dns::status::nodata:
            herrno = NO_DATA;
            break;
        default:
            herrno = TRY_AGAIN;
            break;
    }
    if (auto* ctx = t_context) {
        bool term = !(type == ns_t_txt && a.qname == ctx->domain && ctx->terms == 0);
        if (type == ns_t_a || type == ns_t_aaaa) {
            auto it = std::find(ctx->answer_names.begin(), ctx->answer_names.end(), a.qname);
            if (it != ctx->answer_names.end()) {
                term = false;  // an MX/PTR answer's address lookup is part of that term
                ctx->answer_names.erase(it);
            }
        }
        if (term) {
            ++ctx->terms;
            ctx->answer_names.clear();
            if (type == ns_t_mx) {
                for (const auto& m : a.mx) ctx->answer_names.push_back(m.exchange);
            } else if (type == ns_t_ptr) {
                ctx->answer_names = a.names;
            }
        }
        if ((herrno == HOST_NOT_FOUND || herrno == NO_DATA) && term) ++ctx->void_lookups;
        if (herrno == TRY_AGAIN) {
            if (ctx->dns_failures++ == 0) {
                ctx->dns_failure_text = a.qname + " " + std::string(dns::to_string(a.result));
                if (!a.error_text.empty()) ctx->dns_failure_text += " (" + a.error_text + ")";
            }
        }
    }
    SPF_dns_rr_t* rr = SPF_dns_rr_new_init(layer, domain, type, static_cast<int>(a.ttl), herrno);
    if (rr != nullptr && herrno == NETDB_SUCCESS && !fill_records(rr, type, a)) {
        SPF_dns_rr_free(rr);
        return SPF_dns_rr_new_init(layer, domain, type, 0, TRY_AGAIN);
    }
    return rr;
}

// SPF_request_query_mailfrom without its loopback shortcut: the same calls as
// libspf2 1.2.10 spf_request.c (prepare, get_record, query_record), all public API.
SPF_errcode_t query_without_free_ride(SPF_server_t* server, SPF_request_t* req, SPF_response_t** respp) {
    *respp = SPF_response_new(req);
    if (*respp == nullptr) return SPF_E_NO_MEMORY;
    SPF_response_t* resp = *respp;
    req->cur_dom = req->use_helo ? req->helo_dom : req->env_from_dp;
    SPF_record_t* record = nullptr;
    SPF_errcode_t err = SPF_server_get_record(server, req, resp, &record);
    if (err != SPF_E_SUCCESS) {
        if (record != nullptr) SPF_record_free(record);
        SPF_i_done(resp, resp->result, resp->reason, resp->err);
        return err;
    }
    resp->spf_record_exp = record;
    err = SPF_record_interpret(record, req, resp, 0);
    SPF_record_free(record);
    resp->spf_record_exp = nullptr;
    return err;
}

spf_outcome map_result(SPF_result_t r, SPF_errcode_t err) {
    switch (r) {
        case SPF_RESULT_PASS:
            return spf_outcome::pass;
        case SPF_RESULT_FAIL:
            return spf_outcome::fail;
        case SPF_RESULT_SOFTFAIL:
            return spf_outcome::softfail;
        case SPF_RESULT_NEUTRAL:
            return spf_outcome::neutral;
        case SPF_RESULT_NONE:
            return spf_outcome::none;
        case SPF_RESULT_TEMPERROR:
            return spf_outcome::temperror;
        case SPF_RESULT_PERMERROR:
            return spf_outcome::permerror;
        case SPF_RESULT_INVALID:
        default:
            // libspf2's way of saying "temporary DNS failure" (spf_server.c).
            return err == SPF_E_DNS_ERROR ? spf_outcome::temperror : spf_outcome::permerror;
    }
}

std::string response_text(SPF_response_t* resp, SPF_errcode_t err) {
    std::string text;
    if (const char* c = SPF_response_get_header_comment(resp)) text = c;
    if (text.starts_with(receiving_domain) && text.compare(receiving_domain.size(), 2, ": ") == 0) {
        text.erase(0, receiving_domain.size() + 2);  // "relaygate: domain of ... designates" -> "domain of ..."
    }
    if (err != SPF_E_SUCCESS) {
        if (!text.empty()) text += "; ";
        text += SPF_strerror(err);
    }
    for (int i = 0; i < SPF_response_messages(resp); ++i) {
        SPF_error_t* e = SPF_response_message(resp, i);
        if (e == nullptr || !SPF_error_errorp(e) || SPF_error_message(e) == nullptr) continue;
        if (text.find(SPF_error_message(e)) != std::string::npos) continue;
        text += "; " + std::string(SPF_error_message(e));
    }
    return text;
}

}  // namespace

struct spf_verifier::impl {
    SPF_server_t* server = nullptr;
    // Ours to free: no destroy hook, because Debian's libspf2 1.2.10 SPF_server_free
    // never calls it (seen under LeakSanitizer) while newer versions do.
    SPF_dns_server_t* layer = nullptr;
    explicit impl(dns::resolver& resolver) {
        layer = static_cast<SPF_dns_server_t*>(std::calloc(1, sizeof(SPF_dns_server_t)));
        if (layer == nullptr) throw std::bad_alloc();
        layer->lookup = layer_lookup;
        layer->name = "relaygate";
        layer->hook = &resolver;
        server = SPF_server_new_dns(layer, 0);
        if (server == nullptr) {
            std::free(layer);
            throw std::runtime_error("spf: SPF_server_new_dns failed");
        }
        SPF_server_set_rec_dom(server, receiving_domain.c_str());
    }
    ~impl() {
        SPF_server_free(server);
        std::free(layer);
    }
};

spf_verifier::spf_verifier(dns::resolver& resolver) : impl_(std::make_unique<impl>(resolver)) {}
spf_verifier::~spf_verifier() = default;

spf_ip_result spf_verifier::check(std::string_view domain, std::string_view ip) {
    failure_memo failures;
    return check_one(domain, ip, failures);
}

std::vector<spf_ip_result> spf_verifier::check_all(std::string_view domain, const std::vector<std::string>& ips) {
    failure_memo failures;
    std::vector<spf_ip_result> out;
    out.reserve(ips.size());
    for (const auto& ip : ips) out.push_back(check_one(domain, ip, failures));
    return out;
}

spf_ip_result spf_verifier::check_one(std::string_view domain, std::string_view ip, failure_memo& failures) {
    spf_ip_result r;
    r.ip = std::string(ip);
    check_context ctx{.failures = &failures, .domain = std::string(domain)};
    struct scope {
        check_context* previous = t_context;
        explicit scope(check_context* c) { t_context = c; }
        ~scope() { t_context = previous; }
    } in_check(&ctx);

    SPF_request_t* req = SPF_request_new(impl_->server);
    SPF_errcode_t set = ip.find(':') != std::string_view::npos ? SPF_request_set_ipv6_str(req, r.ip.c_str())
                                                               : SPF_request_set_ipv4_str(req, r.ip.c_str());
    std::string sender = "postmaster@" + ctx.domain;
    if (set != SPF_E_SUCCESS || SPF_request_set_env_from(req, sender.c_str()) != 0) {
        SPF_request_free(req);
        r.outcome = spf_outcome::permerror;
        r.detail = "cannot check " + r.ip + " for " + ctx.domain + " (bad IP or domain)";
        return r;
    }
    SPF_response_t* resp = nullptr;
    SPF_errcode_t err = SPF_request_is_loopback(req) ? query_without_free_ride(impl_->server, req, &resp)
                                                     : SPF_request_query_mailfrom(req, &resp);
    if (resp == nullptr) {
        SPF_request_free(req);
        r.outcome = spf_outcome::temperror;
        r.detail = std::string("libspf2 gave no response: ") + SPF_strerror(err);
        return r;
    }
    err = SPF_response_errcode(resp);
    r.outcome = map_result(SPF_response_result(resp), err);
    r.detail = response_text(resp, err);
    SPF_response_free(resp);
    SPF_request_free(req);

    if (ctx.dns_failures > 0) {
        // A term's DNS failure ends the check with temperror (RFC 7208 §4.4, §5); terms
        // are evaluated left to right and stop at a match, so the failure came first.
        r.outcome = spf_outcome::temperror;
        r.detail = "DNS failure: " + ctx.dns_failure_text;
    } else if (ctx.terms > max_dns_terms) {
        r.outcome = spf_outcome::permerror;
        r.detail = std::to_string(ctx.terms) + " DNS-querying terms (more than " + std::to_string(max_dns_terms) +
                   ", RFC 7208 4.6.4)";
    } else if (ctx.void_lookups > max_void_lookups) {
        r.outcome = spf_outcome::permerror;
        r.detail = std::to_string(ctx.void_lookups) + " void DNS lookups (more than " +
                   std::to_string(max_void_lookups) + ", RFC 7208 4.6.4)";
    }
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
