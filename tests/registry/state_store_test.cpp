// state_store: round trip, tolerance of a missing file, clear errors for a
// corrupt one, atomic replacement and locked read-modify-write.
#include "relaygate/registry/state_store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

namespace relaygate::registry {
namespace {

state_map sample() {
    state_map m;
    m["example.com"] = {
        .state = verification_state::verified, .last_checked = 1700000000, .verified_since = 1690000000};
    m["xn--bcher-kva.example"] = {.state = verification_state::failed,
                                  .temporary_failure = true,
                                  .reason_code = "dkim_no_record",
                                  .reason_text = "no DKIM key at s1._domainkey.xn--bcher-kva.example \"quoted\"\n",
                                  .last_checked = 1700000100,
                                  .failing_since = 1699000000,
                                  .pending_since = 1698000000};
    m["pending.example"] = {};
    m["rotating.example"] = {.state = verification_state::verified,
                             .last_checked = 1700000200,
                             .verified_since = 1690000000,
                             .signing_selector = "s2",
                             .signing_since = 1700000150,
                             .selectors = {{"s1", "match"}, {"s2", "match"}, {"s3", "no_record"}}};
    return m;
}

void expect_same(const verification_status& a, const verification_status& b) {
    EXPECT_EQ(a.state, b.state);
    EXPECT_EQ(a.temporary_failure, b.temporary_failure);
    EXPECT_EQ(a.reason_code, b.reason_code);
    EXPECT_EQ(a.reason_text, b.reason_text);
    EXPECT_EQ(a.last_checked, b.last_checked);
    EXPECT_EQ(a.verified_since, b.verified_since);
    EXPECT_EQ(a.failing_since, b.failing_since);
    EXPECT_EQ(a.pending_since, b.pending_since);
    EXPECT_EQ(a.signing_selector, b.signing_selector);
    EXPECT_EQ(a.signing_since, b.signing_since);
    ASSERT_EQ(a.selectors.size(), b.selectors.size());
    for (std::size_t i = 0; i < a.selectors.size(); ++i) {
        EXPECT_EQ(a.selectors[i].selector, b.selectors[i].selector);
        EXPECT_EQ(a.selectors[i].outcome, b.selectors[i].outcome);
    }
}

TEST(state_store, encode_then_parse_gives_back_every_field) {
    auto original = sample();
    auto parsed = parse_state_text(encode_state(original), "state.json");
    ASSERT_TRUE(parsed) << parsed.error();
    ASSERT_EQ(parsed->size(), original.size());
    for (const auto& [domain, st] : original) expect_same(parsed->at(domain), st);
}

TEST(state_store, encoding_is_sorted_and_stable) {
    auto text = encode_state(sample());
    EXPECT_LT(text.find("example.com"), text.find("pending.example"));
    EXPECT_LT(text.find("pending.example"), text.find("xn--bcher-kva.example"));
    EXPECT_EQ(text, encode_state(sample()));
}

TEST(state_store, unknown_fields_are_skipped_for_forward_compatibility) {
    auto parsed = parse_state_text(
        R"({"version":1,"written_by":"relaygate 9","domains":{"a.example":{"state":"verified","new_field":3}}})", "s");
    ASSERT_TRUE(parsed) << parsed.error();
    EXPECT_EQ(parsed->at("a.example").state, verification_state::verified);
}

struct corrupt_case {
    const char* name;
    std::string text;
    std::string message_part;
};
void PrintTo(const corrupt_case& c, std::ostream* os) { *os << c.name; }

class refuses_state : public testing::TestWithParam<corrupt_case> {};

TEST_P(refuses_state, with_the_file_name_and_the_problem) {
    auto parsed = parse_state_text(GetParam().text, "/var/lib/relaygate/state.json");
    ASSERT_FALSE(parsed);
    EXPECT_TRUE(parsed.error().starts_with("/var/lib/relaygate/state.json: corrupt state file: ")) << parsed.error();
    EXPECT_NE(parsed.error().find(GetParam().message_part), std::string::npos) << parsed.error();
}

INSTANTIATE_TEST_SUITE_P(
    state_store, refuses_state,
    testing::Values(
        corrupt_case{"empty", "", "not valid JSON"},
        corrupt_case{"truncated", R"({"version":1,"domains":{"a.example":{"state":"verif)", "not valid JSON"},
        corrupt_case{"trailing_garbage", R"({"version":1,"domains":{}} x)", "not valid JSON"},
        corrupt_case{"top_level_array", R"([1,2])", "unexpected array"},
        corrupt_case{"top_level_number", "5", "unexpected a number"},
        corrupt_case{"no_version", R"({"domains":{}})", "version"},
        corrupt_case{"future_version", R"({"version":2,"domains":{}})", "unsupported version 2"},
        corrupt_case{"no_domains", R"({"version":1})", "missing \"domains\""},
        corrupt_case{"unknown_state", R"({"version":1,"domains":{"a.example":{"state":"maybe"}}})", "maybe"},
        corrupt_case{"no_state", R"({"version":1,"domains":{"a.example":{"last_checked":1}}})", "no \"state\""},
        corrupt_case{"domain_not_normalised", R"({"version":1,"domains":{"A.example":{"state":"pending"}}})",
                     "not a normalised"},
        corrupt_case{"domain_twice",
                     R"({"version":1,"domains":{"a.example":{"state":"pending"},"a.example":{"state":"failed"}}})",
                     "twice"},
        corrupt_case{"negative_time", R"({"version":1,"domains":{"a.example":{"state":"failed","last_checked":-1}}})",
                     "negative"},
        corrupt_case{"nested_object", R"({"version":1,"domains":{"a.example":{"state":"failed","x":{}}}})",
                     "unexpected object"},
        corrupt_case{"domains_is_array", R"({"version":1,"domains":[]})", "unexpected array"},
        corrupt_case{"selector_result_not_a_string",
                     R"({"version":1,"domains":{"a.example":{"state":"verified","selectors":{"s1":5}}}})",
                     "unexpected a number"},
        corrupt_case{"selector_result_nested",
                     R"({"version":1,"domains":{"a.example":{"state":"verified","selectors":{"s1":{}}}}})",
                     "unexpected object"},
        corrupt_case{"selectors_as_array",
                     R"({"version":1,"domains":{"a.example":{"state":"verified","selectors":[]}}})",
                     "unexpected array"},
        corrupt_case{"seventeen_selectors",
                     R"({"version":1,"domains":{"a.example":{"state":"verified","selectors":{)"
                     R"("a":"match","b":"match","c":"match","d":"match","e":"match","f":"match","g":"match",)"
                     R"("h":"match","i":"match","j":"match","k":"match","l":"match","m":"match","n":"match",)"
                     R"("o":"match","p":"match","q":"match"}}}})",
                     "more than 16 selectors"}),
    [](const auto& info) { return std::string(info.param.name); });

class state_file : public testing::Test {
protected:
    std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("state_store_test." + std::to_string(getpid()));
    std::string path = (dir / "state.json").string();
    void SetUp() override { std::filesystem::create_directories(dir); }
    void TearDown() override { std::filesystem::remove_all(dir); }
};

TEST_F(state_file, a_missing_file_means_every_domain_pending) {
    auto r = read_state_file(path);
    ASSERT_TRUE(r) << r.error();
    EXPECT_TRUE(r->empty());
}

TEST_F(state_file, write_then_read_round_trips_and_leaves_no_temporary_file) {
    ASSERT_TRUE(write_state_file(path, sample()));
    auto r = read_state_file(path);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->size(), sample().size());
    std::size_t files = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++files;
    EXPECT_EQ(files, 1u) << "only state.json remains";
}

TEST_F(state_file, a_corrupt_file_is_reported_with_its_path) {
    std::ofstream(path) << "{\"version\":1,\"domains\":{";
    auto r = read_state_file(path);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().starts_with(path + ": corrupt state file")) << r.error();
}

TEST_F(state_file, a_write_replaces_the_file_by_rename_so_readers_never_see_a_mix) {
    ASSERT_TRUE(write_state_file(path, sample()));
    auto before = std::filesystem::status(path);
    std::ifstream held(path);  // a reader holding the old file keeps reading the old inode
    state_map bigger = sample();
    for (int i = 0; i < 1000; ++i) bigger["d" + std::to_string(i) + ".example"] = {};
    ASSERT_TRUE(write_state_file(path, bigger));
    std::string old_text((std::istreambuf_iterator<char>(held)), std::istreambuf_iterator<char>());
    EXPECT_EQ(old_text, encode_state(sample()));
    EXPECT_EQ(read_state_file(path)->size(), bigger.size());
    (void)before;
}

TEST_F(state_file, writing_into_a_missing_folder_fails_with_a_message) {
    auto r = write_state_file((dir / "no" / "such" / "state.json").string(), sample());
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("cannot create temporary file"), std::string::npos) << r.error();
}

// write_state_file succeeds only after sync_directory succeeded on the state file's folder
// (state_store.cpp); the folder sync's failures are shown here, where they can be made to
// happen: a vanished folder, a path that is not a folder.
TEST_F(state_file, a_folder_sync_that_cannot_happen_is_an_error_naming_the_folder) {
    EXPECT_TRUE(sync_directory(dir.string()));
    auto missing = sync_directory((dir / "gone").string());
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().find((dir / "gone").string() + ": cannot open folder to sync it"), std::string::npos)
        << missing.error();
    std::ofstream(path) << "x";
    auto not_folder = sync_directory(path);
    ASSERT_FALSE(not_folder);
    EXPECT_NE(not_folder.error().find("Not a directory"), std::string::npos) << not_folder.error();
}

TEST_F(state_file, concurrent_updates_lose_nothing) {
    std::vector<std::thread> writers;
    for (int t = 0; t < 4; ++t) {
        writers.emplace_back([this, t] {
            for (int i = 0; i < 25; ++i) {
                auto r = update_state_file(path, [&](state_map& m) {
                    m["t" + std::to_string(t) + "-" + std::to_string(i) + ".example"].state =
                        verification_state::verified;
                });
                ASSERT_TRUE(r) << r.error();
            }
        });
    }
    for (auto& w : writers) w.join();
    auto r = read_state_file(path);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->size(), 100u);
}

}  // namespace
}  // namespace relaygate::registry
