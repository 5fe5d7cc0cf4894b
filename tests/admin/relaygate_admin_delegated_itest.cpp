// relaygate_admin_delegated_itest.cpp: the owner's records that survive a change of
// the relay's IPs or keys, through the real relaygate-admin and the DNS fixture:
// what `records --zone --delegated` prints is published as printed (DKIM by a CNAME
// to a name the operator hosts, SPF by include: of the operator's record), and
// `verify` verifies the domain through both, also after the relay adds an IP;
// `lint` checks the operator's include record against every outbound IP.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "relaygate/harness/child_process.hpp"
#include "relaygate/harness/dns_server.hpp"
#include "relaygate/harness/temp_dir.hpp"

namespace relaygate::registry {
namespace {

const std::string admin_binary = RELAYGATE_BINARY_DIR "/admin/relaygate-admin";
const std::string keys = RELAYGATE_SOURCE_DIR "/tests/testdata/keys/admin/";

void write(const std::filesystem::path& p, const std::string& text) { std::ofstream(p) << text; }

// Zone-file lines as printed by `records --zone` ("name. IN TYPE rdata", "( … )"
// around split TXT strings, ";" comments) -> unbound local-data lines.
std::vector<std::string> as_unbound(const std::string& zone_text) {
    std::vector<std::string> out;
    std::istringstream in(zone_text);
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == ';') continue;
        for (const char* paren : {"( ", " )"}) {
            if (auto p = line.find(paren); p != std::string::npos) line.erase(p, 2);
        }
        auto in_pos = line.find(" IN ");
        out.push_back("local-data: '" + line.substr(0, in_pos) + " 300" + line.substr(in_pos) + "'");
    }
    return out;
}

class relaygate_admin_delegated : public testing::Test {
protected:
    harness::temp_dir dir{"admin-delegated"};
    std::string config = (dir.path() / "relaygate.conf").string();

    void SetUp() override {
        auto domains = (dir.path() / "domains.conf").string();
        write(config, "admin-file = " + domains + "\nstate-file = " + (dir.path() / "state.json").string() +
                          "\noutbound-ip = 192.0.2.10\noutbound-ip = 2001:DB8::25\nspare-ip = 192.0.2.11\n"
                          "operator-domain = relay.example.net\ndns-timeout-ms = 1000\n");
        write(domains, "deleg.admin.test selector=s1 key=" + keys + "rsa2048.pem owner=d\n");
    }

    harness::command_result admin(std::vector<std::string> args) {
        args.insert(args.begin(), {admin_binary, "--config", config, "--log-sink", "stderr"});
        return harness::run_command(args, std::chrono::seconds(60));
    }
};

TEST_F(relaygate_admin_delegated, records_offer_the_cname_and_include_forms) {
    auto r = admin({"records", "deleg.admin.test"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("Value: s1.deleg.admin.test.dkim.relay.example.net\n"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("Value: v=spf1 include:_spf.relay.example.net ~all\n"), std::string::npos) << r.output;
    EXPECT_NE(
        r.output.find("_spf.relay.example.net TXT \"v=spf1 ip4:192.0.2.10 ip6:2001:db8::25 ip4:192.0.2.11 -all\""),
        std::string::npos)
        << r.output;
}

TEST_F(relaygate_admin_delegated, published_as_printed_they_verify_and_survive_a_new_outbound_ip) {
    auto z = admin({"records", "--zone", "--delegated", "deleg.admin.test"});
    ASSERT_EQ(z.exit_code, 0) << z.output;
    EXPECT_NE(z.output.find("s1._domainkey.deleg.admin.test. IN CNAME s1.deleg.admin.test.dkim.relay.example.net.\n"),
              std::string::npos)
        << z.output;
    {
        harness::dns_server dns({}, 0, as_unbound(z.output));
        auto v = admin({"--dns-forwarder", dns.forwarder(), "verify", "deleg.admin.test"});
        EXPECT_EQ(v.exit_code, 0) << v.output;
        EXPECT_NE(v.output.find("DKIM   s1._domainkey.deleg.admin.test: match"), std::string::npos) << v.output;
        EXPECT_NE(v.output.find("SPF    192.0.2.11: pass"), std::string::npos) << v.output;
        auto lint = admin({"--dns-forwarder", dns.forwarder(), "lint"});
        EXPECT_EQ(lint.exit_code, 0) << lint.output;
        EXPECT_NE(lint.output.find("spf include: _spf.relay.example.net: pass for all 3 outbound IPs"),
                  std::string::npos)
            << lint.output;
    }
    // The relay adds 192.0.2.12: only the operator's record changes; the owner's stays as it was.
    auto z2 = admin({"--spare-ip", "192.0.2.12", "records", "--zone", "--delegated", "deleg.admin.test"});
    ASSERT_EQ(z2.exit_code, 0) << z2.output;
    ASSERT_EQ(z2.output.substr(0, z2.output.find("; published by the relay")),
              z.output.substr(0, z.output.find("; published by the relay")));
    harness::dns_server dns({}, 0, as_unbound(z2.output));
    auto v = admin({"--dns-forwarder", dns.forwarder(), "--spare-ip", "192.0.2.12", "verify", "deleg.admin.test"});
    EXPECT_EQ(v.exit_code, 0) << v.output;
    EXPECT_NE(v.output.find("SPF    192.0.2.12: pass"), std::string::npos) << v.output;
}

TEST_F(relaygate_admin_delegated, lint_names_each_outbound_ip_the_include_record_misses) {
    harness::dns_server dns({}, 0,
                            {"local-data: '_spf.relay.example.net. 300 IN TXT \"v=spf1 ip4:192.0.2.10 "
                             "ip6:2001:db8::25 -all\"'"});
    auto lint = admin({"--dns-forwarder", dns.forwarder(), "lint"});
    EXPECT_EQ(lint.exit_code, 2) << lint.output;
    EXPECT_NE(lint.output.find("spf include: _spf.relay.example.net: 192.0.2.11: fail"), std::string::npos)
        << lint.output;
    EXPECT_NE(lint.output.find("lint: 1 problem\n"), std::string::npos) << lint.output;
}

TEST_F(relaygate_admin_delegated, lint_requires_a_named_include_record_but_not_the_default_one) {
    harness::dns_server dns({}, 0, {});
    auto by_default = admin({"--dns-forwarder", dns.forwarder(), "lint"});
    EXPECT_EQ(by_default.exit_code, 0) << by_default.output;
    EXPECT_NE(by_default.output.find("spf include: _spf.relay.example.net: not published"), std::string::npos)
        << by_default.output;
    auto named = admin({"--dns-forwarder", dns.forwarder(), "--spf-include-name", "_spf.other.example", "lint"});
    EXPECT_EQ(named.exit_code, 2) << named.output;
    EXPECT_NE(named.output.find("spf include: _spf.other.example: 192.0.2.10: none"), std::string::npos)
        << named.output;
}

}  // namespace
}  // namespace relaygate::registry
