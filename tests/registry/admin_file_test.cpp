// admin_file: the parser accepts the documented format and refuses everything
// else with file, line and field; limits hold against hostile input.
#include "relaygate/registry/admin_file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace relaygate::registry {
namespace {

const char* const good_line =
    "example.com selector=s1 key=/etc/relaygate/keys/example.com.pem owner=\"ACME <ops@acme.test>\"";

TEST(admin_file, parses_every_field_of_a_full_line) {
    auto r = parse_admin_text(
        "# customers\n"
        "\n"
        "  Example.COM.  selector=S1 key=/k/e.pem owner=\"ACME \\\"Ops\\\" <ops@acme.test>\" "
        "sasl=acme,acme2@example.com networks=192.0.2.0/24,2001:db8::/32,198.51.100.7  # trailing comment\n",
        "domains.conf");
    ASSERT_TRUE(r.ok()) << r.summary();
    ASSERT_EQ(r.entries.size(), 1u);
    const auto& e = r.entries[0];
    EXPECT_EQ(e.domain, "example.com");
    EXPECT_EQ(e.selector, "s1");
    EXPECT_EQ(e.key_path, "/k/e.pem");
    EXPECT_EQ(e.owner, "ACME \"Ops\" <ops@acme.test>");
    EXPECT_EQ(e.sasl_logins, (std::vector<std::string>{"acme", "acme2@example.com"}));
    ASSERT_EQ(e.client_networks.size(), 3u);
    EXPECT_EQ(e.client_networks[1].to_string(), "2001:db8::/32");
    EXPECT_EQ(e.client_networks[2].to_string(), "198.51.100.7/32");
    ASSERT_NE(e.source_file, nullptr);
    EXPECT_EQ(*e.source_file, "domains.conf");
    EXPECT_EQ(e.source_line, 3);
}

TEST(admin_file, a_rotating_entry_pairs_selectors_and_keys_in_order_oldest_first) {
    auto r = parse_admin_text(
        "example.com selector=old key=/k/old.pem owner=o selector=new key=/k/new.pem\n"
        "example.net key=/k/a.pem key=/k/b.pem selector=a selector=b owner=o\n"
        "example.org selector=one key=/k/one.pem owner=o\n",
        "domains.conf");
    ASSERT_TRUE(r.ok()) << r.summary();
    ASSERT_EQ(r.entries.size(), 3u);
    const auto& e = r.entries[0];
    EXPECT_EQ(selector_count(e), 2u);
    EXPECT_EQ(e.selector, "old");
    EXPECT_EQ(e.key_path, "/k/old.pem");
    EXPECT_EQ(selector_name(e, 1), "new");
    EXPECT_EQ(selector_key(e, 1), "/k/new.pem");
    EXPECT_EQ(selector_index(e, "new"), 1u);
    EXPECT_EQ(selector_index(e, "other"), std::string::npos);
    EXPECT_EQ(selector_key(r.entries[1], 0), "/k/a.pem");
    EXPECT_EQ(selector_key(r.entries[1], 1), "/k/b.pem");
    EXPECT_EQ(selector_count(r.entries[2]), 1u);  // the single-selector form is unchanged
    EXPECT_TRUE(r.entries[2].newer_selectors.empty());
}

TEST(admin_file, accepts_crlf_tabs_and_a_missing_final_newline) {
    auto r = parse_admin_text(std::string(good_line) + "\r\nb.example\tselector=s2\tkey=/k/b.pem\towner=b", "f");
    ASSERT_TRUE(r.ok()) << r.summary();
    ASSERT_EQ(r.entries.size(), 2u);
    EXPECT_EQ(r.entries[0].owner, "ACME <ops@acme.test>");
    EXPECT_EQ(r.entries[1].domain, "b.example");
}

TEST(admin_file, converts_idn_domains_to_a_labels_once) {
    auto r = parse_admin_text(
        "B\xc3\xbc"
        "cher.example selector=s1 key=/k owner=x\n",
        "f");
    ASSERT_TRUE(r.ok()) << r.summary();
    EXPECT_EQ(r.entries[0].domain, "xn--bcher-kva.example");
}

TEST(admin_file, duplicates_name_both_lines_even_when_spelled_differently) {
    auto r = parse_admin_text(std::string(good_line) + "\n# x\nEXAMPLE.com. selector=s2 key=/k owner=o\n", "d.conf");
    ASSERT_FALSE(r.ok());
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].to_string(), "d.conf:3: domain: example.com is already defined at line 1");
    EXPECT_TRUE(r.entries.empty()) << "a file with errors yields no entries";
}

TEST(admin_file, idn_duplicate_of_its_a_label_is_found) {
    auto r = parse_admin_text(
        "xn--bcher-kva.example selector=s1 key=/k owner=o\nb\xc3\xbc"
        "cher.example selector=s1 key=/k owner=o\n",
        "f");
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].line, 2);
}

struct bad_line {
    const char* name;
    std::string line;
    std::string field;
    std::string message_part;
};
void PrintTo(const bad_line& c, std::ostream* os) { *os << c.name; }

class refuses_line : public testing::TestWithParam<bad_line> {};

TEST_P(refuses_line, naming_file_line_and_field) {
    auto r = parse_admin_text("# first line is a comment\n" + GetParam().line + "\n", "domains.conf");
    ASSERT_FALSE(r.ok()) << "accepted: " << GetParam().line;
    const auto& e = r.errors.front();
    EXPECT_EQ(e.file, "domains.conf");
    EXPECT_EQ(e.line, 2);
    EXPECT_EQ(e.field, GetParam().field) << e.to_string();
    EXPECT_NE(e.message.find(GetParam().message_part), std::string::npos) << e.to_string();
}

const std::string k = " key=/k/a.pem owner=o";
INSTANTIATE_TEST_SUITE_P(
    admin_file, refuses_line,
    testing::Values(
        bad_line{"bad_domain", "exa_mple.com selector=s1" + k, "domain", "not allowed"},
        bad_line{"field_before_domain", "selector=s1 example.com" + k, "domain", "starts with the domain"},
        bad_line{"missing_selector", "example.com key=/k owner=o", "selector", "missing"},
        bad_line{"missing_key", "example.com selector=s1 owner=o", "key", "missing"},
        bad_line{"missing_owner", "example.com selector=s1 key=/k", "owner", "missing"},
        bad_line{"unknown_field", "example.com selector=s1 colour=red" + k, "colour", "unknown field"},
        bad_line{"field_twice", "example.com selector=s1 owner=a" + k, "owner", "twice"},
        bad_line{"selector_without_key", "example.com selector=s1 selector=s2" + k, "key", "2 selector= but 1 key="},
        bad_line{"key_without_selector", "example.com selector=s1 key=/k/b.pem" + k, "selector",
                 "1 selector= but 2 key="},
        bad_line{"same_selector_twice", "example.com selector=s1 key=/k/b.pem selector=S1" + k, "selector",
                 "'s1' is listed twice"},
        bad_line{"same_key_for_two_selectors", "example.com selector=s1 key=/k/a.pem selector=s2" + k, "key",
                 "'/k/a.pem' is listed twice"},
        bad_line{"five_selectors", "example.com selector=a selector=b selector=c selector=d selector=e" + k, "selector",
                 "more than 4 selectors"},
        bad_line{"five_keys", "example.com key=/1 key=/2 key=/3 key=/4 selector=s1 key=/5 owner=o", "key",
                 "more than 4 keys"},
        bad_line{"second_selector_bad", "example.com selector=s1 key=/k/b.pem selector=s_2" + k, "selector",
                 "only letters"},
        bad_line{"second_record_name_too_long",
                 std::string(60, 'a') + "." + std::string(60, 'b') + "." + std::string(60, 'c') +
                     ".example selector=s1 key=/k/b.pem selector=" + std::string(63, 's') + k,
                 "selector", "253"},
        bad_line{"no_value", "example.com selector" + k, "field", "'selector' is not key=value"},
        bad_line{"no_field_name", "example.com =s1" + k, "field", "without a field name"},
        bad_line{"empty_value", "example.com selector=" + k, "selector", "empty value"},
        bad_line{"empty_quoted_value", "example.com selector=s1 key=/k owner=\"\"", "owner", "empty value"},
        bad_line{"unterminated_quote", "example.com selector=s1 key=/k owner=\"ACME", "owner", "unterminated"},
        bad_line{"text_after_quote", "example.com selector=s1 key=/k owner=\"A\"B", "owner", "closing quote"},
        bad_line{"quote_inside_value", "example.com selector=s1 key=/k owner=A\"B\"", "owner", "quote"},
        bad_line{"bad_escape", "example.com selector=s1 key=/k owner=\"a\\nb\"", "owner", "escapes"},
        bad_line{"selector_underscore", "example.com selector=s_1" + k, "selector", "only letters"},
        bad_line{"selector_empty_label", "example.com selector=s1..x" + k, "selector", "empty label"},
        bad_line{"selector_too_long", "example.com selector=" + std::string(64, 's') + k, "selector", "63"},
        bad_line{"record_name_too_long",
                 std::string(60, 'a') + "." + std::string(60, 'b') + "." + std::string(60, 'c') +
                     ".example selector=" + std::string(63, 's') + k,
                 "selector", "253"},
        bad_line{"relative_key_path", "example.com selector=s1 key=keys/a.pem owner=o", "key", "absolute"},
        bad_line{"key_path_too_long", "example.com selector=s1 key=/" + std::string(1024, 'k') + " owner=o", "key",
                 "1024"},
        bad_line{"owner_too_long", "example.com selector=s1 key=/k owner=" + std::string(257, 'o'), "owner", "256"},
        bad_line{"owner_not_utf8", "example.com selector=s1 key=/k owner=\xc3(", "owner", "UTF-8"},
        bad_line{"empty_login", "example.com selector=s1 sasl=a,,b" + k, "sasl", "empty login"},
        bad_line{"login_twice", "example.com selector=s1 sasl=a,b,a" + k, "sasl", "twice"},
        bad_line{"login_too_long", "example.com selector=s1 sasl=" + std::string(257, 'l') + k, "sasl", "256"},
        bad_line{"bad_network", "example.com selector=s1 networks=192.0.2.0/33" + k, "networks", "not an IP"},
        bad_line{"host_bits_set", "example.com selector=s1 networks=192.0.2.7/24" + k, "networks", "192.0.2.0/24"},
        bad_line{"empty_network", "example.com selector=s1 networks=192.0.2.0/24," + k, "networks", "empty network"},
        bad_line{"control_character", "example.com selector=s1\x1b[31m" + k, "line", "0x1b"},
        bad_line{"nul_byte", std::string("example.com selector=s1\0", 24) + k, "line", "0x00"},
        bad_line{"line_too_long", "example.com selector=s1 key=/k owner=" + std::string(4100, 'o'), "line", "4096"}),
    [](const auto& info) { return std::string(info.param.name); });

std::string list(char sep, std::size_t n, const std::string& item_prefix) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out += (i ? std::string(1, sep) : "") + item_prefix + std::to_string(i);
    return out;
}

TEST(admin_file, at_most_64_logins_and_64_networks) {
    auto ok = parse_admin_text("a.example selector=s key=/k owner=o sasl=" + list(',', 64, "u"), "f");
    EXPECT_TRUE(ok.ok()) << ok.summary();
    auto too_many = parse_admin_text("a.example selector=s key=/k owner=o sasl=" + list(',', 65, "u"), "f");
    ASSERT_FALSE(too_many.ok());
    EXPECT_EQ(too_many.errors[0].field, "sasl");
    std::string nets;
    for (int i = 0; i < 65; ++i) nets += (i ? "," : "") + std::string("10.0.") + std::to_string(i) + ".0/24";
    auto too_many_nets = parse_admin_text("a.example selector=s key=/k owner=o networks=" + nets, "f");
    ASSERT_FALSE(too_many_nets.ok());
    EXPECT_EQ(too_many_nets.errors[0].field, "networks");
}

TEST(admin_file, entry_limit_stops_the_parse) {
    admin_file_limits limits;
    limits.max_entries = 3;
    std::string text;
    for (int i = 0; i < 10; ++i) text += "d" + std::to_string(i) + ".example selector=s key=/k owner=o\n";
    auto r = parse_admin_text(text, "f", limits);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].line, 4);
    EXPECT_NE(r.errors[0].message.find("more than 3 domains"), std::string::npos);
}

TEST(admin_file, collects_errors_up_to_the_limit_and_summarises) {
    std::string text;
    for (int i = 0; i < 200; ++i) text += "bad_domain selector=s key=/k owner=o\n";
    auto r = parse_admin_text(text, "f");
    EXPECT_EQ(r.errors.size(), admin_file_limits{}.max_errors);
    EXPECT_NE(r.summary().find("(and 49 more errors)"), std::string::npos) << r.summary();
}

TEST(admin_file, binary_garbage_is_refused_not_crashed_on) {
    std::string garbage;
    for (int i = 0; i < 4096; ++i) garbage += static_cast<char>((i * 131 + 7) & 0xff);
    auto r = parse_admin_text(garbage, "f");
    EXPECT_FALSE(r.ok());
}

class admin_file_on_disk : public testing::Test {
protected:
    std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("admin_file_test." + std::to_string(getpid()));
    void SetUp() override { std::filesystem::create_directories(dir); }
    void TearDown() override { std::filesystem::remove_all(dir); }
    std::string write(const std::string& name, const std::string& text) {
        auto p = (dir / name).string();
        std::ofstream(p, std::ios::binary) << text;
        return p;
    }
};

TEST_F(admin_file_on_disk, reads_across_chunk_boundaries_like_text) {
    std::string text;
    for (int i = 0; i < 30000; ++i) {
        text += "d" + std::to_string(i) + ".example selector=s1 key=/etc/relaygate/keys/d" + std::to_string(i) +
                ".pem owner=\"Customer " + std::to_string(i) + "\"\n";
    }
    auto path = write("domains.conf", text);
    auto from_file = read_admin_file(path);
    ASSERT_TRUE(from_file.ok()) << from_file.summary();
    EXPECT_EQ(from_file.entries.size(), 30000u);
    EXPECT_EQ(from_file.entries.back().domain, "d29999.example");
    EXPECT_EQ(from_file.entries.back().source_line, 30000);
    EXPECT_EQ(*from_file.entries.back().source_file, path);
    EXPECT_EQ(from_file.entries.front().source_file, from_file.entries.back().source_file) << "one shared copy";
}

TEST_F(admin_file_on_disk, an_overlong_line_is_reported_and_the_rest_still_parsed) {
    auto path = write("d.conf", "a.example selector=s key=/k owner=o\n" + std::string(3'000'000, 'x') +
                                    "\nb_bad selector=s key=/k owner=o\n");
    auto r = read_admin_file(path);
    ASSERT_EQ(r.errors.size(), 2u) << r.summary();
    EXPECT_EQ(r.errors[0].to_string(), path + ":2: line: longer than 4096 bytes");
    EXPECT_EQ(r.errors[1].line, 3);
}

TEST_F(admin_file_on_disk, a_missing_file_names_the_file) {
    auto r = read_admin_file((dir / "nope.conf").string());
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].to_string(), (dir / "nope.conf").string() + ": cannot open: No such file or directory");
}

TEST_F(admin_file_on_disk, file_size_limit_holds) {
    admin_file_limits limits;
    limits.max_file_bytes = 100;
    auto path = write("big.conf", std::string(500, '#'));
    auto r = read_admin_file(path, limits);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_NE(r.errors[0].message.find("larger than 100 bytes"), std::string::npos);
}

}  // namespace
}  // namespace relaygate::registry

namespace relaygate::registry {
namespace {

TEST(admin_file, the_shipped_example_is_valid) {
    auto r = read_admin_file(RELAYGATE_SOURCE_DIR "/postfix-conf/domains.conf.example");
    ASSERT_TRUE(r.ok()) << r.summary();
    ASSERT_EQ(r.entries.size(), 4u);
    EXPECT_EQ(r.entries[2].domain, "xn--bcher-kva.example");
    EXPECT_EQ(r.entries[2].client_networks.size(), 2u);
}

}  // namespace
}  // namespace relaygate::registry
