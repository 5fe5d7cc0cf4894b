// watch_options: the re-verification keys — on by default, refused without the
// registry keys of a --config file, bounded tick, and the registry keys read
// from the file's top level with file:line in their errors.
#include "relaygate/watch/watch_options.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace relaygate::watch {
namespace {

expected<parsed_options, std::string> parse(std::vector<std::string> args) {
    args.insert(args.begin(), "relaygate-watch");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    return parse_watch_options(static_cast<int>(argv.size()), argv.data());
}

class watch_options_file : public testing::Test {
protected:
    std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("watch_options_test." + std::to_string(getpid()));
    std::string config(const std::string& text) {
        std::filesystem::create_directories(dir);
        const auto path = (dir / "relaygate.conf").string();
        std::ofstream(path) << text;
        return path;
    }
    void TearDown() override { std::filesystem::remove_all(dir); }
};

TEST(watch_options, reverify_is_on_by_default_and_needs_the_registry_keys) {
    const auto r = parse({});
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("reverify: on needs --config FILE"), std::string::npos) << r.error();
}

TEST(watch_options, reverify_off_needs_no_registry) {
    const auto r = parse({"--reverify=off"});
    ASSERT_TRUE(r) << r.error();
    EXPECT_FALSE(r->options.reverify);
    EXPECT_EQ(r->options.reverify_tick, 60);
    EXPECT_EQ(r->options.reverify_pending_alert, 86400);
}

// The ledger is listed by `relaygate-admin failures` alone (issue 14): the watch refuses the old flag.
TEST(watch_options, list_failures_is_not_a_watch_option) {
    const auto r = parse({"--reverify=off", "--list-failures"});
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("list-failures"), std::string::npos) << r.error();
}

TEST(watch_options, bad_reverify_values_are_refused_naming_the_key) {
    for (const auto& [arg, words] : std::vector<std::pair<std::string, std::string>>{
             {"--reverify=maybe", "reverify"},
             {"--reverify-tick=0", "command line: key 'reverify-tick': '0': must be >= 1 and <= 3600"},
             {"--reverify-tick=3601", "command line: key 'reverify-tick': '3601': must be >= 1 and <= 3600"},
             {"--reverify-pending-alert=0", "command line: key 'reverify-pending-alert': '0': must be >= 1"}}) {
        const auto r = parse({"--reverify=off", arg});
        ASSERT_FALSE(r) << arg;
        EXPECT_NE(r.error().find(words), std::string::npos) << arg << ": " << r.error();
    }
}

TEST_F(watch_options_file, registry_keys_come_from_the_top_level) {
    const auto path = config(
        "admin-file = /etc/x/domains.conf\nstate-file = /var/x/state.json\noutbound-ip = 192.0.2.10, 192.0.2.11\n"
        "reverify-interval = 90m\ngrace-period = 2h\n[milter]\nsocket = inet:1@127.0.0.1\n"
        "[watch]\nreverify-tick = 30\nreverify-pending-alert = 3600\n");
    const auto r = parse({"--config=" + path});
    ASSERT_TRUE(r) << r.error();
    const auto& o = r->options;
    EXPECT_TRUE(o.reverify);
    EXPECT_EQ(o.reverify_tick, 30);
    EXPECT_EQ(o.reverify_pending_alert, 3600);
    EXPECT_EQ(o.registry.admin_file, "/etc/x/domains.conf");
    EXPECT_EQ(o.registry.state_file, "/var/x/state.json");
    EXPECT_EQ(o.registry.all_outbound_ips(), (std::vector<std::string>{"192.0.2.10", "192.0.2.11"}));
    EXPECT_EQ(o.registry.reverify_interval, std::chrono::seconds(5400));
    EXPECT_EQ(o.registry.grace_period, std::chrono::seconds(7200));
}

TEST_F(watch_options_file, a_bad_registry_key_is_named_with_file_and_line) {
    auto r = parse({"--config=" + config("outbound-ip = 192.0.2.10\ngrace-period = soon\n[watch]\n")});
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("relaygate.conf:2: key 'grace-period'"), std::string::npos) << r.error();
    r = parse({"--config=" + config("outbound-ip = 192.0.2.300\n")});
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("relaygate.conf:1: key 'outbound-ip'"), std::string::npos) << r.error();
    r = parse({"--config=" + config("[watch]\nmaillog = /x\n")});
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("at least one outbound IP"), std::string::npos) << r.error();
}

}  // namespace
}  // namespace relaygate::watch
