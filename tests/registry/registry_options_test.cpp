// registry_options: the Program_options binding reads files and command lines,
// and every bad value or unknown key is reported with file, line and key.
#include "relaygate/registry/registry_options.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <filesystem>
#include <fstream>

namespace po = boost::program_options;

namespace relaygate::registry {
namespace {

class registry_options_file : public testing::Test {
protected:
    std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("registry_options_test." + std::to_string(getpid()));
    std::string path = (dir / "relaygate.conf").string();
    registry_options opts;
    po::options_description desc{"registry"};
    po::variables_map vm;

    void SetUp() override {
        std::filesystem::create_directories(dir);
        add_registry_options(desc, opts);
    }
    void TearDown() override { std::filesystem::remove_all(dir); }

    expected<bool, std::string> parse(const std::string& text, config_scope scope = {}) {
        std::ofstream(path) << text;
        auto r = parse_config_file(path, desc, vm, scope);
        if (!r) return r;
        po::notify(vm);
        return validate(opts, config_source(path, scope));
    }
};

TEST_F(registry_options_file, reads_every_key) {
    auto r = parse(
        "# operator config\n"
        "admin-file = /srv/domains.conf\n"
        "state-file = /srv/state.json\n"
        "operator-domain = Relay.Example.NET.\n"
        "outbound-ip = 192.0.2.10, 192.0.2.11\n"
        "outbound-ip = 2001:DB8::25\n"
        "designated-ip = 192.0.2.20\n"
        "spare-ip = 192.0.2.21\n"
        "spare-ip = 192.0.2.10\n"
        "dns-forwarder = 127.0.0.1@5353\n"
        "dns-timeout-ms = 1500\n"
        "reverify-interval = 30m\n"
        "grace-period = 2d\n"
        "min-rsa-bits = 2048\n"
        "spf-include-name = _SPF.Relay.Example.NET.\n");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(opts.admin_file, "/srv/domains.conf");
    EXPECT_EQ(opts.state_file, "/srv/state.json");
    EXPECT_EQ(opts.operator_domains, std::vector<std::string>{"relay.example.net"});
    EXPECT_EQ(opts.outbound_ips, (std::vector<std::string>{"192.0.2.10", "192.0.2.11", "2001:db8::25"}));
    EXPECT_EQ(opts.all_outbound_ips(),
              (std::vector<std::string>{"192.0.2.10", "192.0.2.11", "2001:db8::25", "192.0.2.20", "192.0.2.21"}));
    EXPECT_EQ(opts.dns_forwarders, std::vector<std::string>{"127.0.0.1@5353"});
    EXPECT_EQ(opts.dns_timeout, std::chrono::milliseconds(1500));
    EXPECT_EQ(opts.reverify_interval, std::chrono::seconds(1800));
    EXPECT_EQ(opts.grace_period, std::chrono::seconds(2 * 86400));
    EXPECT_EQ(opts.min_rsa_bits, 2048u);
    EXPECT_EQ(opts.spf_include(), "_spf.relay.example.net");
}

TEST_F(registry_options_file, defaults_apply_when_keys_are_absent) {
    auto r = parse("outbound-ip = 192.0.2.1\n");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(opts.admin_file, "/etc/relaygate/domains.conf");
    EXPECT_EQ(opts.reverify_interval, std::chrono::seconds(3600));
    EXPECT_EQ(opts.grace_period, std::chrono::seconds(86400));
    EXPECT_EQ(opts.dns_timeout, std::chrono::milliseconds(5000));
    EXPECT_EQ(opts.min_rsa_bits, 1024u);
    EXPECT_EQ(opts.spf_include(), "") << "no operator domain: no include form";
}

TEST_F(registry_options_file, spf_include_name_defaults_to_spf_under_the_first_operator_domain) {
    auto r = parse("outbound-ip = 192.0.2.1\noperator-domain = relay.example.net, other.example\n");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(opts.spf_include(), "_spf.relay.example.net");
}

struct bad_config {
    const char* name;
    std::string text;
    std::string expected_prefix;  // after "<path>:"
    std::string message_part;
};
void PrintTo(const bad_config& c, std::ostream* os) { *os << c.name; }

class refuses_config : public registry_options_file, public testing::WithParamInterface<bad_config> {};

TEST_P(refuses_config, naming_file_line_and_key) {
    auto r = parse(GetParam().text);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().starts_with(path + ":" + GetParam().expected_prefix)) << r.error();
    EXPECT_NE(r.error().find(GetParam().message_part), std::string::npos) << r.error();
}

const std::string ip = "outbound-ip = 192.0.2.1\n";
INSTANTIATE_TEST_SUITE_P(
    registry_options, refuses_config,
    testing::Values(
        bad_config{"unknown_key", ip + "# c\nadmin-fle = /x\n", "3: key 'admin-fle'", "unknown key"},
        bad_config{"bad_duration", ip + "reverify-interval = soon\n", "2: key 'reverify-interval'", "soon"},
        bad_config{"zero_duration", ip + "grace-period = 0\n", "2: key 'grace-period'", "> 0"},
        bad_config{"bad_timeout", ip + "dns-timeout-ms = 0\n", "2: key 'dns-timeout-ms'", "1 to 60000"},
        bad_config{"short_rsa_minimum", ip + "min-rsa-bits = 512\n", "2: key 'min-rsa-bits'", "1024 to 4096"},
        bad_config{"given_twice", ip + "state-file = /a\nstate-file = /b\n", "", "state-file"},
        bad_config{"bad_ip", ip + "\n\nspare-ip = 192.0.2.300\n", "4: key 'spare-ip'", "192.0.2.300"},
        bad_config{"network_is_not_an_ip", "outbound-ip = 192.0.2.0/24\n", "1: key 'outbound-ip'", "not an IPv4"},
        bad_config{"no_outbound_ip", "admin-file = /a\n", " key 'outbound-ip'", "at least one"},
        bad_config{"bad_forwarder", ip + "dns-forwarder = 127.0.0.1@99999\n", "2: key 'dns-forwarder'", "IP@PORT"},
        bad_config{"bad_operator_domain", ip + "operator-domain = a..b\n", "2: key 'operator-domain'", "empty label"},
        bad_config{"state_is_admin_file", ip + "admin-file = /x\nstate-file = /x\n", "3: key 'state-file'",
                   "must differ"},
        bad_config{"bad_spf_include_name", ip + "spf-include-name = _spf..example\n", "2: key 'spf-include-name'",
                   "not a DNS name"},
        bad_config{"unknown_section_key", ip + "[milter]\nsocket = x\n", "3: key 'milter.socket'", "unknown key"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(registry_options_file, keys_of_other_programs_sections_are_skipped_when_asked) {
    std::ofstream(path) << ip << "[milter]\nsocket = inet:1234@127.0.0.1\n";
    auto r = parse_config_file(path, desc, vm, {.section = "", .skipped = {"milter", "policy"}});
    ASSERT_TRUE(r) << r.error();
}

TEST_F(registry_options_file, keys_of_the_programs_own_section_are_read_as_top_level_keys) {
    std::ofstream(path) << ip << "[policy]\nstate-file = /var/lib/x.json\n[milter]\nsocket = x\n";
    auto r = parse_config_file(path, desc, vm, {.section = "policy", .skipped = {"milter"}});
    ASSERT_TRUE(r) << r.error();
    po::notify(vm);
    EXPECT_EQ(vm["state-file"].as<std::string>(), "/var/lib/x.json");
}

TEST_F(registry_options_file, an_unknown_key_in_the_own_section_is_still_an_error) {
    std::ofstream(path) << ip << "[policy]\nstate-fle = /x\n";
    auto r = parse_config_file(path, desc, vm, {.section = "policy", .skipped = {}});
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find(":3: key 'state-fle': unknown key"), std::string::npos) << r.error();
}

TEST_F(registry_options_file, a_missing_file_is_an_error) {
    auto r = parse_config_file((dir / "absent.conf").string(), desc, vm, {});
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("absent.conf: cannot open"), std::string::npos) << r.error();
}

TEST(registry_options, command_line_values_are_validated_too) {
    registry_options opts;
    po::options_description desc;
    add_registry_options(desc, opts);
    const char* argv[] = {"prog", "--outbound-ip", "192.0.2.1,198.51.100.2", "--reverify-interval", "2h"};
    po::variables_map vm;
    po::store(po::parse_command_line(5, argv, desc), vm);
    po::notify(vm);
    ASSERT_TRUE(validate(opts));
    EXPECT_EQ(opts.outbound_ips.size(), 2u);
    EXPECT_EQ(opts.reverify_interval, std::chrono::hours(2));

    const char* bad[] = {"prog", "--grace-period", "-5"};
    po::variables_map vm2;
    try {
        po::store(po::parse_command_line(3, bad, desc), vm2);
        FAIL() << "accepted a negative grace period";
    } catch (const po::error& e) {
        EXPECT_NE(std::string(e.what()).find("grace-period"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace relaygate::registry

namespace relaygate::registry {
namespace {

TEST(registry_options, the_shipped_example_is_valid) {
    const std::string path = RELAYGATE_SOURCE_DIR "/postfix-conf/relaygate.conf.example";
    registry_options opts;
    po::options_description desc;
    add_registry_options(desc, opts);
    po::variables_map vm;
    auto r = parse_config_file(path, desc, vm, config_scope::for_program("admin"));
    ASSERT_TRUE(r) << r.error();
    po::notify(vm);
    auto v = validate(opts, config_source(path, config_scope::for_program("admin")));
    ASSERT_TRUE(v) << v.error();
    EXPECT_EQ(opts.all_outbound_ips().size(), 7u);
    EXPECT_EQ(opts.grace_period, std::chrono::hours(24));
}

}  // namespace
}  // namespace relaygate::registry
