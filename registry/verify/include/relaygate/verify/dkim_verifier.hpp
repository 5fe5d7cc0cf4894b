// dkim_verifier.hpp: checks that selector._domainkey.domain publishes the public
// half of the private key the operator holds. Pure parts (key-record parser,
// held-key loader, record text for owners) plus dkim_verifier, which fetches the
// TXT through dns::resolver. RSA keys are compared by libopendkim's dkim_test_key
// running on our resolver (its DNS hooks); Ed25519 by our own raw-key comparison.
// Called by domain_verifier; dkim_record_for is for relaygate-admin records.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "relaygate/dns/dns_resolver.hpp"
#include "relaygate/registry/domain_registry.hpp"
#include "relaygate/registry/expected.hpp"
#include "relaygate/verify/domain_verifier.hpp"

namespace relaygate::registry {

// A DKIM key record (RFC 6376 §3.6.1, RFC 8463). Tags we do not know are ignored.
struct dkim_key_record {
    std::string key_type = "rsa";       // k=, lower case
    std::string public_key_base64;      // p= with whitespace removed; empty = revoked
    std::vector<std::string> hashes;    // h=, empty = any
    std::vector<std::string> services;  // s=, empty = "*"
    std::vector<std::string> flags;     // t=, e.g. "y" (testing), "s" (strict)
};

// Parses the joined TXT strings. Limits: 8 KiB of text, 64 tags.
expected<dkim_key_record, std::string> parse_dkim_key_record(std::string_view txt);

// Strict base64 (RFC 4648) with whitespace skipped; nullopt on any other byte.
std::optional<std::vector<unsigned char>> decode_base64(std::string_view text);
std::string encode_base64(const std::vector<unsigned char>& data);

// The public half of a held private key.
struct held_key {
    key_algorithm algorithm = key_algorithm::rsa;
    std::vector<unsigned char> public_key;  // RSA: SubjectPublicKeyInfo DER; Ed25519: raw 32 bytes
    unsigned bits = 0;                      // RSA modulus bits; 256 for Ed25519
    std::string pem;                        // the file content (libopendkim wants the PEM)
};
// Reads a PEM private key (PKCS#8 or PKCS#1 RSA, Ed25519). Files over 64 KiB are refused.
expected<held_key, std::string> load_held_key(const std::string& path);

// A new private key for DKIM (OpenSSL EVP): RSA of rsa_bits (1024..4096) or Ed25519, as
// unencrypted PKCS#8 PEM, the form load_held_key and the milter read. For relaygate-admin rotate.
expected<std::string, std::string> generate_private_key_pem(key_algorithm algorithm, unsigned rsa_bits = 2048);

// The TXT value the owner must publish for this key: "v=DKIM1; k=rsa; p=...".
std::string dkim_record_for(const held_key& key);
// That value split into quoted strings of at most 255 bytes, as zone files want it.
std::string dkim_record_zone_text(const held_key& key);

class dkim_verifier {
public:
    dkim_verifier(dns::resolver& resolver, unsigned min_rsa_bits);
    ~dkim_verifier();
    dkim_verifier(const dkim_verifier&) = delete;
    dkim_verifier& operator=(const dkim_verifier&) = delete;

    // Blocking; thread-safe; never called on the resolver's event thread.
    dkim_result check(const domain_entry& entry);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace relaygate::registry
