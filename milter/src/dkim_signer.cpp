// dkim_signer.cpp: keys parsed once per snapshot, and the per-message signing
// step on OpenSSL 3's EVP API (see dkim_signer.hpp). The signature header is
// built as RFC 6376 §3.5/§3.7 say: body hash over the canonical body, then one
// SHA-256 over the canonical selected headers and the DKIM-Signature header
// with an empty b=; RSA signs that digest with PKCS#1 v1.5, Ed25519 signs the
// 32 digest bytes with PureEdDSA (RFC 8463).
#include "relaygate/milter/dkim_signer.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace relaygate::milter {

constexpr std::size_t max_key_file = 64 * 1024;
constexpr unsigned min_rsa_bits = 1024;  // libopendkim's floor for signing, kept

namespace {

// SHA-256, fetched once for the process: per-message code never fetches.
const EVP_MD* sha256() {
    static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return md;
}

std::string openssl_error(const char* what) {
    char buf[256] = "";
    unsigned long e = ERR_get_error();
    if (e != 0) ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return std::string(what) + (buf[0] ? std::string(": ") + buf : std::string());
}

std::string base64(const unsigned char* data, std::size_t len) {
    std::string out(4 * ((len + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(len));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

}  // namespace

// A parsed private key and a signing context prepared from it. sign() only
// duplicates that context, so it is safe from many threads at once.
class private_key {
public:
    ~private_key() {
        EVP_PKEY_CTX_free(rsa_template_);
        EVP_MD_CTX_free(ed_template_);
        EVP_PKEY_free(pkey_);
    }
    private_key(const private_key&) = delete;
    private_key& operator=(const private_key&) = delete;

    static expected<std::shared_ptr<const private_key>, std::string> parse(const std::string& pem,
                                                                           const std::string& path);
    registry::key_algorithm algorithm() const { return algorithm_; }

    // Signs the SHA-256 digest of the canonical headers; returns the signature bytes.
    expected<std::string, std::string> sign(const unsigned char (&digest)[32]) const;

private:
    private_key() = default;
    EVP_PKEY* pkey_ = nullptr;
    EVP_PKEY_CTX* rsa_template_ = nullptr;  // sign_init'ed, PKCS#1 padding, SHA-256
    EVP_MD_CTX* ed_template_ = nullptr;     // DigestSignInit'ed for PureEdDSA
    registry::key_algorithm algorithm_ = registry::key_algorithm::rsa;
};

expected<std::shared_ptr<const private_key>, std::string> private_key::parse(const std::string& pem,
                                                                             const std::string& path) {
    std::shared_ptr<private_key> k(new private_key());
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    k->pkey_ = bio ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr;
    BIO_free(bio);
    ERR_clear_error();
    if (k->pkey_ == nullptr) return unexpected(path + ": not a PEM private key");
    switch (EVP_PKEY_get_base_id(k->pkey_)) {
        case EVP_PKEY_RSA: {
            if (EVP_PKEY_get_bits(k->pkey_) < static_cast<int>(min_rsa_bits)) {
                return unexpected(path + ": RSA key of " + std::to_string(EVP_PKEY_get_bits(k->pkey_)) +
                                  " bits; at least " + std::to_string(min_rsa_bits) + " are needed");
            }
            k->rsa_template_ = EVP_PKEY_CTX_new_from_pkey(nullptr, k->pkey_, nullptr);
            if (k->rsa_template_ == nullptr || EVP_PKEY_sign_init(k->rsa_template_) <= 0 ||
                EVP_PKEY_CTX_set_rsa_padding(k->rsa_template_, RSA_PKCS1_PADDING) <= 0 ||
                EVP_PKEY_CTX_set_signature_md(k->rsa_template_, sha256()) <= 0) {
                return unexpected(openssl_error((path + ": cannot prepare RSA signing").c_str()));
            }
            k->algorithm_ = registry::key_algorithm::rsa;
            break;
        }
        case EVP_PKEY_ED25519:
            k->ed_template_ = EVP_MD_CTX_new();
            if (k->ed_template_ == nullptr ||
                EVP_DigestSignInit_ex(k->ed_template_, nullptr, nullptr, nullptr, nullptr, k->pkey_, nullptr) <= 0) {
                return unexpected(openssl_error((path + ": cannot prepare Ed25519 signing").c_str()));
            }
            k->algorithm_ = registry::key_algorithm::ed25519;
            break;
        default:
            return unexpected(path + ": key is neither RSA nor Ed25519");
    }
    return std::shared_ptr<const private_key>(std::move(k));
}

expected<std::string, std::string> private_key::sign(const unsigned char (&digest)[32]) const {
    std::string out(static_cast<std::size_t>(EVP_PKEY_get_size(pkey_)), '\0');
    std::size_t len = out.size();
    auto* bytes = reinterpret_cast<unsigned char*>(out.data());
    if (rsa_template_ != nullptr) {
        EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_dup(rsa_template_);
        int ok = ctx != nullptr ? EVP_PKEY_sign(ctx, bytes, &len, digest, sizeof digest) : 0;
        EVP_PKEY_CTX_free(ctx);
        if (ok <= 0) return unexpected(openssl_error("RSA signing failed"));
    } else {
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        int ok = ctx != nullptr && EVP_MD_CTX_copy_ex(ctx, ed_template_) > 0
                     ? EVP_DigestSign(ctx, bytes, &len, digest, sizeof digest)
                     : 0;
        EVP_MD_CTX_free(ctx);
        if (ok <= 0) return unexpected(openssl_error("Ed25519 signing failed"));
    }
    out.resize(len);
    return out;
}

expected<signing_key, std::string> load_signing_key(std::string domain, std::string selector, const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return unexpected(path + ": cannot open: " + std::strerror(errno));
    std::string pem(max_key_file + 1, '\0');
    f.read(pem.data(), static_cast<std::streamsize>(pem.size()));
    pem.resize(static_cast<std::size_t>(f.gcount()));
    if (pem.size() > max_key_file) return unexpected(path + ": larger than 64 KiB, not a key");
    auto key = private_key::parse(pem, path);
    OPENSSL_cleanse(pem.data(), pem.size());
    if (!key) return unexpected(key.error());
    auto alg = (*key)->algorithm();
    return signing_key{std::move(domain), std::move(selector), alg, std::move(*key)};
}

signing_session::signing_session(std::shared_ptr<const signing_key> key, const signing_options& opts)
    : key_(std::move(key)), opts_(opts), body_canon_(opts.body), body_hash_(EVP_MD_CTX_new()) {
    if (body_hash_ == nullptr || EVP_DigestInit_ex2(body_hash_, sha256(), nullptr) <= 0) {
        EVP_MD_CTX_free(body_hash_);
        throw std::runtime_error("cannot start a SHA-256 digest");  // only when out of memory
    }
}

signing_session::~signing_session() { EVP_MD_CTX_free(body_hash_); }

bool signing_session::header(std::string_view name, std::string_view value) {
    headers_.emplace_back(name, value);
    return true;
}

bool signing_session::end_of_headers() {
    header_selection sel = select_headers(headers_);
    for (std::size_t i : sel.order)
        canonical_header(opts_.header, headers_[i].first, headers_[i].second, canonical_headers_);
    h_tag_ = std::move(sel.h_tag);
    headers_.clear();
    headers_.shrink_to_fit();
    return true;
}

bool signing_session::body(std::string_view chunk) {
    scratch_.clear();
    body_canon_.feed(chunk, scratch_);
    if (EVP_DigestUpdate(body_hash_, scratch_.data(), scratch_.size()) <= 0) failed_ = true;
    return !failed_;
}

namespace {

// "h=From:To:..." folded after a colon so no line passes ~78 columns.
std::string folded_h_tag(const std::string& names) {
    std::string out = "h=";
    std::size_t column = 3;  // after the tab
    std::size_t start = 0;
    while (start <= names.size()) {
        std::size_t colon = names.find(':', start);
        std::size_t end = colon == std::string::npos ? names.size() : colon + 1;
        std::string_view part(names.data() + start, end - start);
        if (column + part.size() > 76 && column > 3) {
            out += "\n\t";
            column = 1;
        }
        out += part;
        column += part.size();
        if (colon == std::string::npos) break;
        start = end;
    }
    return out;
}

}  // namespace

expected<std::string, std::string> signing_session::finish() {
    if (failed_) return unexpected(std::string("hashing the body failed"));
    scratch_.clear();
    body_canon_.finish(scratch_);
    unsigned char bh[EVP_MAX_MD_SIZE];
    unsigned int bh_len = 0;
    if (EVP_DigestUpdate(body_hash_, scratch_.data(), scratch_.size()) <= 0 ||
        EVP_DigestFinal_ex(body_hash_, bh, &bh_len) <= 0) {
        return unexpected(openssl_error("body hash failed"));
    }
    const bool ed = key_->algorithm == registry::key_algorithm::ed25519;
    const auto now = opts_.fixed_time != 0
                         ? opts_.fixed_time
                         : static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                                          std::chrono::system_clock::now().time_since_epoch())
                                                          .count());
    std::string value = "v=1; a=" + std::string(ed ? "ed25519-sha256" : "rsa-sha256") +
                        "; c=" + std::string(to_string(opts_.header)) + "/" + std::string(to_string(opts_.body)) +
                        "; d=" + key_->domain + "; s=" + key_->selector + ";\n\tt=" + std::to_string(now) +
                        "; bh=" + base64(bh, bh_len) + ";\n\t" + folded_h_tag(h_tag_) + ";\n\tb=";
    // The signature covers itself with b= empty, canonicalized like any header, without its CRLF.
    std::string signed_text = std::move(canonical_headers_);
    canonical_header(opts_.header, "DKIM-Signature", value, signed_text);
    signed_text.resize(signed_text.size() - 2);
    unsigned char digest[32];
    unsigned int digest_len = 0;
    if (EVP_DigestInit_ex2(body_hash_, sha256(), nullptr) <= 0 ||
        EVP_DigestUpdate(body_hash_, signed_text.data(), signed_text.size()) <= 0 ||
        EVP_DigestFinal_ex(body_hash_, digest, &digest_len) <= 0) {
        return unexpected(openssl_error("header hash failed"));
    }
    auto sig = key_->key->sign(digest);
    if (!sig) return unexpected(sig.error());
    std::string b = base64(reinterpret_cast<const unsigned char*>(sig->data()), sig->size());
    for (std::size_t at = 0; at < b.size(); at += 72) {
        if (at > 0) value += "\n\t";
        value.append(b, at, 72);
    }
    return value;
}

struct dkim_signer::key_file {
    struct stat st {};
    std::shared_ptr<const signing_key> key;  // domain/selector of the first entry that used it
};

namespace {

bool same_file(const struct stat& a, const struct stat& b) {
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size &&
           a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

std::string entry_error(const registry::domain_entry& e, const std::string& why) {
    std::string where = e.source_file ? *e.source_file + ":" + std::to_string(e.source_line) + ": " : "";
    return where + "key: " + why;
}

}  // namespace

expected<bool, std::string> dkim_signer::add_operator_key(std::string domain, std::string selector,
                                                          const std::string& path) {
    auto key = load_signing_key(domain, std::move(selector), path);
    if (!key) return unexpected(key.error());
    std::lock_guard lock(mutex_);
    operator_keys_[std::move(domain)] = std::make_shared<const signing_key>(std::move(*key));
    return true;
}

expected<bool, std::string> dkim_signer::prepare(const std::shared_ptr<const registry::domain_registry>& snapshot) {
    std::lock_guard one_at_a_time(prepare_mutex_);
    std::shared_ptr<const std::map<std::string, key_file>> previous;
    {
        std::lock_guard lock(mutex_);
        previous = files_;
    }
    auto files = std::make_shared<std::map<std::string, key_file>>();
    auto keys = std::make_shared<key_set>();
    for (const auto& e : snapshot->entries()) {
        if (snapshot->status_of(e.domain).state != registry::verification_state::verified) continue;  // never signs
        // During a key rotation, the selector verification chose (the old one until the new one verifies).
        const auto sel = snapshot->signing_selector_of(e);
        auto found = files->find(sel.key_path);
        if (found == files->end()) {
            key_file kf;
            if (::stat(sel.key_path.c_str(), &kf.st) != 0) {
                return unexpected(entry_error(e, sel.key_path + ": cannot open: " + std::strerror(errno)));
            }
            const key_file* old = nullptr;
            if (previous) {
                if (auto it = previous->find(sel.key_path); it != previous->end()) old = &it->second;
            }
            if (old != nullptr && same_file(old->st, kf.st)) {
                kf.key = old->key;  // unchanged since the last snapshot: not parsed again
            } else {
                auto parsed = load_signing_key(e.domain, sel.name, sel.key_path);
                if (!parsed) return unexpected(entry_error(e, parsed.error()));
                kf.key = std::make_shared<const signing_key>(std::move(*parsed));
            }
            found = files->emplace(sel.key_path, std::move(kf)).first;
        }
        const auto& parsed = *found->second.key;
        keys->emplace(e.domain, std::make_shared<const signing_key>(
                                    signing_key{e.domain, sel.name, parsed.algorithm, parsed.key}));
    }
    std::lock_guard lock(mutex_);
    std::erase_if(sets_, [](const auto& s) { return s.first.expired(); });
    sets_.emplace_back(snapshot, std::move(keys));
    files_ = std::move(files);
    return true;
}

expected<std::shared_ptr<const signing_key>, std::string> dkim_signer::key_for(
    const std::shared_ptr<const registry::domain_registry>& snapshot, const std::string& domain, bool is_operator) {
    std::lock_guard lock(mutex_);
    if (is_operator) {
        // An operator subdomain is signed with the nearest configured parent's key (d= that parent).
        for (std::string_view d = domain; !d.empty();) {
            if (auto it = operator_keys_.find(std::string(d)); it != operator_keys_.end()) return it->second;
            auto dot = d.find('.');
            d = dot == std::string_view::npos ? std::string_view() : d.substr(dot + 1);
        }
        return unexpected(std::string("no DKIM key configured for operator domain ") + domain);
    }
    for (const auto& [weak, keys] : sets_) {
        if (weak.owner_before(snapshot) || snapshot.owner_before(weak)) continue;  // another snapshot
        if (auto it = keys->find(domain); it != keys->end()) return it->second;
        return unexpected("no key for " + domain + ": not a verified domain of this registry snapshot");
    }
    return unexpected(std::string("the keys of this registry snapshot were not prepared"));
}

std::unique_ptr<signing_session> dkim_signer::start(std::shared_ptr<const signing_key> key) const {
    return std::make_unique<signing_session>(std::move(key), options_);
}

}  // namespace relaygate::milter
