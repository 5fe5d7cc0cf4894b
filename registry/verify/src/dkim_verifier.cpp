// dkim_verifier.cpp: DKIM check of one registered domain (see dkim_verifier.hpp).
// We fetch and classify the key record ourselves (NXDOMAIN/NODATA vs SERVFAIL vs
// timeout, revoked, syntax, key length: libopendkim tells these apart only by
// error strings). The RSA match itself is libopendkim's dkim_test_key, which
// memcmp()s the SubjectPublicKeyInfo DER derived from the held PEM with p=; its
// DNS hooks (start/waitreply/cancel, and init/close/nslist/config, whose res_*
// defaults would treat our handle as a __res_state) run on dns::resolver.
// Ed25519 (which dkim_test_key cannot do) is compared here, raw 32-byte key vs p=.
#define _Bool bool
#include <opendkim/dkim.h>
#undef _Bool

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "relaygate/dns/dns_message.hpp"
#include "relaygate/verify/dkim_verifier.hpp"

namespace relaygate::registry {
namespace {

// One libopendkim query running on dns::resolver. Shared with the callback,
// which may outlive the query when libopendkim cancels it first.
struct dkim_query {
    std::mutex m;
    std::condition_variable cv;
    std::optional<dns::answer> result;
    unsigned char* buf = nullptr;
    std::size_t buflen = 0;
};
using query_handle = std::shared_ptr<dkim_query>;

int hook_start(void* srv, int type, unsigned char* query, unsigned char* buf, size_t buflen, void** qh) {
    auto* resolver = static_cast<dns::resolver*>(srv);
    auto q = std::make_shared<dkim_query>();
    q->buf = buf;
    q->buflen = buflen;
    resolver->resolve_async(reinterpret_cast<char*>(query), static_cast<dns::rr_type>(type), [q](const dns::answer& a) {
        std::lock_guard lock(q->m);
        q->result = a;
        q->cv.notify_all();
    });
    *qh = new query_handle(std::move(q));
    return DKIM_DNS_SUCCESS;
}

int hook_waitreply(void*, void* qh, struct timeval* to, size_t* bytes, int* error, int* dnssec) {
    auto& q = *static_cast<query_handle*>(qh);
    std::unique_lock lock(q->m);
    auto ready = [&] { return q->result.has_value(); };
    if (to != nullptr) {
        auto limit = std::chrono::seconds(to->tv_sec) + std::chrono::microseconds(to->tv_usec);
        if (!q->cv.wait_for(lock, limit, ready)) return DKIM_DNS_EXPIRED;
    } else {
        q->cv.wait(lock, ready);  // bounded by the resolver's own deadline
    }
    if (dnssec != nullptr) *dnssec = DKIM_DNSSEC_UNKNOWN;
    if (error != nullptr) *error = 0;
    const auto& a = *q->result;
    if (a.result == dns::status::timeout) return DKIM_DNS_EXPIRED;
    // Only a real answer is handed over: libopendkim reads a SERVFAIL packet with
    // no answers as "no key", which would turn a temporary failure into a permanent one.
    bool usable = a.result == dns::status::ok || a.result == dns::status::nxdomain || a.result == dns::status::nodata;
    if (!usable || a.packet.empty()) return DKIM_DNS_ERROR;
    std::size_t n = std::min(a.packet.size(), q->buflen);
    std::memcpy(q->buf, a.packet.data(), n);
    if (bytes != nullptr) *bytes = n;
    return DKIM_DNS_SUCCESS;
}

int hook_cancel(void*, void* qh) {
    delete static_cast<query_handle*>(qh);
    return DKIM_DNS_SUCCESS;
}
int hook_init(void**) { return 0; }  // the service handle (our resolver) is set up front
void hook_close(void*) {}            // the resolver is not libopendkim's to free
int hook_nslist(void*, const char*) { return 0; }
int hook_config(void*, const char*) { return 0; }

std::string temporary_text(const std::string& name, const dns::answer& a) {
    std::string text = "DNS lookup of " + name + " failed (" + std::string(dns::to_string(a.result));
    if (!a.error_text.empty()) text += ": " + a.error_text;
    return text + ")";
}

struct pkey_free {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

}  // namespace

struct dkim_verifier::impl {
    dns::resolver& resolver;
    unsigned min_rsa_bits;
    DKIM_LIB* lib = nullptr;

    impl(dns::resolver& r, unsigned bits) : resolver(r), min_rsa_bits(bits) {
        lib = dkim_init(nullptr, nullptr);
        if (lib == nullptr) throw std::runtime_error("dkim: dkim_init failed");
        dkim_dns_set_query_service(lib, &resolver);
        dkim_dns_set_query_start(lib, hook_start);
        dkim_dns_set_query_waitreply(lib, hook_waitreply);
        dkim_dns_set_query_cancel(lib, hook_cancel);
        dkim_dns_set_init(lib, hook_init);
        dkim_dns_set_close(lib, hook_close);
        dkim_dns_set_nslist(lib, hook_nslist);
        dkim_dns_set_config(lib, hook_config);
    }
    ~impl() { dkim_close(lib); }

    // RSA: length from our own parse of p=, the match from libopendkim.
    dkim_result check_rsa(dkim_result r, const domain_entry& e, const held_key& held,
                          const std::vector<unsigned char>& published) {
        const unsigned char* p = published.data();
        std::unique_ptr<EVP_PKEY, pkey_free> key(d2i_PUBKEY(nullptr, &p, static_cast<long>(published.size())));
        if (!key || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA || p != published.data() + published.size()) {
            r.outcome = dkim_outcome::bad_syntax;
            r.detail = "p= at " + r.record_name + " is not an RSA SubjectPublicKeyInfo";
            return r;
        }
        auto bits = static_cast<unsigned>(EVP_PKEY_get_bits(key.get()));
        if (bits < min_rsa_bits) {
            r.outcome = dkim_outcome::key_too_short;
            r.detail = "RSA key at " + r.record_name + " has " + std::to_string(bits) + " bits; at least " +
                       std::to_string(min_rsa_bits) + " required";
            return r;
        }
        std::string selector = e.selector, domain = e.domain, pem = held.pem;
        int dnssec = DKIM_DNSSEC_UNKNOWN;
        char err[256] = {};
        int rc = dkim_test_key(lib, selector.data(), domain.data(), pem.data(), pem.size(), &dnssec, err, sizeof err);
        if (rc == 0) {
            r.outcome = dkim_outcome::match;
            r.detail = "RSA " + std::to_string(bits) + "-bit key at " + r.record_name + " matches " + e.key_path;
        } else if (rc == 1) {
            r.outcome = dkim_outcome::key_mismatch;
            r.detail = "DKIM key at " + r.record_name + " differs from the held key " + e.key_path;
        } else {
            // Our fetch a moment ago succeeded, so a failing re-fetch is DNS trouble; anything else is syntax.
            std::string text = err;
            bool dns_trouble = text.find("query") != std::string::npos || text.find("timed out") != std::string::npos;
            r.outcome = dns_trouble ? dkim_outcome::temporary : dkim_outcome::bad_syntax;
            r.detail = "libopendkim: " + text + " (" + r.record_name + ")";
        }
        return r;
    }
};

dkim_verifier::dkim_verifier(dns::resolver& resolver, unsigned min_rsa_bits)
    : impl_(std::make_unique<impl>(resolver, min_rsa_bits)) {}
dkim_verifier::~dkim_verifier() = default;

dkim_result dkim_verifier::check(const domain_entry& e) {
    dkim_result r;
    r.record_name = e.selector + "._domainkey." + e.domain;
    auto held = load_held_key(e.key_path);
    if (!held) {
        r.outcome = dkim_outcome::held_key_error;
        r.detail = held.error();
        return r;
    }
    if (dns::wire::build_query(r.record_name, dns::rr_type::txt, 0).empty()) {
        r.outcome = dkim_outcome::no_record;  // a retry cannot help: the selector or domain is unusable
        r.detail = r.record_name + " is not a valid DNS name (check the selector)";
        return r;
    }
    auto a = impl_->resolver.resolve(r.record_name, dns::rr_type::txt);
    if (a.result == dns::status::nxdomain || a.result == dns::status::nodata) {
        r.outcome = dkim_outcome::no_record;
        r.detail = "no DKIM key at " + r.record_name;
        return r;
    }
    if (a.result != dns::status::ok) {
        r.outcome = dkim_outcome::temporary;
        r.detail = temporary_text(r.record_name, a);
        return r;
    }
    std::string via = a.canonical_name != a.qname ? " (via CNAME " + a.canonical_name + ")" : "";
    if (a.txt.size() != 1) {
        r.outcome = dkim_outcome::bad_syntax;
        r.detail = std::to_string(a.txt.size()) + " TXT records at " + r.record_name + via + "; publish exactly one";
        return r;
    }
    auto rec = parse_dkim_key_record(a.txt.front());
    if (!rec) {
        r.outcome = dkim_outcome::bad_syntax;
        r.detail = "TXT at " + r.record_name + via + " is not a DKIM key record: " + rec.error();
        return r;
    }
    if (rec->public_key_base64.empty()) {
        r.outcome = dkim_outcome::revoked;
        r.detail = "DKIM key at " + r.record_name + via + " is revoked (empty p=)";
        return r;
    }
    auto published = decode_base64(rec->public_key_base64);
    if (!published || published->empty()) {
        r.outcome = dkim_outcome::bad_syntax;
        r.detail = "p= at " + r.record_name + via + " is not valid base64";
        return r;
    }
    const char* held_type = held->algorithm == key_algorithm::rsa ? "rsa" : "ed25519";
    if (rec->key_type != held_type) {
        r.outcome = dkim_outcome::key_mismatch;
        r.detail = "DKIM key at " + r.record_name + via + " is k=" + rec->key_type + " but the held key " + e.key_path +
                   " is " + held_type;
        return r;
    }
    if (held->algorithm == key_algorithm::rsa) return impl_->check_rsa(std::move(r), e, *held, *published);
    if (published->size() != 32) {
        r.outcome = dkim_outcome::bad_syntax;
        r.detail =
            "Ed25519 p= at " + r.record_name + via + " is " + std::to_string(published->size()) + " bytes, not 32";
        return r;
    }
    bool same = *published == held->public_key;
    r.outcome = same ? dkim_outcome::match : dkim_outcome::key_mismatch;
    r.detail = same ? "Ed25519 key at " + r.record_name + via + " matches " + e.key_path
                    : "DKIM key at " + r.record_name + via + " differs from the held key " + e.key_path;
    return r;
}

}  // namespace relaygate::registry
