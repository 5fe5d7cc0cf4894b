// relaygate-admin, run as the real binary: lint, records, status and the
// global/command help and exit codes (0 ok, 1 not verified, 2 usage/config
// error, 3 temporary). Files live in a temporary directory; keys are the
// golden test keys in tests/testdata/keys/admin/.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <ctime>

#include "relaygate/harness/child_process.hpp"
#include "relaygate/harness/dns_server.hpp"
#include "relaygate/harness/temp_dir.hpp"
#include "relaygate/registry/state_store.hpp"

namespace relaygate::registry {
namespace {

using harness::read_file;
using harness::write_file;

const std::string admin_binary = RELAYGATE_BINARY_DIR "/admin/relaygate-admin";
const std::string keys = RELAYGATE_SOURCE_DIR "/tests/testdata/keys/admin/";

std::string golden(const std::string& name) { return read_file(keys + name); }

class relaygate_admin : public testing::Test {
protected:
    harness::temp_dir dir{"admin-itest"};
    std::string config = (dir / "relaygate.conf").string();
    std::string domains = (dir / "domains.conf").string();
    std::string state = (dir / "state.json").string();

    void SetUp() override {
        write_file(config, "admin-file = " + domains + "\nstate-file = " + state +
                               "\noutbound-ip = 192.0.2.10\noutbound-ip = 2001:DB8::25\nspare-ip = 192.0.2.11\n"
                               "operator-domain = relay.example.net\n");
        write_file(domains,
                   "# test customers\n"
                   "a.example selector=s1 key=" +
                       keys +
                       "rsa2048.pem owner=\"A Corp <ops@a.example>\"\n"
                       "B\xc3\xbc"
                       "cher.example selector=ed key=" +
                       keys + "ed25519.pem owner=b sasl=b1\n");
    }

    harness::command_result admin(std::vector<std::string> args) {
        args.insert(args.begin(), {admin_binary, "--config", config, "--log-sink", "stderr"});
        return harness::run_command(args, std::chrono::seconds(60));
    }
};

TEST_F(relaygate_admin, lint_passes_on_good_files) {
    auto r = admin({"lint"});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("admin file: " + domains + ": ok, 2 domains"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("keys: 2 held keys: ok"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("lint: ok"), std::string::npos) << r.output;
}

TEST_F(relaygate_admin, lint_lists_every_admin_file_error_with_line_and_field) {
    write_file(domains,
               "a.example selector=s1 key=/k owner=o\n"
               "b.example selector=s1 key=relative owner=o\n"
               "c.example selector=s1 key=/k owner=o colour=red\n"
               "A.EXAMPLE. selector=s2 key=/k owner=o\n");
    auto r = admin({"lint"});
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find(domains + ":2: key: 'relative': must be an absolute path"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(domains + ":3: colour: unknown field"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(domains + ":4: domain: a.example is already defined at line 1"), std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find("lint: 3 problems"), std::string::npos) << r.output;
}

TEST_F(relaygate_admin, lint_refuses_unreadable_and_too_short_keys) {
    write_file(domains, "a.example selector=s1 key=" + keys +
                            "rsa512.pem owner=o\n"
                            "b.example selector=s1 key=" +
                            (dir / "missing.pem").string() + " owner=o\n");
    auto r = admin({"lint"});
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find(domains + ":1: key: RSA key of 512 bits (allowed: 1024 to 4096)"), std::string::npos)
        << r.output;
    EXPECT_NE(r.output.find(domains + ":2: key: "), std::string::npos) << r.output;
    auto without_keys = admin({"lint", "--no-keys"});
    EXPECT_EQ(without_keys.exit_code, 0) << without_keys.output;
}

TEST_F(relaygate_admin, a_bad_config_key_is_a_usage_error_naming_file_line_and_key) {
    write_file(config, read_file(config) + "# typo below\ngrace-priod = 1d\n");
    auto r = admin({"lint"});
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find(config + ":8: key 'grace-priod': unknown key"), std::string::npos) << r.output;
    write_file(config, "admin-file = " + domains + "\nstate-file = " + state + "\noutbound-ip = 192.0.2.300\n");
    r = admin({"lint"});
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find(config + ":3: key 'outbound-ip': '192.0.2.300'"), std::string::npos) << r.output;
}

TEST_F(relaygate_admin, a_corrupt_state_file_is_reported) {
    write_file(state, "{\"version\":1,");
    auto r = admin({"lint"});
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find(state + ": corrupt state file"), std::string::npos) << r.output;
    auto s = admin({"status"});
    EXPECT_EQ(s.exit_code, 2) << s.output;
}

TEST_F(relaygate_admin, records_prints_the_dkim_key_of_the_held_rsa_key_and_spf_for_every_ip) {
    auto r = admin({"records", "a.example"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("Name:  s1._domainkey.a.example"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("Value: v=DKIM1; k=rsa; p=" + golden("rsa2048.p") + "\n"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("Value: v=spf1 ip4:192.0.2.10 ip6:2001:db8::25 ip4:192.0.2.11 ~all"), std::string::npos)
        << r.output;
}

TEST_F(relaygate_admin, records_zone_text_splits_the_dkim_value_into_strings_of_at_most_255_bytes) {
    auto r = admin({"records", "--zone", "a.example"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const std::string head = "s1._domainkey.a.example. IN TXT ( ";
    ASSERT_EQ(r.output.rfind(head, 0), 0u) << r.output;
    auto line = r.output.substr(head.size(), r.output.find(" )\n") - head.size());
    std::string joined;
    std::size_t strings = 0;
    for (std::size_t pos = 0; pos < line.size();) {
        ASSERT_EQ(line[pos], '"') << line;
        auto close = line.find('"', pos + 1);
        ASSERT_NE(close, std::string::npos);
        EXPECT_LE(close - pos - 1, 255u);
        joined += line.substr(pos + 1, close - pos - 1);
        ++strings;
        pos = close + 2;
    }
    EXPECT_GE(strings, 2u) << "a 2048-bit key does not fit in one string";
    EXPECT_EQ(joined, "v=DKIM1; k=rsa; p=" + golden("rsa2048.p"));
    EXPECT_NE(r.output.find("a.example. IN TXT \"v=spf1 ip4:192.0.2.10 ip6:2001:db8::25 ip4:192.0.2.11 ~all\""),
              std::string::npos)
        << r.output;
}

TEST_F(relaygate_admin, records_gives_the_raw_ed25519_key_and_accepts_the_unicode_name) {
    auto r = admin({"records",
                    "b\xc3\xbc"
                    "cher.example"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("Name:  ed._domainkey.xn--bcher-kva.example"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("Value: v=DKIM1; k=ed25519; p=" + golden("ed25519.p") + "\n"), std::string::npos)
        << r.output;
}

TEST_F(relaygate_admin, records_of_an_unregistered_domain_is_a_usage_error) {
    auto r = admin({"records", "nope.example"});
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("nope.example is not registered in " + domains), std::string::npos) << r.output;
    EXPECT_EQ(admin({"records"}).exit_code, 2) << "the domain is required";
}

TEST_F(relaygate_admin, status_exits_1_until_every_domain_is_verified) {
    auto r = admin({"status"});
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("2 domains: 0 verified, 0 failed, 2 pending"), std::string::npos) << r.output;

    state_map states;
    states["a.example"] = {
        .state = verification_state::verified, .last_checked = 1764612000, .verified_since = 1764500000};
    states["xn--bcher-kva.example"] = {.state = verification_state::verified,
                                       .reason_code = "spf_fail",
                                       .reason_text = "192.0.2.11: fail",
                                       .last_checked = 1764612000,
                                       .verified_since = 1764500000,
                                       .failing_since = 1764600000};
    ASSERT_TRUE(write_state_file(state, states));
    r = admin({"status"});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("in grace period; demoted at 2025-12-02T14:40:00Z"), std::string::npos) << r.output;

    r = admin({"status", "--json", "xn--bcher-kva.example"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    auto doc = nlohmann::json::parse(r.output.substr(r.output.find('{')));
    ASSERT_EQ(doc["domains"].size(), 1u);
    EXPECT_EQ(doc["domains"][0]["state"], "verified");
    EXPECT_EQ(doc["domains"][0]["reason"], "spf_fail");
    EXPECT_EQ(doc["domains"][0]["in_grace"], true);
    EXPECT_EQ(doc["domains"][0]["demote_at"], 1764600000 + 86400);
    EXPECT_EQ(doc["summary"]["verified"], 1);
}

TEST_F(relaygate_admin, help_and_usage_errors_have_their_exit_codes) {
    auto help = admin({"--help"});
    EXPECT_EQ(help.exit_code, 0);
    for (const char* name : {"verify", "status", "records", "lint", "exit codes"}) {
        EXPECT_NE(help.output.find(name), std::string::npos) << help.output;
    }
    auto verify_help = admin({"verify", "--help"});
    EXPECT_EQ(verify_help.exit_code, 0);
    EXPECT_NE(verify_help.output.find("--dry-run"), std::string::npos) << verify_help.output;
    EXPECT_EQ(admin({"help", "records"}).exit_code, 0);
    EXPECT_EQ(admin({}).exit_code, 2) << "no command";
    EXPECT_EQ(admin({"frobnicate"}).exit_code, 2);
    EXPECT_EQ(admin({"status", "--no-such-flag"}).exit_code, 2);
    auto missing = harness::run_command({admin_binary, "--config", (dir / "absent.conf").string(), "lint"});
    EXPECT_EQ(missing.exit_code, 2);
    EXPECT_NE(missing.output.find("absent.conf: cannot open config file"), std::string::npos) << missing.output;
}

}  // namespace
}  // namespace relaygate::registry

// ---- verify against the real DNS fixture (tests/harness dns_server: unbound on loopback) ----

namespace relaygate::registry {
namespace {

// A TXT record as unbound local-data, its value cut into strings of at most 255 bytes.
std::string txt(const std::string& name, const std::string& value) {
    std::string strings;
    for (std::size_t i = 0; i < value.size(); i += 255) strings += " \"" + value.substr(i, 255) + "\"";
    return "local-data: '" + name + " 300 IN TXT" + strings + "'";
}

std::vector<std::string> admin_zone() {
    const std::string spf_all = "v=spf1 ip4:192.0.2.10 ip6:2001:db8::25 ip4:192.0.2.11 -all";
    const std::string rsa = "v=DKIM1; k=rsa; p=" + golden("rsa2048.p");
    return {"local-zone: \"admin.test.\" static",
            "local-data: \"admin.test. 3600 IN SOA ns.admin.test. hostmaster.admin.test. 1 3600 600 86400 60\"",
            txt("s1._domainkey.good.admin.test.", rsa),
            txt("good.admin.test.", spf_all),
            txt("_dmarc.good.admin.test.", "v=DMARC1; p=reject"),
            txt("ed._domainkey.ed.admin.test.", "v=DKIM1; k=ed25519; p=" + golden("ed25519.p")),
            txt("ed.admin.test.", spf_all),
            txt("s1._domainkey.spffail.admin.test.", rsa),
            txt("spffail.admin.test.", "v=spf1 ip4:192.0.2.10 ip6:2001:db8::25 -all")};
}

class relaygate_admin_verify : public relaygate_admin {
protected:
    harness::dns_server dns{{}, 0, admin_zone()};

    void SetUp() override {
        relaygate_admin::SetUp();
        write_file(config, read_file(config) + "dns-forwarder = " + dns.forwarder() + "\ndns-timeout-ms = 1000\n" +
                               "grace-period = 1d\n");
        write_file(domains, "good.admin.test selector=s1 key=" + keys + "rsa2048.pem owner=g\n" +
                                "ed.admin.test selector=ed key=" + keys + "ed25519.pem owner=e\n" +
                                "spffail.admin.test selector=s1 key=" + keys + "rsa2048.pem owner=s\n" +
                                "dnsdown.servfail.test selector=s1 key=" + keys + "rsa2048.pem owner=d\n");
    }
    verification_status state_of(const std::string& domain) {
        auto states = read_state_file(state);
        EXPECT_TRUE(states) << states.error();
        return states && states->count(domain) ? states->at(domain) : verification_status{};
    }
};

TEST_F(relaygate_admin_verify, verifies_each_domain_prints_each_ip_and_records_the_state) {
    auto r = admin({"verify"});
    EXPECT_EQ(r.exit_code, 1) << "spffail is not verified\n" << r.output;
    EXPECT_NE(r.output.find("good.admin.test: verified\n"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("DKIM   s1._domainkey.good.admin.test: match"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("SPF    2001:db8::25: pass"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("DMARC  p=reject"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("ed.admin.test: verified\n"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("spffail.admin.test: NOT verified: spf_fail"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("SPF    192.0.2.11: fail"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("dnsdown.servfail.test: temporary failure"), std::string::npos) << r.output;

    EXPECT_EQ(state_of("good.admin.test").state, verification_state::verified);
    EXPECT_EQ(state_of("ed.admin.test").state, verification_state::verified);
    EXPECT_EQ(state_of("spffail.admin.test").state, verification_state::failed);
    EXPECT_EQ(state_of("spffail.admin.test").reason_code, "spf_fail");
    auto down = state_of("dnsdown.servfail.test");
    EXPECT_EQ(down.state, verification_state::pending) << "a temporary failure leaves pending pending";
    EXPECT_TRUE(down.temporary_failure);

    auto status = admin({"status"});
    EXPECT_EQ(status.exit_code, 1);
    EXPECT_NE(status.output.find("4 domains: 2 verified, 1 failed, 1 pending"), std::string::npos) << status.output;
}

TEST_F(relaygate_admin_verify, exit_codes_tell_verified_from_temporary) {
    auto good = admin({"verify", "good.admin.test", "ed.admin.test"});
    EXPECT_EQ(good.exit_code, 0) << good.output;
    auto down = admin({"verify", "dnsdown.servfail.test"});
    EXPECT_EQ(down.exit_code, 3) << down.output;
    auto unknown = admin({"verify", "other.admin.test"});
    EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
}

TEST_F(relaygate_admin_verify, dry_run_leaves_the_state_file_alone) {
    auto r = admin({"verify", "--dry-run", "good.admin.test"});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(read_file(state), "") << "no state file written";
}

TEST_F(relaygate_admin_verify, a_verified_domain_is_demoted_only_after_the_grace_period) {
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    state_map states;
    // failing for an hour: still in grace. failing for two days: demoted now.
    states["spffail.admin.test"] = {.state = verification_state::verified,
                                    .last_checked = now - 3600,
                                    .verified_since = now - 10 * 86400,
                                    .failing_since = now - 3600};
    ASSERT_TRUE(write_state_file(state, states));
    auto r = admin({"verify", "spffail.admin.test"});
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("state verified -> verified (in_grace, demoted at"), std::string::npos) << r.output;
    EXPECT_EQ(state_of("spffail.admin.test").state, verification_state::verified);

    states["spffail.admin.test"].failing_since = now - 2 * 86400;
    ASSERT_TRUE(write_state_file(state, states));
    r = admin({"verify", "spffail.admin.test"});
    EXPECT_NE(r.output.find("state verified -> failed (demoted)"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("registry_demoted domain=spffail.admin.test reason=spf_fail"), std::string::npos)
        << "the demotion is logged\n"
        << r.output;
    EXPECT_EQ(state_of("spffail.admin.test").state, verification_state::failed);
}

TEST_F(relaygate_admin_verify, a_temporary_dns_failure_never_demotes_a_verified_domain) {
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    state_map states;
    states["dnsdown.servfail.test"] = {.state = verification_state::verified,
                                       .last_checked = now - 3600,
                                       .verified_since = now - 30 * 86400,
                                       .failing_since = now - 20 * 86400};
    ASSERT_TRUE(write_state_file(state, states));
    auto r = admin({"verify", "dnsdown.servfail.test"});
    EXPECT_EQ(r.exit_code, 3) << r.output;
    auto st = state_of("dnsdown.servfail.test");
    EXPECT_EQ(st.state, verification_state::verified) << r.output;
    EXPECT_TRUE(st.temporary_failure);
}

}  // namespace
}  // namespace relaygate::registry
