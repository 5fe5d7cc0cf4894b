// dkim_corpus: every message of tests/testdata/milter/dkim-corpus is signed by
// relaygate's signer with RSA-2048 and Ed25519 in all four canonicalizations;
// each signature must verify with libopendkim AND with dkimpy (an independent
// implementation, Debian's python3-dkim), and libopendkim's canonical header
// and body data (its kept temporary files) must equal ours byte for byte.
// Headers reach the signer as Postfix hands them to a milter: name, value
// without the leading white space, folds as "\n" + WSP; the body in odd chunks.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "relaygate/milter/dkim_canon.hpp"
#include "relaygate/milter/dkim_signer.hpp"

#define _Bool bool
#include <opendkim/dkim.h>
#undef _Bool

namespace relaygate::milter {
namespace {

namespace fs = std::filesystem;
const std::string testdata = std::string(RELAYGATE_SOURCE_DIR) + "/tests/testdata/milter/";
const std::string records = testdata + "keys/dkim-keys.txt";

std::string read_file(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

struct message {
    std::string name;
    std::vector<std::pair<std::string, std::string>> headers;  // as the milter gets them
    std::string header_block;                                  // the original bytes, each field with CRLF
    std::string body;
};

message parse_eml(const fs::path& p) {
    message m{p.stem().string(), {}, {}, {}};
    const std::string raw = read_file(p);
    const auto end = raw.find("\r\n\r\n");
    m.header_block = raw.substr(0, end + 2);
    m.body = raw.substr(end + 4);
    std::istringstream lines(m.header_block);
    for (std::string line; std::getline(lines, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        if (line[0] == ' ' || line[0] == '\t') {
            m.headers.back().second += "\n" + line;  // Postfix hands folds with LF
            continue;
        }
        auto colon = line.find(':');
        auto value = line.substr(colon + 1);
        value.erase(
            0, value.find_first_not_of(" \t") == std::string::npos ? value.size() : value.find_first_not_of(" \t"));
        m.headers.emplace_back(line.substr(0, colon), value);
    }
    return m;
}

std::string crlf(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '\n') out += '\r';
        out += c;
    }
    return out;
}

// The signed message as a verifier receives it. With simple header
// canonicalization the fields are rebuilt as "name: value" (what the signer
// was given); relaxed is checked against the original bytes.
std::string wire(const message& m, const std::string& sig, bool rebuilt) {
    std::string out = "DKIM-Signature: " + crlf(sig) + "\r\n";
    if (rebuilt) {
        for (const auto& [n, v] : m.headers) out += n + ": " + crlf(v) + "\r\n";
    } else {
        out += m.header_block;
    }
    return out + "\r\n" + m.body;
}

std::string sign(const dkim_signer& signer, const std::shared_ptr<const signing_key>& key, const message& m) {
    auto s = signer.start(key);
    for (const auto& [n, v] : m.headers) s->header(n, v);
    s->end_of_headers();
    std::size_t at = 0;
    for (std::size_t step = 1; at < m.body.size(); step = step % 97 + 1) {  // chunks of 1..97 bytes
        s->body(std::string_view(m.body).substr(at, step));
        at += step;
    }
    auto sig = s->finish();
    EXPECT_TRUE(sig.has_value()) << sig.error();
    return sig.has_value() ? *sig : std::string();
}

struct opendkim_result {
    DKIM_STAT status;
    std::string canonical_headers, canonical_body;  // from its kept temporary files
};

opendkim_result opendkim_verify(const std::string& msg, const fs::path& tmp) {
    fs::remove_all(tmp);
    fs::create_directories(tmp);
    DKIM_LIB* lib = dkim_init(nullptr, nullptr);
    dkim_query_t method = DKIM_QUERY_FILE;
    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYMETHOD, &method, sizeof method);
    std::string file = records;
    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYINFO, file.data(), file.size());
    std::string dir = tmp.string();
    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_TMPDIR, dir.data(), dir.size());
    unsigned int flags = DKIM_LIBFLAGS_FIXCRLF | DKIM_LIBFLAGS_TMPFILES | DKIM_LIBFLAGS_KEEPFILES;
    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof flags);
    DKIM_STAT st;
    DKIM* d = dkim_verify(lib, reinterpret_cast<const u_char*>("corpus"), nullptr, &st);
    std::string copy = msg;
    dkim_chunk(d, reinterpret_cast<u_char*>(copy.data()), copy.size());
    dkim_chunk(d, nullptr, 0);
    opendkim_result r{dkim_eom(d, nullptr), {}, {}};
    dkim_free(d);
    dkim_close(lib);
    // Two files: the header data ends with the signature's "b=", the body data does not.
    for (const auto& f : fs::directory_iterator(tmp)) {
        std::string data = read_file(f.path());
        (data.ends_with("b=") ? r.canonical_headers : r.canonical_body) = data;
    }
    return r;
}

// Our canonical header data for a signature: the selected headers, then the
// DKIM-Signature field with an empty b= and no CRLF.
std::string our_canonical_headers(const message& m, const std::string& sig, dkim_canon c) {
    std::string out;
    for (std::size_t i : select_headers(m.headers).order)
        canonical_header(c, m.headers[i].first, m.headers[i].second, out);
    canonical_header(c, "DKIM-Signature", sig.substr(0, sig.rfind("\tb=") + 3), out);
    out.resize(out.size() - 2);
    return out;
}

std::shared_ptr<const registry::domain_registry> corpus_snapshot() {
    const std::string keys = testdata + "keys/";
    std::vector<registry::domain_entry> e{
        {.domain = "verified.example", .selector = "s1", .key_path = keys + "rsa-s1.pem"},
        {.domain = "ed.example", .selector = "s2", .key_path = keys + "ed-s2.pem"}};
    registry::verification_status ok{.state = registry::verification_state::verified};
    return std::make_shared<const registry::domain_registry>(
        std::move(e),
        std::unordered_map<std::string, registry::verification_status>{{"verified.example", ok}, {"ed.example", ok}},
        std::vector<std::string>{});
}

TEST(dkim_corpus, every_signature_verifies_with_libopendkim_and_dkimpy_and_canonical_forms_match) {
    std::vector<message> corpus;
    for (const auto& f : fs::directory_iterator(testdata + "dkim-corpus")) {
        if (f.path().extension() == ".eml") corpus.push_back(parse_eml(f.path()));
    }
    ASSERT_GE(corpus.size(), 11u);
    const fs::path out = fs::temp_directory_path() / ("dkim_corpus." + std::to_string(::getpid()));
    fs::create_directories(out);
    auto snap = corpus_snapshot();
    std::vector<std::string> signed_files;
    for (const char* domain : {"verified.example", "ed.example"}) {
        for (auto hc : {dkim_canon::relaxed, dkim_canon::simple}) {
            for (auto bc : {dkim_canon::relaxed, dkim_canon::simple}) {
                dkim_signer signer;
                signer.set_options({.header = hc, .body = bc});
                ASSERT_TRUE(signer.prepare(snap).has_value());
                auto key = signer.key_for(snap, domain, false);
                ASSERT_TRUE(key.has_value()) << key.error();
                for (const auto& m : corpus) {
                    const std::string label =
                        m.name + "." + domain + "." + std::string(to_string(hc)) + "-" + std::string(to_string(bc));
                    SCOPED_TRACE(label);
                    const std::string sig = sign(signer, *key, m);
                    const std::string msg = wire(m, sig, hc == dkim_canon::simple);
                    auto r = opendkim_verify(msg, out / "opendkim");
                    EXPECT_EQ(r.status, DKIM_STAT_OK) << msg;
                    EXPECT_EQ(r.canonical_headers, our_canonical_headers(m, sig, hc));
                    EXPECT_EQ(r.canonical_body, canonical_body(bc, m.body));
                    std::ofstream(out / (label + ".eml"), std::ios::binary) << msg;
                    signed_files.push_back((out / (label + ".eml")).string());
                }
            }
        }
    }
    std::string cmd =
        "/usr/bin/python3 " + std::string(RELAYGATE_SOURCE_DIR) + "/tests/milter/dkimpy_verify.py " + records;
    for (const auto& f : signed_files) cmd += " " + f;
    FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string report;
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) report.append(buf, n);
    const int rc = ::pclose(p);
    EXPECT_EQ(rc, 0) << report;
    for (const auto& f : signed_files)
        EXPECT_NE(report.find("ok " + f + "\n"), std::string::npos) << f << "\n" << report;
    fs::remove_all(out);
}

}  // namespace
}  // namespace relaygate::milter
