// rotate_command: `relaygate-admin rotate` through admin_core's injected
// environment — the new key (0600, beside the old one, named after the date),
// the exact DKIM record of that key, the admin-file line that the parser
// accepts with both selectors, its refusals (already rotating, selector taken,
// bad type, existing key file); then `status` and `records` of a domain under
// rotation, with the old selector removable only after rotation-overlap.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "relaygate/admin/admin_command.hpp"
#include "relaygate/harness/temp_dir.hpp"
#include "relaygate/registry/admin_file.hpp"
#include "relaygate/registry/state_store.hpp"
#include "relaygate/verify/dkim_verifier.hpp"

namespace relaygate::admin {
namespace {

using harness::read_file;
using harness::write_file;
using registry::verification_state;

const std::string golden_keys = RELAYGATE_SOURCE_DIR "/tests/testdata/keys/admin/";
constexpr std::int64_t fixed_now = 1764612000;  // 2025-12-01T18:00:00Z

struct outcome {
    int exit_code;
    std::string out, err;
};

// The line after the first line of text starting with prefix.
std::string line_after(const std::string& text, const std::string& prefix) {
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) {
        if (l.starts_with(prefix)) {
            std::getline(in, l);
            return l;
        }
    }
    return "";
}

class rotate_command : public testing::Test {
protected:
    harness::temp_dir dir{"admin-rotate"};
    std::string config = (dir / "relaygate.conf").string();
    std::string domains = (dir / "domains.conf").string();
    std::string state = (dir / "state.json").string();
    std::string keys = (dir / "keys").string();

    void SetUp() override {
        std::filesystem::create_directories(keys);
        std::filesystem::copy_file(golden_keys + "rsa2048.pem", keys + "/a.example.pem");
        write_file(config, "admin-file = " + domains + "\nstate-file = " + state + "\noutbound-ip = 192.0.2.10\n");
        write_file(domains, "a.example selector=s1 key=" + keys +
                                "/a.example.pem owner=\"A \\\"Corp\\\" <ops@a.example>\" sasl=a1,a2 "
                                "networks=192.0.2.0/24\n"
                                "r.example selector=old key=" +
                                golden_keys + "rsa2048.pem selector=new key=" + golden_keys + "ed25519.pem owner=r\n");
    }
    outcome admin(std::vector<std::string> args) {
        std::ostringstream out, err;
        args.insert(args.begin(), {"--config", config, "--log-sink", "stderr"});
        int rc = run(args, {.out = out, .err = err, .now = [] { return fixed_now; }});
        return {rc, out.str(), err.str()};
    }
};

TEST_F(rotate_command, writes_a_0600_key_beside_the_old_one_and_prints_its_record_and_the_line) {
    auto r = admin({"rotate", "a.example"});
    ASSERT_EQ(r.exit_code, exit_ok) << r.err;
    const std::string key_file = keys + "/a.example.s20251201.pem";  // s + the injected clock's date
    struct stat st {};
    ASSERT_EQ(::stat(key_file.c_str(), &st), 0) << r.out;
    EXPECT_EQ(st.st_mode & 07777, 0600u);

    auto key = registry::load_held_key(key_file);
    ASSERT_TRUE(key) << key.error();
    EXPECT_EQ(key->algorithm, registry::key_algorithm::rsa);
    EXPECT_EQ(key->bits, 2048u);
    EXPECT_EQ(line_after(r.out, "   Name:  s20251201._domainkey.a.example"),
              "   Value: " + registry::dkim_record_for(*key));

    const auto line = line_after(r.out, "2. Replace the line of a.example");
    auto parsed = registry::parse_admin_text(line, "printed line");
    ASSERT_TRUE(parsed.ok()) << parsed.summary() << "\n" << line;
    const auto& e = parsed.entries.at(0);
    EXPECT_EQ(registry::selector_count(e), 2u);
    EXPECT_EQ(e.selector, "s1");
    EXPECT_EQ(registry::selector_name(e, 1), "s20251201");
    EXPECT_EQ(registry::selector_key(e, 1), key_file);
    EXPECT_EQ(e.owner, "A \"Corp\" <ops@a.example>") << "every other field carried over";
    EXPECT_EQ(e.sasl_logins, (std::vector<std::string>{"a1", "a2"}));
    ASSERT_EQ(e.client_networks.size(), 1u);
    EXPECT_NE(r.out.find("relaygate keeps signing with s1 until s20251201"), std::string::npos) << r.out;
    EXPECT_EQ(read_file(domains).find("s20251201"), std::string::npos) << "the admin file is never written";
}

TEST_F(rotate_command, ed25519_with_a_chosen_selector_and_key_file) {
    const std::string key_file = (dir / "new.pem").string();
    auto r = admin({"rotate", "a.example", "--type", "ed25519", "--selector", "rg2", "--key-file", key_file});
    ASSERT_EQ(r.exit_code, exit_ok) << r.err;
    auto key = registry::load_held_key(key_file);
    ASSERT_TRUE(key) << key.error();
    EXPECT_EQ(key->algorithm, registry::key_algorithm::ed25519);
    EXPECT_EQ(line_after(r.out, "   Name:  rg2._domainkey.a.example"), "   Value: " + registry::dkim_record_for(*key));
    EXPECT_NE(r.out.find("v=DKIM1; k=ed25519; p="), std::string::npos) << r.out;
}

struct refusal {
    const char* name;
    std::vector<std::string> args;
    std::string message_part;
};
void PrintTo(const refusal& c, std::ostream* os) { *os << c.name; }

class rotate_refuses : public rotate_command, public testing::WithParamInterface<refusal> {};

TEST_P(rotate_refuses, with_exit_2_and_a_message_and_writes_no_key) {
    auto r = admin(GetParam().args);
    EXPECT_EQ(r.exit_code, exit_usage) << r.out;
    EXPECT_NE(r.err.find(GetParam().message_part), std::string::npos) << r.err;
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(keys), std::filesystem::directory_iterator()), 1)
        << "only the old key";
}

INSTANTIATE_TEST_SUITE_P(
    rotate, rotate_refuses,
    testing::Values(refusal{"already_rotating", {"rotate", "r.example"}, "r.example is already rotating"},
                    refusal{"selector_taken", {"rotate", "a.example", "--selector", "s1"}, "selector s1 is already"},
                    refusal{"bad_selector", {"rotate", "a.example", "--selector", "s_1"}, "only letters"},
                    refusal{"bad_type", {"rotate", "a.example", "--type", "dsa"}, "--type must be rsa or ed25519"},
                    refusal{"bad_rsa_size", {"rotate", "a.example", "--bits", "512"}, "outside 1024..4096"},
                    refusal{"unregistered", {"rotate", "nope.example"}, "not registered"},
                    refusal{"relative_key_file", {"rotate", "a.example", "--key-file", "k.pem"}, "absolute path"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(rotate_command, never_overwrites_an_existing_key_file) {
    const std::string key_file = (dir / "taken.pem").string();
    write_file(key_file, "not to be lost");
    const auto before = read_file(key_file);
    auto r = admin({"rotate", "a.example", "--key-file", key_file});
    EXPECT_EQ(r.exit_code, exit_usage);
    EXPECT_NE(r.err.find("cannot create: File exists"), std::string::npos) << r.err;
    EXPECT_EQ(read_file(key_file), before);
}

// The state of r.example after a switch to "new" at `since`.
void switched(const std::string& state, std::int64_t since) {
    registry::state_map states;
    states["r.example"] = {.state = verification_state::verified,
                           .last_checked = fixed_now,
                           .verified_since = 1764500000,
                           .signing_selector = "new",
                           .signing_since = since,
                           .selectors = {{"old", "match"}, {"new", "match"}}};
    ASSERT_TRUE(write_state_file(state, states));
}

TEST_F(rotate_command, status_shows_the_signing_selector_and_the_old_one_removable_only_after_the_overlap) {
    switched(state, fixed_now - 3600);
    auto r = admin({"status", "r.example"});
    EXPECT_NE(r.out.find("[DKIM rotation: old=match (removable at 2025-12-08T17:00:00Z) new=match (signing since "
                         "2025-12-01T17:00:00Z)]"),
              std::string::npos)
        << r.out;
    switched(state, fixed_now - 7 * 86400);
    r = admin({"status", "r.example"});
    EXPECT_NE(r.out.find("old=match (removable: unpublish it"), std::string::npos) << r.out;
    r = admin({"status", "--json", "r.example"});
    auto doc = nlohmann::json::parse(r.out);
    const auto& d = doc["domains"][0];
    EXPECT_EQ(d["signing_selector"], "new");
    EXPECT_EQ(d["selectors"][0]["removable"], true);
    EXPECT_EQ(d["selectors"][1]["signing"], true);
}

TEST_F(rotate_command, status_before_any_check_signs_with_the_first_selector) {
    auto r = admin({"status", "r.example"});
    EXPECT_NE(r.out.find("[DKIM rotation: old=unchecked (signing) new=unchecked]"), std::string::npos) << r.out;
}

TEST_F(rotate_command, records_lists_every_selector_with_what_to_do_with_it) {
    switched(state, fixed_now - 8 * 86400);
    auto r = admin({"records", "r.example"});
    EXPECT_EQ(r.exit_code, exit_ok) << r.err;
    EXPECT_NE(r.out.find("1.1 DKIM selector old (REMOVABLE"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("1.2 DKIM selector new (signing now"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Name:  new._domainkey.r.example"), std::string::npos) << r.out;
    r = admin({"records", "--zone", "r.example"});
    EXPECT_NE(r.out.find("new._domainkey.r.example. IN TXT"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace relaygate::admin
