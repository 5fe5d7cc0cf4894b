// dkim_signer.cpp: libopendkim signing and the per-snapshot key cache (see dkim_signer.hpp).
#include "relaygate/milter/dkim_signer.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

// dkim.h uses C99 _Bool, which C++ does not have (postfix-tech.md §4).
#define _Bool bool
#include <opendkim/dkim.h>
#undef _Bool

namespace relaygate::milter {
namespace {

constexpr std::size_t max_key_file = 64 * 1024;

expected<registry::key_algorithm, std::string> key_type(const std::string& pem, const std::string& path) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr;
    BIO_free(bio);
    if (key == nullptr) return unexpected(path + ": not a PEM private key");
    int id = EVP_PKEY_base_id(key);
    EVP_PKEY_free(key);
    if (id == EVP_PKEY_RSA) return registry::key_algorithm::rsa;
    if (id == EVP_PKEY_ED25519) return registry::key_algorithm::ed25519;
    return unexpected(path + ": key is neither RSA nor Ed25519");
}

}  // namespace

expected<signing_key, std::string> load_signing_key(std::string domain, std::string selector, const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return unexpected(path + ": cannot open: " + std::strerror(errno));
    std::string pem(max_key_file + 1, '\0');
    f.read(pem.data(), static_cast<std::streamsize>(pem.size()));
    pem.resize(static_cast<std::size_t>(f.gcount()));
    if (pem.size() > max_key_file) return unexpected(path + ": larger than 64 KiB, not a key");
    auto alg = key_type(pem, path);
    if (!alg) return unexpected(alg.error());
    return signing_key{std::move(domain), std::move(selector), std::move(pem), *alg};
}

signing_session::~signing_session() { dkim_free(handle_); }

bool signing_session::header(std::string_view name, std::string_view value) {
    std::string line;
    line.reserve(name.size() + value.size() + 2);
    line.append(name).append(": ").append(value);
    if (dkim_header(handle_, reinterpret_cast<u_char*>(line.data()), line.size()) != DKIM_STAT_OK) failed_ = true;
    return !failed_;
}

bool signing_session::end_of_headers() {
    if (dkim_eoh(handle_) != DKIM_STAT_OK) failed_ = true;
    return !failed_;
}

bool signing_session::body(std::string_view chunk) {
    std::string copy(chunk);  // dkim_body takes a non-const pointer
    if (dkim_body(handle_, reinterpret_cast<u_char*>(copy.data()), copy.size()) != DKIM_STAT_OK) failed_ = true;
    return !failed_;
}

expected<std::string, std::string> signing_session::finish() {
    auto error = [this](const char* what) {
        const char* e = dkim_geterror(handle_);
        return unexpected(std::string(what) + (e ? std::string(": ") + e : std::string()));
    };
    if (failed_) return error("libopendkim refused the message");
    if (dkim_eom(handle_, nullptr) != DKIM_STAT_OK) return error("dkim_eom failed");
    std::string buf(8192, '\0');
    if (dkim_getsighdr(handle_, reinterpret_cast<u_char*>(buf.data()), buf.size(), std::strlen(DKIM_SIGNHEADER) + 2) !=
        DKIM_STAT_OK) {
        return error("dkim_getsighdr failed");
    }
    buf.resize(std::strlen(buf.c_str()));
    return buf;
}

dkim_signer::dkim_signer() : lib_(dkim_init(nullptr, nullptr)) {
    if (lib_ == nullptr) throw std::runtime_error("dkim_init failed");
    // Sign what RFC 6376 says should be signed, oversign From so no second From can be added
    // later, and accept bare-LF line ends from the MTA.
    const char* oversign[] = {"From", nullptr};
    unsigned int flags = DKIM_LIBFLAGS_FIXCRLF;
    if (dkim_options(lib_, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS, dkim_should_signhdrs, sizeof(u_char**)) !=
            DKIM_STAT_OK ||
        dkim_options(lib_, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS, oversign, sizeof(char**)) != DKIM_STAT_OK ||
        dkim_options(lib_, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof flags) != DKIM_STAT_OK) {
        dkim_close(lib_);
        throw std::runtime_error("dkim_options failed");
    }
}

dkim_signer::~dkim_signer() { dkim_close(lib_); }

void dkim_signer::set_fixed_time(std::uint64_t t) {
    dkim_options(lib_, DKIM_OP_SETOPT, DKIM_OPTS_FIXEDTIME, &t, sizeof t);
}

expected<bool, std::string> dkim_signer::add_operator_key(std::string domain, std::string selector,
                                                          const std::string& path) {
    auto key = load_signing_key(domain, std::move(selector), path);
    if (!key) return unexpected(key.error());
    std::lock_guard lock(mutex_);
    operator_keys_[std::move(domain)] = std::make_shared<const signing_key>(std::move(*key));
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
    if (snapshot != cached_snapshot_) {  // a new snapshot may carry new keys: start afresh
        cache_.clear();
        cached_snapshot_ = snapshot;
    }
    if (auto it = cache_.find(domain); it != cache_.end()) return it->second;
    const auto* entry = snapshot ? snapshot->find(domain) : nullptr;
    expected<std::shared_ptr<const signing_key>, std::string> result =
        unexpected(std::string("domain ") + domain + " is not registered");
    if (entry != nullptr) {
        auto key = load_signing_key(entry->domain, entry->selector, entry->key_path);
        if (key) {
            result = std::make_shared<const signing_key>(std::move(*key));
        } else {
            result = unexpected(key.error());
        }
    }
    cache_.emplace(domain, result);
    return result;
}

expected<std::unique_ptr<signing_session>, std::string> dkim_signer::start(const signing_key& key,
                                                                           const std::string& job_id) {
    DKIM_STAT st = DKIM_STAT_OK;
    int alg = key.algorithm == registry::key_algorithm::ed25519 ? DKIM_SIGN_ED25519SHA256 : DKIM_SIGN_RSASHA256;
    DKIM* d = dkim_sign(lib_, reinterpret_cast<const u_char*>(job_id.empty() ? "-" : job_id.c_str()), nullptr,
                        reinterpret_cast<dkim_sigkey_t>(const_cast<char*>(key.pem.c_str())),
                        reinterpret_cast<const u_char*>(key.selector.c_str()),
                        reinterpret_cast<const u_char*>(key.domain.c_str()), DKIM_CANON_RELAXED, DKIM_CANON_RELAXED,
                        alg, -1, &st);
    if (d == nullptr) return unexpected(std::string("dkim_sign failed: ") + dkim_getresultstr(st));
    return std::unique_ptr<signing_session>(new signing_session(d));
}

}  // namespace relaygate::milter
