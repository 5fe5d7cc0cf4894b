// admin_core through its injected environment: relaygate-admin's commands run
// in process on string streams and a fixed clock — status (table, JSON, exit
// codes), records, check (the milter's verdict and its exit codes), egress
// set/show (the flip is stamped with the injected clock), lint, and the global
// usage errors. Files live in a temporary directory; the keys are the golden
// test keys in tests/testdata/keys/admin/. The binary itself is run by
// relaygate_admin_itest.cpp.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <sstream>

#include "relaygate/admin/admin_command.hpp"
#include "relaygate/harness/child_process.hpp"
#include "relaygate/harness/temp_dir.hpp"
#include "relaygate/registry/state_store.hpp"

namespace relaygate::admin {
namespace {

using harness::write_file;
using registry::verification_state;

const std::string keys = RELAYGATE_SOURCE_DIR "/tests/testdata/keys/admin/";
constexpr std::int64_t fixed_now = 1764612000;  // 2025-12-01T18:00:00Z

struct outcome {
    int exit_code;
    std::string out, err;
};

class admin_cli : public testing::Test {
protected:
    harness::temp_dir dir{"admin-unit"};
    std::string config = (dir / "relaygate.conf").string();
    std::string domains = (dir / "domains.conf").string();
    std::string state = (dir / "state.json").string();
    std::string egress = (dir / "egress.json").string();

    void SetUp() override {
        write_file(config, "admin-file = " + domains + "\nstate-file = " + state +
                               "\noutbound-ip = 192.0.2.10\noutbound-ip = 2001:DB8::25\nspare-ip = 192.0.2.11\n"
                               "operator-domain = relay.example.net\n");
        write_file(domains, "a.example selector=s1 key=" + keys +
                                "rsa2048.pem owner=\"A Corp <ops@a.example>\"\n"
                                "b.example selector=ed key=" +
                                keys + "ed25519.pem owner=b sasl=b1\n");
    }

    outcome admin(std::vector<std::string> args) {
        std::ostringstream out, err;
        args.insert(args.begin(), {"--config", config, "--log-sink", "stderr"});
        int rc = run(args, {.out = out, .err = err, .now = [] { return fixed_now; }});
        return {rc, out.str(), err.str()};
    }

    void verify_both() {
        registry::state_map states;
        states["a.example"] = {
            .state = verification_state::verified, .last_checked = fixed_now, .verified_since = 1764500000};
        states["b.example"] = {
            .state = verification_state::verified, .last_checked = fixed_now, .verified_since = 1764500000};
        ASSERT_TRUE(write_state_file(state, states));
    }
};

TEST_F(admin_cli, status_prints_one_row_per_domain_and_exits_1_while_one_is_pending) {
    auto r = admin({"status"});
    EXPECT_EQ(r.exit_code, exit_not_verified) << r.err;
    EXPECT_NE(r.out.find("a.example                        pending   -                    never                -"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("2 domains: 0 verified, 0 failed, 2 pending"), std::string::npos) << r.out;
}

TEST_F(admin_cli, status_exits_0_once_every_domain_is_verified_and_shows_since_when) {
    verify_both();
    auto r = admin({"status", "a.example"});
    EXPECT_EQ(r.exit_code, exit_ok) << r.err;
    EXPECT_NE(r.out.find("verified  2025-11-30T10:53:20Z 2025-12-01T18:00:00Z -"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("1 domains: 1 verified, 0 failed, 0 pending"), std::string::npos) << r.out;
}

TEST_F(admin_cli, status_json_has_the_summary) {
    auto r = admin({"status", "--json"});
    ASSERT_EQ(r.exit_code, exit_not_verified) << r.err;
    auto doc = nlohmann::json::parse(r.out);
    EXPECT_EQ(doc["domains"].size(), 2u);
    EXPECT_EQ(doc["summary"]["pending"], 2);
}

TEST_F(admin_cli, status_of_an_unregistered_domain_is_a_usage_error) {
    auto r = admin({"status", "nope.example"});
    EXPECT_EQ(r.exit_code, exit_usage);
    EXPECT_NE(r.err.find("nope.example is not registered in " + domains), std::string::npos) << r.err;
}

TEST_F(admin_cli, records_gives_the_dkim_name_and_an_spf_mechanism_for_every_outbound_ip) {
    auto r = admin({"records", "a.example"});
    EXPECT_EQ(r.exit_code, exit_ok) << r.err;
    EXPECT_NE(r.out.find("Name:  s1._domainkey.a.example"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Value: v=DKIM1; k=rsa; p="), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Value: v=spf1 ip4:192.0.2.10 ip6:2001:db8::25 ip4:192.0.2.11 ~all"), std::string::npos)
        << r.out;
}

struct check_case {
    std::string name;
    std::vector<std::string> args;
    int exit_code;
    std::string first_line;
};

void PrintTo(const check_case& c, std::ostream* os) { *os << c.name; }

class admin_check : public admin_cli, public testing::WithParamInterface<check_case> {};

TEST_P(admin_check, prints_the_milters_verdict_and_exits_with_its_code) {
    const auto& c = GetParam();
    verify_both();
    std::vector<std::string> args{"check"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = admin(args);
    EXPECT_EQ(r.exit_code, c.exit_code) << r.out << r.err;
    EXPECT_EQ(r.out.substr(0, r.out.find('\n')), c.first_line) << r.out;
}

INSTANTIATE_TEST_SUITE_P(
    verdicts, admin_check,
    testing::Values(check_case{"an_operator_domain_is_accepted", {"n@relay.example.net"}, exit_ok, "accept reason=ok"},
                    check_case{"a_verified_domain_is_accepted", {"News <n@a.example>"}, exit_ok, "accept reason=ok"},
                    check_case{"an_unregistered_domain_is_rejected",
                               {"n@nope.example"},
                               exit_not_verified,
                               "reject reason=not_registered domain=nope.example"},
                    check_case{"a_domain_restricted_to_a_login_is_rejected_without_it",
                               {"n@b.example"},
                               exit_not_verified,
                               "reject reason=sasl_not_allowed domain=b.example"},
                    check_case{"the_login_that_may_use_it_is_accepted",
                               {"n@b.example", "--sasl", "b1"},
                               exit_ok,
                               "accept reason=ok"},
                    check_case{"a_missing_from_argument_is_a_usage_error", {}, exit_usage, ""}),
    [](const auto& info) { return info.param.name; });

TEST_F(admin_cli, egress_set_stamps_the_flip_with_the_injected_clock_and_show_reads_it_back) {
    auto set = admin({"egress", "--egress-state-file", egress, "set", "microsoft", "msft-spare", "--reason", "test"});
    ASSERT_EQ(set.exit_code, exit_ok) << set.err;
    EXPECT_NE(set.out.find("microsoft -> msft-spare"), std::string::npos) << set.out;
    auto show = admin({"egress", "--egress-state-file", egress, "show"});
    EXPECT_EQ(show.exit_code, exit_ok) << show.err;
    EXPECT_NE(show.out.find("microsoft   msft-spare      2025-12-01T18:00:00Z  test"), std::string::npos) << show.out;
    auto json = admin({"egress", "--egress-state-file", egress, "show", "--json"});
    EXPECT_EQ(nlohmann::json::parse(json.out)[0]["since"], fixed_now) << json.out;
}

TEST_F(admin_cli, egress_with_a_bad_transport_name_is_a_usage_error) {
    auto r = admin({"egress", "--egress-state-file", egress, "set", "microsoft", "msft spare"});
    EXPECT_EQ(r.exit_code, exit_usage);
    EXPECT_NE(r.err.find("bad family or transport name"), std::string::npos) << r.err;
}

TEST_F(admin_cli, lint_passes_on_good_files_and_fails_on_a_bad_line) {
    auto ok = admin({"lint"});
    EXPECT_EQ(ok.exit_code, exit_ok) << ok.err;
    EXPECT_NE(ok.out.find("lint: ok"), std::string::npos) << ok.out;
    write_file(domains, "a.example selector=s1\n");
    auto bad = admin({"lint"});
    EXPECT_EQ(bad.exit_code, exit_usage);
    EXPECT_NE(bad.err.find(domains + ":1:"), std::string::npos) << bad.err;
}

// check-url and scan read the [milter] url-* keys of the same config with the milter's parser.
TEST_F(admin_cli, check_url_explains_host_domain_and_shortener_finding) {
    const std::string shorteners = (dir / "shorteners").string();
    write_file(shorteners, "bit.ly\n");
    write_file(config, harness::read_file(config) + "[milter]\nurl-shortener-file = " + shorteners +
                           "\nurl-shortener-action = reject\n");
    auto r = admin({"check-url", "http://news.example@WWW.BIT.LY./x"});
    EXPECT_EQ(r.exit_code, exit_not_verified) << r.err;
    EXPECT_NE(r.out.find("host: www.bit.ly  registrable domain: bit.ly"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("finding: shortener bit.ly"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("reply: 550 5.7.1 Message refused: a link to bit.ly (shortener)"), std::string::npos) << r.out;
    auto clean = admin({"check-url", "https://clean.example/"});
    EXPECT_EQ(clean.exit_code, exit_ok) << clean.err;
    EXPECT_NE(clean.out.find("action: pass"), std::string::npos) << clean.out;
}

TEST_F(admin_cli, scan_lists_every_url_of_a_message) {
    write_file(config, harness::read_file(config) + "[milter]\nurl-shortener-file = " +
                           std::string(RELAYGATE_SOURCE_DIR) + "/postfix-conf/url-shorteners\n");
    auto r = admin({"scan", std::string(RELAYGATE_SOURCE_DIR) + "/tests/testdata/milter/url-corpus/base64-html.eml"});
    EXPECT_EQ(r.exit_code, exit_ok) << r.err;
    EXPECT_NE(r.out.find("url: https://bit.ly/3abcDEF"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("url: http://clean.example/"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("scanned: fully, 2 URLs, 2 domains"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("header: X-Relaygate-URL-Risk: shortener=bit.ly"), std::string::npos) << r.out;
    EXPECT_EQ(admin({"scan", (dir / "missing.eml").string()}).exit_code, exit_usage);
}

TEST_F(admin_cli, usage_errors_exit_2_and_help_exits_0) {
    EXPECT_EQ(admin({"frobnicate"}).exit_code, exit_usage);
    EXPECT_NE(admin({"frobnicate"}).err.find("unknown command 'frobnicate'"), std::string::npos);
    std::ostringstream out, err;
    EXPECT_EQ(run({}, {.out = out, .err = err, .now = [] { return fixed_now; }}), exit_usage);
    EXPECT_NE(err.str().find("usage: relaygate-admin"), std::string::npos) << err.str();
    auto help = admin({"--help"});
    EXPECT_EQ(help.exit_code, exit_ok);
    EXPECT_NE(help.out.find("exit codes:"), std::string::npos) << help.out;
    auto status_help = admin({"help", "status"});
    EXPECT_EQ(status_help.exit_code, exit_ok);
    EXPECT_NE(status_help.out.find("--json"), std::string::npos) << status_help.out;
}

TEST_F(admin_cli, a_bad_config_key_names_file_line_and_key) {
    write_file(config, "admin-file = " + domains + "\nno-such-key = 1\n");
    auto r = admin({"status"});
    EXPECT_EQ(r.exit_code, exit_usage);
    EXPECT_NE(r.err.find(config + ":2"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("no-such-key"), std::string::npos) << r.err;
}

TEST_F(admin_cli, a_state_file_that_cannot_be_read_is_a_usage_error_naming_it) {
    std::filesystem::create_directory(state);
    auto r = admin({"status"});
    EXPECT_EQ(r.exit_code, exit_usage) << r.out;
    EXPECT_NE(r.err.find(state), std::string::npos) << r.err;
}

}  // namespace
}  // namespace relaygate::admin
