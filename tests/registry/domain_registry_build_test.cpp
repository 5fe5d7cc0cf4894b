// domain_registry::build and set_status: the loader's path — duplicates are
// reported (not thrown), statuses land on registered domains only, and the flat
// index finds every domain of a large registry and nothing else.
#include <gtest/gtest.h>

#include "relaygate/registry/domain_registry.hpp"

namespace relaygate::registry {
namespace {

std::vector<domain_entry> many(std::size_t n) {
    std::vector<domain_entry> entries;
    for (std::size_t i = 0; i < n; ++i) entries.push_back({.domain = "d" + std::to_string(i) + ".example"});
    return entries;
}

TEST(domain_registry_build, reports_a_duplicate_with_both_entries) {
    auto entries = many(10);
    entries[7].domain = "d2.example";
    entries[7].source_line = 8;
    entries[2].source_line = 3;
    auto built = domain_registry::build(std::move(entries), {});
    ASSERT_FALSE(built);
    EXPECT_EQ(built.error().first.source_line, 3);
    EXPECT_EQ(built.error().second.source_line, 8);
    EXPECT_EQ(built.error().second.domain, "d2.example");
}

TEST(domain_registry_build, finds_every_domain_of_a_large_registry_and_no_other) {
    auto built = domain_registry::build(many(50000), {});
    ASSERT_TRUE(built);
    const auto& reg = **built;
    for (std::size_t i = 0; i < 50000; ++i) {
        auto name = "d" + std::to_string(i) + ".example";
        const auto* e = reg.find(name);
        ASSERT_NE(e, nullptr) << name;
        EXPECT_EQ(e->domain, name);
        EXPECT_EQ(reg.find("x" + name), nullptr);
    }
    EXPECT_EQ(reg.find(""), nullptr);
}

TEST(domain_registry_build, set_status_applies_to_registered_domains_only) {
    auto reg = std::move(*domain_registry::build(many(3), {}));
    EXPECT_FALSE(reg->set_status("other.example", {.state = verification_state::verified}));
    EXPECT_TRUE(reg->set_status("d1.example", {.state = verification_state::failed,
                                               .temporary_failure = true,
                                               .reason_code = "spf_fail",
                                               .reason_text = "192.0.2.1 fail",
                                               .last_checked = 5,
                                               .failing_since = 4}));
    auto st = reg->status_of("d1.example");
    EXPECT_EQ(st.state, verification_state::failed);
    EXPECT_TRUE(st.temporary_failure);
    EXPECT_EQ(st.reason_code, "spf_fail");
    EXPECT_EQ(st.reason_text, "192.0.2.1 fail");
    EXPECT_EQ(st.last_checked, 5);
    EXPECT_EQ(st.failing_since, 4);
    EXPECT_EQ(reg->status_of("d0.example").state, verification_state::pending);
    EXPECT_EQ(reg->status_of("other.example").state, verification_state::pending);
    // a later status replaces the reason, and clearing it leaves none
    reg->set_status("d1.example", {.state = verification_state::failed, .reason_code = "dkim_revoked"});
    EXPECT_EQ(reg->status_of("d1.example").reason_code, "dkim_revoked");
    EXPECT_EQ(reg->status_of("d1.example").reason_text, "");
    reg->set_status("d1.example", {.state = verification_state::verified});
    EXPECT_EQ(reg->status_of("d1.example").reason_code, "");
}

TEST(domain_registry_build, an_empty_registry_finds_nothing) {
    domain_registry empty;
    EXPECT_EQ(empty.find("a.example"), nullptr);
    EXPECT_EQ(empty.status_of("a.example").state, verification_state::pending);
}

}  // namespace
}  // namespace relaygate::registry
