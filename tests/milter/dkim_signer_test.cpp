// dkim_signer: signatures made with the registry's key verify with
// libopendkim against the published records (DKIM_QUERY_FILE, no DNS), for
// RSA and Ed25519; keys are parsed once per snapshot by prepare() (a bad key
// fails it, an unchanged file is not parsed again); operator domains need a key.
// The corpus of hard messages is in dkim_corpus_test.cpp.
#include "relaygate/milter/dkim_signer.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>
#include <vector>

#define _Bool bool
#include <opendkim/dkim.h>
#undef _Bool

namespace relaygate::milter {
namespace {

const std::string keys = std::string(RELAYGATE_SOURCE_DIR) + "/tests/testdata/milter/keys/";

using header_list = std::vector<std::pair<std::string, std::string>>;
const header_list headers{{"From", "News <news@verified.example>"},
                          {"To", "bob@example.net"},
                          {"Subject", "Quarterly\n\tresults"},
                          {"Date", "Tue, 01 Dec 2026 18:00:00 +0000"},
                          {"Message-ID", "<1@verified.example>"}};
const std::string body = "Hello,\r\n\r\nnumbers are up.\r\n";

std::string sign(const dkim_signer& signer, const std::shared_ptr<const signing_key>& key,
                 const header_list& h = headers) {
    auto s = signer.start(key);
    for (const auto& [n, v] : h) EXPECT_TRUE(s->header(n, v));
    EXPECT_TRUE(s->end_of_headers());
    EXPECT_TRUE(s->body(body));
    auto sig = s->finish();
    EXPECT_TRUE(sig.has_value()) << sig.error();
    return sig.has_value() ? *sig : std::string();
}

// Verifies with a fresh libopendkim handle; returns the dkim_eom status.
DKIM_STAT verify(const std::string& signature, const header_list& h = headers) {
    DKIM_LIB* lib = dkim_init(nullptr, nullptr);
    dkim_query_t method = DKIM_QUERY_FILE;
    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYMETHOD, &method, sizeof method);
    std::string file = keys + "dkim-keys.txt";
    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYINFO, file.data(), file.size());
    DKIM_STAT st;
    DKIM* d = dkim_verify(lib, reinterpret_cast<const u_char*>("v"), nullptr, &st);
    auto feed = [&](std::string line) { dkim_header(d, reinterpret_cast<u_char*>(line.data()), line.size()); };
    feed("DKIM-Signature: " + signature);
    for (const auto& [n, v] : h) feed(n + ": " + v);
    dkim_eoh(d);
    std::string b = body;
    dkim_body(d, reinterpret_cast<u_char*>(b.data()), b.size());
    st = dkim_eom(d, nullptr);
    dkim_free(d);
    dkim_close(lib);
    return st;
}

// A snapshot with verified.example (key_file) and ed.example verified, pending.example pending.
std::shared_ptr<const registry::domain_registry> snapshot(const std::string& key_file, const std::string& dir = keys) {
    std::vector<registry::domain_entry> e{
        {.domain = "verified.example", .selector = "s1", .key_path = dir + key_file},
        {.domain = "ed.example", .selector = "s2", .key_path = keys + "ed-s2.pem"},
        {.domain = "pending.example", .selector = "s3", .key_path = keys + "broken.pem"}};
    e[0].source_file = std::make_shared<const std::string>("domains.conf");
    e[0].source_line = 7;
    registry::verification_status verified{.state = registry::verification_state::verified};
    return std::make_shared<const registry::domain_registry>(
        std::move(e),
        std::unordered_map<std::string, registry::verification_status>{{"verified.example", verified},
                                                                       {"ed.example", verified}},
        std::vector<std::string>{});
}

// A signer with the snapshot prepared, and the key for domain.
std::shared_ptr<const signing_key> prepared_key(dkim_signer& signer,
                                                const std::shared_ptr<const registry::domain_registry>& snap,
                                                const std::string& domain) {
    auto ok = signer.prepare(snap);
    EXPECT_TRUE(ok.has_value()) << ok.error();
    auto key = signer.key_for(snap, domain, false);
    EXPECT_TRUE(key.has_value()) << key.error();
    return key.has_value() ? *key : nullptr;
}

TEST(dkim_signer, rsa_signature_verifies_against_the_published_key) {
    dkim_signer signer;
    auto key = prepared_key(signer, snapshot("rsa-s1.pem"), "verified.example");
    ASSERT_NE(key, nullptr);
    EXPECT_EQ(key->algorithm, registry::key_algorithm::rsa);
    auto sig = sign(signer, key);
    EXPECT_NE(sig.find("a=rsa-sha256"), std::string::npos) << sig;
    EXPECT_NE(sig.find("c=relaxed/relaxed"), std::string::npos) << sig;
    EXPECT_NE(sig.find("d=verified.example"), std::string::npos) << sig;
    EXPECT_NE(sig.find("s=s1"), std::string::npos) << sig;
    EXPECT_EQ(sig.find("l="), std::string::npos) << "never l=: " << sig;
    EXPECT_EQ(verify(sig), DKIM_STAT_OK) << sig;
}

TEST(dkim_signer, ed25519_signature_verifies_against_the_published_key) {
    dkim_signer signer;
    auto key = prepared_key(signer, snapshot("rsa-s1.pem"), "ed.example");
    ASSERT_NE(key, nullptr);
    EXPECT_EQ(key->algorithm, registry::key_algorithm::ed25519);
    auto h = headers;
    h[0].second = "news@ed.example";
    auto sig = sign(signer, key, h);
    EXPECT_NE(sig.find("a=ed25519-sha256"), std::string::npos) << sig;
    EXPECT_EQ(verify(sig, h), DKIM_STAT_OK) << sig;
}

TEST(dkim_signer, a_changed_header_breaks_the_signature) {
    dkim_signer signer;
    auto key = prepared_key(signer, snapshot("rsa-s1.pem"), "verified.example");
    ASSERT_NE(key, nullptr);
    auto sig = sign(signer, key);
    auto tampered = headers;
    tampered[2].second = "Quarterly results (edited)";
    EXPECT_NE(verify(sig, tampered), DKIM_STAT_OK);
}

TEST(dkim_signer, a_from_added_later_breaks_the_signature) {
    dkim_signer signer;
    auto key = prepared_key(signer, snapshot("rsa-s1.pem"), "verified.example");
    ASSERT_NE(key, nullptr);
    auto sig = sign(signer, key);
    EXPECT_EQ(verify(sig), DKIM_STAT_OK);
    auto added = headers;
    added.emplace_back("From", "Mallory <m@evil.example>");
    EXPECT_NE(verify(sig, added), DKIM_STAT_OK) << "From is oversigned";
}

TEST(dkim_signer, from_is_oversigned) {
    dkim_signer signer;
    auto key = prepared_key(signer, snapshot("rsa-s1.pem"), "verified.example");
    ASSERT_NE(key, nullptr);
    auto sig = sign(signer, key);
    // the h= tag: "h=" at the start or after ';' / white space (not the "h=" inside "bh=")
    std::size_t at = 0;
    while ((at = sig.find("h=", at)) != std::string::npos && at > 0 && sig[at - 1] != ';' && sig[at - 1] != ' ' &&
           sig[at - 1] != '\t' && sig[at - 1] != '\n') {
        ++at;
    }
    ASSERT_NE(at, std::string::npos) << sig;
    const std::string list = sig.substr(at + 2, sig.find(';', at) - at - 2);
    EXPECT_EQ(list, "From:To:Subject:Date:From") << "the RFC 6376 list as before, Message-ID not in it";
}

TEST(dkim_signer, keys_are_parsed_once_per_snapshot_and_reused_while_the_file_is_unchanged) {
    dkim_signer signer;
    auto first = snapshot("rsa-s1.pem");
    auto a = prepared_key(signer, first, "verified.example");
    auto b = signer.key_for(first, "verified.example", false);
    ASSERT_TRUE(a && b.has_value());
    EXPECT_EQ(a.get(), b->get()) << "same snapshot: the same key";
    auto second = snapshot("rsa-s1.pem");
    auto c = prepared_key(signer, second, "verified.example");
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(a->key.get(), c->key.get()) << "file unchanged: not parsed again";
    EXPECT_EQ(signer.key_for(first, "verified.example", false)->get(), a.get()) << "the old snapshot keeps its keys";
}

TEST(dkim_signer, a_changed_key_file_is_parsed_again) {
    auto dir = std::filesystem::temp_directory_path() / ("dkim_signer_test." + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::filesystem::copy_file(keys + "rsa-s1.pem", dir / "k.pem", std::filesystem::copy_options::overwrite_existing);
    dkim_signer signer;
    auto a = prepared_key(signer, snapshot("k.pem", dir.string() + "/"), "verified.example");
    std::filesystem::copy_file(keys + "operator-op1.pem", dir / "k.pem",
                               std::filesystem::copy_options::overwrite_existing);
    auto later = std::filesystem::last_write_time(dir / "k.pem") + std::chrono::seconds(2);
    std::filesystem::last_write_time(dir / "k.pem", later);  // a new mtime even within one clock tick
    auto b = prepared_key(signer, snapshot("k.pem", dir.string() + "/"), "verified.example");
    ASSERT_TRUE(a && b);
    EXPECT_NE(a->key.get(), b->key.get());
    std::filesystem::remove_all(dir);
}

TEST(dkim_signer, a_bad_key_of_a_verified_domain_fails_prepare_naming_file_and_line) {
    dkim_signer signer;
    auto broken = signer.prepare(snapshot("broken.pem"));
    ASSERT_FALSE(broken.has_value());
    EXPECT_NE(broken.error().find("domains.conf:7: key: "), std::string::npos) << broken.error();
    EXPECT_NE(broken.error().find("broken.pem: not a PEM private key"), std::string::npos) << broken.error();
    auto missing = signer.prepare(snapshot("missing.pem"));
    ASSERT_FALSE(missing.has_value());
    EXPECT_NE(missing.error().find("missing.pem: cannot open"), std::string::npos) << missing.error();
}

TEST(dkim_signer, only_verified_domains_of_a_prepared_snapshot_have_keys) {
    dkim_signer signer;
    auto snap = snapshot("rsa-s1.pem");
    EXPECT_FALSE(signer.key_for(snap, "verified.example", false).has_value()) << "not prepared yet";
    ASSERT_TRUE(signer.prepare(snap).has_value()) << "pending.example's broken key is not read";
    EXPECT_FALSE(signer.key_for(snap, "pending.example", false).has_value());
    EXPECT_FALSE(signer.key_for(snap, "other.example", false).has_value());
    EXPECT_TRUE(signer.key_for(snap, "ed.example", false).has_value());
}

TEST(dkim_signer, operator_domains_are_signed_only_with_a_configured_key) {
    dkim_signer signer;
    EXPECT_FALSE(signer.key_for(nullptr, "relay.example.net", true).has_value());
    ASSERT_TRUE(signer.add_operator_key("relay.example.net", "op1", keys + "operator-op1.pem").has_value());
    auto key = signer.key_for(nullptr, "news.relay.example.net", true);
    ASSERT_TRUE(key.has_value()) << key.error();
    EXPECT_EQ((*key)->domain, "relay.example.net") << "a subdomain uses the parent's key";
    auto h = headers;
    h[0].second = "n@news.relay.example.net";
    EXPECT_EQ(verify(sign(signer, *key, h), h), DKIM_STAT_OK);
    EXPECT_FALSE(signer.add_operator_key("x.example", "s", keys + "broken.pem").has_value());
}

TEST(dkim_signer, small_rsa_keys_are_refused) {
    auto key = load_signing_key("x.example", "s", keys + "rsa-512.pem");
    ASSERT_FALSE(key.has_value());
    EXPECT_NE(key.error().find("512 bits"), std::string::npos) << key.error();
}

}  // namespace
}  // namespace relaygate::milter
