// spf_rfc7208_suite_itest.cpp: relaygate's SPF check against the public RFC 7208
// test suite (pyspf's YAML, installed by Debian's python3-spf; never copied here).
// rfc7208_suite.py turns each scenario's zone data into unbound lines; each
// scenario runs on its own real DNS fixture. relaygate must agree with the suite on
// pass-vs-not-pass and on temporary-vs-definitive for every applicable test; the
// exact-result figure is printed ("rfc7208 suite: ..."), not asserted.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "relaygate/harness/child_process.hpp"
#include "relaygate/harness/dns_server.hpp"
#include "relaygate/harness/temp_dir.hpp"
#include "relaygate/verify/spf_verifier.hpp"

namespace relaygate::registry {
namespace {

using namespace std::chrono_literals;

const std::string suite_file = "/usr/share/doc/python3-spf/rfc7208-tests.yml.gz";

// Tests relaygate's check cannot be asked: it evaluates check_host() for the
// MAIL FROM identity postmaster@<domain> (what a receiver computes for the
// operator's bounces), with no HELO name.
const std::map<std::string, std::string> not_applicable = {
    {"helo-not-fqdn", "HELO identity only (empty MAIL FROM)"},
    {"helo-domain-literal", "HELO identity only (empty MAIL FROM)"},
    {"mx-empty", "HELO identity only (empty MAIL FROM)"},
    {"hello-macro", "result depends on the HELO name (%{h})"},
    {"invalid-hello-macro", "result depends on the HELO name (%{h})"},
    {"hello-domain-literal", "result depends on the HELO name (%{h})"},
    {"require-valid-helo", "result depends on the HELO name (%{h})"},
    {"macro-reverse-split-on-dash", "result depends on the local part (%{l}), relaygate's is postmaster"},
    {"macro-multiple-delimiters", "result depends on the local part (%{l}), relaygate's is postmaster"},
};

struct tally {
    int applicable = 0, exact = 0, pass_agrees = 0, temp_agrees = 0;
};

nlohmann::json load_suite(const harness::temp_dir& dir) {
    if (!std::filesystem::exists(suite_file)) {
        throw std::runtime_error(suite_file + " is missing: install python3-spf (scripts/install-deps)");
    }
    auto out = (dir.path() / "suite.json").string();
    auto r = harness::run_command(
        {"python3", std::string(RELAYGATE_SOURCE_DIR) + "/tests/registry/verify/rfc7208_suite.py", suite_file, out});
    if (r.exit_code != 0) throw std::runtime_error("rfc7208_suite.py failed: " + r.output);
    std::ifstream in(out);
    return nlohmann::json::parse(in);
}

// The domain of a MAIL FROM ("a@b" -> "b"; "@b" -> "b").
std::string mail_domain(const std::string& mailfrom) {
    auto at = mailfrom.rfind('@');
    return at == std::string::npos ? mailfrom : mailfrom.substr(at + 1);
}

void run_scenario(const nlohmann::json& scenario, tally& t) {
    harness::dns_server dns({}, 0, scenario["zone"].get<std::vector<std::string>>());
    dns::resolver resolver(dns::resolver_options{.forwarders = {dns.forwarder()}, .timeout = 700ms});
    spf_verifier verifier(resolver);
    for (const auto& test : scenario["tests"]) {
        auto name = test["name"].get<std::string>();
        if (not_applicable.contains(name)) continue;
        auto expected = test["results"].get<std::set<std::string>>();
        auto r = verifier.check(mail_domain(test["mailfrom"]), test["host"].get<std::string>());
        std::string got(to_string(r.outcome));
        bool pass_agrees = false, temp_agrees = false;
        for (const auto& e : expected) {
            pass_agrees = pass_agrees || (e == "pass") == (got == "pass");
            temp_agrees = temp_agrees || (e == "temperror") == (got == "temperror");
        }
        ++t.applicable;
        t.exact += expected.contains(got) ? 1 : 0;
        t.pass_agrees += pass_agrees ? 1 : 0;
        t.temp_agrees += temp_agrees ? 1 : 0;
        std::string expected_text;
        for (const auto& e : expected) expected_text += (expected_text.empty() ? "" : "|") + e;
        auto what = scenario["description"].get<std::string>() + " / " + name + ": suite says " + expected_text +
                    ", relaygate says " + got + " (" + r.detail + ")";
        EXPECT_TRUE(pass_agrees) << what;
        EXPECT_TRUE(temp_agrees) << what;
        if (!expected.contains(got)) std::cout << "rfc7208 differs: " << what << "\n";
    }
}

TEST(spf_rfc7208_suite, agrees_with_receivers_on_every_applicable_test) {
    harness::temp_dir dir("rfc7208");
    auto suite = load_suite(dir);
    ASSERT_EQ(suite.size(), 16u) << "the suite's scenarios changed";
    tally t;
    std::size_t total = 0;
    for (const auto& scenario : suite) {
        total += scenario["tests"].size();
        run_scenario(scenario, t);
    }
    EXPECT_EQ(total, 203u) << "the suite's tests changed";
    EXPECT_EQ(t.applicable + static_cast<int>(not_applicable.size()), static_cast<int>(total))
        << "a not-applicable name is not in the suite";
    std::cout << "rfc7208 suite: " << t.applicable << " applicable of " << total << "; exact " << t.exact
              << "; pass-vs-not-pass " << t.pass_agrees << "; temp-vs-definitive " << t.temp_agrees << "\n";
}

}  // namespace
}  // namespace relaygate::registry
