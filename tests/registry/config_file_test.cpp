// config_file: the one config reader every program uses. Each bad file is
// refused with exactly "FILE:LINE: key 'KEY': MESSAGE"; sections of other
// programs are skipped; the command line wins; the text splitter has limits.
#include "relaygate/registry/config_file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <filesystem>
#include <fstream>

#include "relaygate/registry/registry_options.hpp"

namespace po = boost::program_options;

namespace relaygate::registry {
namespace {

TEST(config_error, has_one_format_with_and_without_a_value) {
    EXPECT_EQ(config_error("a.conf:3", "mode", "unknown key"), "a.conf:3: key 'mode': unknown key");
    EXPECT_EQ(config_error("a.conf:3", "spare-ip", "not an IP", "1.2.3"),
              "a.conf:3: key 'spare-ip': '1.2.3': not an IP");
    EXPECT_EQ(config_error("command line", "mode", "bad"), "command line: key 'mode': bad");
}

TEST(parse_config_text, keeps_line_numbers_sections_and_trimmed_values) {
    auto r = parse_config_text("# head\n\na = 1\n[milter]\n  b=two words # comment\nc =\n");
    ASSERT_TRUE(r) << r.error();
    ASSERT_EQ(r->size(), 3u);
    EXPECT_EQ((*r)[0].line, 3);
    EXPECT_EQ((*r)[0].section, "");
    EXPECT_EQ((*r)[0].key, "a");
    EXPECT_EQ((*r)[1].line, 5);
    EXPECT_EQ((*r)[1].section, "milter");
    EXPECT_EQ((*r)[1].value, "two words");
    EXPECT_EQ((*r)[2].value, "");
}

struct bad_text {
    const char* name;
    std::string text;
    std::string error_start;
};
void PrintTo(const bad_text& c, std::ostream* os) { *os << c.name; }
class parse_config_text_refuses : public testing::TestWithParam<bad_text> {};
TEST_P(parse_config_text_refuses, naming_the_line) {
    auto r = parse_config_text(GetParam().text);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().starts_with(GetParam().error_start)) << r.error();
}
INSTANTIATE_TEST_SUITE_P(
    config_file, parse_config_text_refuses,
    testing::Values(bad_text{"no_equals_sign", "a = 1\njust words\n", "2: not 'key = value'"},
                    bad_text{"unclosed_section", "[milter\n", "1: bad section header"},
                    bad_text{"empty_section", "a = 1\n[]\n", "2: bad section header"},
                    bad_text{"key_with_space", "a b = 1\n", "1: not 'key = value'"},
                    bad_text{"overlong_line", "a = 1\nb = " + std::string(max_config_line, 'x') + "\n",
                             "2: line longer"},
                    bad_text{"overlong_file", std::string(max_config_bytes + 1, '#'), ": longer than"},
                    bad_text{"too_many_keys",
                             [] {
                                 std::string t;
                                 for (std::size_t i = 0; i <= max_config_entries; ++i) t += "a=1\n";
                                 return t;
                             }(),
                             std::to_string(max_config_entries + 1) + ": more than"}),
    [](const auto& info) { return std::string(info.param.name); });

// A program "milter" with the shared registry keys and two keys of its own.
class config_file_reader : public testing::Test {
protected:
    std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("config_file_test." + std::to_string(getpid()));
    std::string path = (dir / "relaygate.conf").string();
    registry_options shared;
    std::string mode = "reject";
    std::vector<std::string> keys_list;
    po::options_description desc{"milter"};
    po::variables_map vm;

    void SetUp() override {
        std::filesystem::create_directories(dir);
        desc.add_options()("mode", po::value(&mode)->default_value(mode), "mode")(
            "operator-dkim-key", po::value(&keys_list)->composing(), "keys");
        add_registry_options(desc, shared);
    }
    void TearDown() override { std::filesystem::remove_all(dir); }

    expected<bool, std::string> read(const std::string& text) {
        std::ofstream(path) << text;
        auto r = parse_config_file(path, desc, vm, config_scope::for_program("milter"));
        if (r) po::notify(vm);
        return r;
    }
};

TEST_F(config_file_reader, reads_shared_keys_at_the_top_and_own_keys_in_its_section) {
    auto r = read(
        "outbound-ip = 192.0.2.1\n[registry]\nadmin-file = /a\n[milter]\nmode = tag\n"
        "operator-dkim-key = a:b:c\noperator-dkim-key = d:e:f\n[policy]\nlisten = x\n[watch]\nalert-min = 3\n");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(mode, "tag");
    EXPECT_EQ(shared.admin_file, "/a");
    EXPECT_EQ(keys_list.size(), 2u);
}

struct bad_file {
    const char* name;
    std::string text;
    std::string error;  // exact, after "<path>:"
};
void PrintTo(const bad_file& c, std::ostream* os) { *os << c.name; }
class config_file_refuses : public config_file_reader, public testing::WithParamInterface<bad_file> {};
TEST_P(config_file_refuses, with_file_line_and_key) {
    auto r = read(GetParam().text);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), path + ":" + GetParam().error);
}
INSTANTIATE_TEST_SUITE_P(
    config_file, config_file_refuses,
    testing::Values(bad_file{"unknown_top_level_key", "mode = tag\nsokcet = 1\n", "2: key 'sokcet': unknown key"},
                    bad_file{"unknown_key_in_own_section", "# c\n[milter]\nmdoe = tag\n", "3: key 'mdoe': unknown key"},
                    bad_file{"key_of_an_unknown_section", "[milterr]\nmode = tag\n",
                             "2: key 'milterr.mode': unknown key"},
                    bad_file{"help_is_not_a_file_key", "help = 1\n", "1: key 'help': unknown key"},
                    bad_file{"config_is_not_a_file_key", "[milter]\nconfig = /x\n", "2: key 'config': unknown key"},
                    bad_file{"bad_value_on_its_line", "outbound-ip = 192.0.2.1\n\ndns-timeout-ms = 0\n",
                             "3: key 'dns-timeout-ms': the argument ('0 (a number from 1 to 60000)') for option "
                             "'dns-timeout-ms' is invalid"},
                    bad_file{"duplicate_key", "state-file = /a\n# again\nstate-file = /b\n",
                             "3: key 'state-file': given twice (first at line 1)"},
                    bad_file{"duplicate_across_top_level_and_section", "mode = tag\n[milter]\nmode = reject\n",
                             "3: key 'mode': given twice (first at line 1)"},
                    bad_file{"syntax_error", "mode = tag\n[milter\n", "2: bad section header '[milter'"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(config_file_reader, the_command_line_wins_over_the_file) {
    const char* argv[] = {"prog", "--mode", "tempfail"};
    ASSERT_TRUE(parse_command_line(3, argv, desc, vm));
    auto r = read("mode = tag\n");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(mode, "tempfail");
}

TEST_F(config_file_reader, a_bad_command_line_value_has_the_same_format) {
    const char* argv[] = {"prog", "--min-rsa-bits", "10"};
    auto r = parse_command_line(3, argv, desc, vm);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().starts_with("command line: key 'min-rsa-bits': ")) << r.error();
}

TEST_F(config_file_reader, a_later_error_is_located_on_the_line_that_set_the_value) {
    std::ofstream(path) << "[policy]\nspare-ip = 192.0.2.9\n[milter]\n\nspare-ip = 192.0.2.300\n";
    config_source source(path, config_scope::for_program("milter"));
    EXPECT_EQ(source.where("spare-ip", "192.0.2.300"), path + ":5");
    EXPECT_EQ(source.where("absent"), path);
    EXPECT_EQ(source.error("spare-ip", "not an IP", "192.0.2.300"),
              path + ":5: key 'spare-ip': '192.0.2.300': not an IP");
    EXPECT_EQ(config_source().where("spare-ip"), "command line");
}

TEST(read_config, help_lists_the_keys_and_a_missing_named_file_is_an_error) {
    std::string mode;
    po::options_description keys("keys");
    keys.add_options()("mode", po::value(&mode), "the mode");
    const char* help[] = {"prog", "--help"};
    auto h = read_config(2, help, {.program = "milter", .keys = &keys, .usage = "usage: prog"});
    ASSERT_TRUE(h) << h.error();
    EXPECT_TRUE(h->help);
    EXPECT_NE(h->help_text.find("--mode"), std::string::npos) << h->help_text;
    const char* missing[] = {"prog", "--config", "/nonexistent/relaygate.conf"};
    auto m = read_config(3, missing, {.program = "milter", .keys = &keys, .usage = "usage: prog"});
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error(), "/nonexistent/relaygate.conf: cannot open config file");
}

}  // namespace
}  // namespace relaygate::registry
