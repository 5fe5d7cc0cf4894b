// dkim_key_record.cpp: the pure half of DKIM verification — the key-record
// parser (RFC 6376 §3.6.1 tag-list), base64, loading the held private key with
// OpenSSL and the record text owners must publish. No DNS; see dkim_verifier.cpp.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>

#include "relaygate/verify/dkim_verifier.hpp"

namespace relaygate::registry {
namespace {

constexpr std::size_t max_record_text = 8192;
constexpr std::size_t max_tags = 64;
constexpr std::size_t max_key_file = 65536;

bool is_fws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_fws(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_fws(s.back())) s.remove_suffix(1);
    return s;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

// A colon-separated list (h=, s=, t=), each item trimmed and lower-cased.
std::vector<std::string> split_list(std::string_view value) {
    std::vector<std::string> out;
    while (true) {
        auto colon = value.find(':');
        auto item = trim(value.substr(0, colon));
        if (!item.empty()) out.push_back(lower(item));
        if (colon == std::string_view::npos) break;
        value.remove_prefix(colon + 1);
    }
    return out;
}

bool valid_tag_name(std::string_view name) {
    if (name.empty() || !std::isalpha(static_cast<unsigned char>(name[0]))) return false;
    return std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

int base64_value(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

struct pkey_free {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct bio_free {
    void operator()(BIO* b) const { BIO_free(b); }
};

}  // namespace

std::optional<std::vector<unsigned char>> decode_base64(std::string_view text) {
    std::vector<unsigned char> out;
    unsigned buffer = 0;
    int bits = 0, padding = 0;
    std::size_t symbols = 0;
    for (unsigned char c : text) {
        if (is_fws(static_cast<char>(c))) continue;
        if (c == '=') {
            ++padding;
            ++symbols;
            continue;
        }
        int v = base64_value(c);
        if (v < 0 || padding > 0) return std::nullopt;  // bad byte, or data after '='
        buffer = (buffer << 6) | static_cast<unsigned>(v);
        bits += 6;
        ++symbols;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<unsigned char>((buffer >> bits) & 0xFF));
        }
    }
    if (padding > 2 || symbols % 4 != 0) return std::nullopt;
    return out;
}

std::string encode_base64(const std::vector<unsigned char>& data) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < data.size(); i += 3) {
        unsigned v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
        for (int s = 18; s >= 0; s -= 6) out.push_back(alphabet[(v >> s) & 0x3F]);
    }
    if (i + 1 == data.size()) {
        unsigned v = data[i] << 16;
        out += {alphabet[(v >> 18) & 0x3F], alphabet[(v >> 12) & 0x3F], '=', '='};
    } else if (i + 2 == data.size()) {
        unsigned v = (data[i] << 16) | (data[i + 1] << 8);
        out += {alphabet[(v >> 18) & 0x3F], alphabet[(v >> 12) & 0x3F], alphabet[(v >> 6) & 0x3F], '='};
    }
    return out;
}

expected<dkim_key_record, std::string> parse_dkim_key_record(std::string_view txt) {
    if (txt.size() > max_record_text) return unexpected(std::string("record longer than 8192 bytes"));
    dkim_key_record rec;
    std::set<std::string> seen;
    bool have_p = false;
    std::size_t index = 0;
    while (!trim(txt).empty()) {
        auto semi = txt.find(';');
        auto spec = txt.substr(0, semi);
        txt = semi == std::string_view::npos ? std::string_view{} : txt.substr(semi + 1);
        if (trim(spec).empty()) continue;  // ";;" is tolerated, as receivers do
        auto eq = spec.find('=');
        if (eq == std::string_view::npos) return unexpected("tag without '=': " + std::string(trim(spec)));
        auto name = trim(spec.substr(0, eq));
        auto value = trim(spec.substr(eq + 1));
        if (!valid_tag_name(name)) return unexpected("bad tag name '" + std::string(name) + "'");
        if (!seen.insert(std::string(name)).second) return unexpected("duplicate tag " + std::string(name) + "=");
        if (seen.size() > max_tags) return unexpected(std::string("more than 64 tags"));
        if (name == "v") {
            if (index != 0) return unexpected(std::string("v= is not the first tag"));
            if (value != "DKIM1") return unexpected("unsupported version v=" + std::string(value));
        } else if (name == "k") {
            rec.key_type = lower(value);
        } else if (name == "p") {
            have_p = true;
            for (char c : value) {
                if (!is_fws(c)) rec.public_key_base64.push_back(c);
            }
        } else if (name == "h") {
            rec.hashes = split_list(value);
        } else if (name == "s") {
            rec.services = split_list(value);
        } else if (name == "t") {
            rec.flags = split_list(value);
        }
        ++index;
    }
    if (!have_p) return unexpected(std::string("no p= tag"));
    if (rec.key_type != "rsa" && rec.key_type != "ed25519") return unexpected("unknown key type k=" + rec.key_type);
    if (!rec.services.empty() && std::find(rec.services.begin(), rec.services.end(), "*") == rec.services.end() &&
        std::find(rec.services.begin(), rec.services.end(), "email") == rec.services.end()) {
        return unexpected(std::string("s= does not include email"));
    }
    if (!rec.hashes.empty() && std::find(rec.hashes.begin(), rec.hashes.end(), "sha256") == rec.hashes.end()) {
        return unexpected(std::string("h= does not allow sha256"));
    }
    return rec;
}

expected<std::string, std::string> generate_private_key_pem(key_algorithm algorithm, unsigned rsa_bits) {
    if (algorithm == key_algorithm::rsa && (rsa_bits < 1024 || rsa_bits > 4096)) {
        return unexpected("RSA key size " + std::to_string(rsa_bits) + " is outside 1024..4096");
    }
    std::unique_ptr<EVP_PKEY, pkey_free> key(
        algorithm == key_algorithm::rsa ? EVP_RSA_gen(rsa_bits) : EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    if (!key) return unexpected(std::string("OpenSSL could not generate the key"));
    std::unique_ptr<BIO, bio_free> bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        return unexpected(std::string("OpenSSL could not write the key as PEM"));
    }
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    if (len <= 0 || data == nullptr) return unexpected(std::string("OpenSSL wrote an empty key"));
    std::string pem(data, static_cast<std::size_t>(len));
    OPENSSL_cleanse(data, static_cast<std::size_t>(len));
    return pem;
}

expected<held_key, std::string> load_held_key(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return unexpected("cannot open private key " + path);
    std::string pem;
    pem.resize(max_key_file + 1);
    in.read(pem.data(), static_cast<std::streamsize>(pem.size()));
    pem.resize(static_cast<std::size_t>(in.gcount()));
    if (pem.size() > max_key_file) return unexpected("private key " + path + " is larger than 64 KiB");
    std::unique_ptr<BIO, bio_free> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    std::unique_ptr<EVP_PKEY, pkey_free> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    if (!key) return unexpected("cannot parse private key " + path + " (PEM RSA or Ed25519 expected)");
    held_key out;
    out.pem = std::move(pem);
    switch (EVP_PKEY_get_base_id(key.get())) {
        case EVP_PKEY_RSA: {
            out.algorithm = key_algorithm::rsa;
            out.bits = static_cast<unsigned>(EVP_PKEY_get_bits(key.get()));
            int len = i2d_PUBKEY(key.get(), nullptr);
            if (len <= 0) return unexpected("cannot derive the public key of " + path);
            out.public_key.resize(static_cast<std::size_t>(len));
            unsigned char* p = out.public_key.data();
            i2d_PUBKEY(key.get(), &p);
            break;
        }
        case EVP_PKEY_ED25519: {
            out.algorithm = key_algorithm::ed25519;
            out.bits = 256;
            std::size_t len = 32;
            out.public_key.resize(len);
            if (EVP_PKEY_get_raw_public_key(key.get(), out.public_key.data(), &len) != 1 || len != 32) {
                return unexpected("cannot derive the Ed25519 public key of " + path);
            }
            break;
        }
        default:
            return unexpected("private key " + path + " is neither RSA nor Ed25519");
    }
    return out;
}

std::string dkim_record_for(const held_key& key) {
    return std::string("v=DKIM1; k=") + (key.algorithm == key_algorithm::rsa ? "rsa" : "ed25519") +
           "; p=" + encode_base64(key.public_key);
}

std::string dkim_record_zone_text(const held_key& key) {
    std::string record = dkim_record_for(key), out;
    for (std::size_t i = 0; i < record.size(); i += 255) {
        if (!out.empty()) out += ' ';
        out += '"' + record.substr(i, 255) + '"';
    }
    return out;
}

}  // namespace relaygate::registry
