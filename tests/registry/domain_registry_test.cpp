// domain_registry: exact match for customer domains, subdomains for operator domains,
// and snapshot publication through registry_handle.
#include "relaygate/registry/domain_registry.hpp"

#include <gtest/gtest.h>

namespace relaygate::registry {
namespace {

domain_registry sample() {
    std::vector<domain_entry> entries{{.domain = "example.com", .selector = "s1"},
                                      {.domain = "xn--bcher-kva.example", .selector = "s2"}};
    std::unordered_map<std::string, verification_status> states;
    states["example.com"].state = verification_state::verified;
    return domain_registry(std::move(entries), std::move(states), {"relay.example.net"});
}

TEST(domain_registry, finds_registered_domains_exactly) {
    auto reg = sample();
    ASSERT_NE(reg.find("example.com"), nullptr);
    EXPECT_EQ(reg.find("example.com")->selector, "s1");
    EXPECT_EQ(reg.find("news.example.com"), nullptr);
    EXPECT_EQ(reg.find("ample.com"), nullptr);
    EXPECT_EQ(reg.find("EXAMPLE.COM"), nullptr) << "keys are normalised at load, lookups take normalised input";
}

TEST(domain_registry, unknown_or_unchecked_domains_are_pending) {
    auto reg = sample();
    EXPECT_EQ(reg.status_of("example.com").state, verification_state::verified);
    EXPECT_EQ(reg.status_of("xn--bcher-kva.example").state, verification_state::pending);
    EXPECT_EQ(reg.status_of("nowhere.example").state, verification_state::pending);
}

TEST(domain_registry, signs_with_the_selector_the_state_names_during_a_rotation) {
    std::vector<domain_entry> entries{
        {.domain = "rot.example", .selector = "s1", .key_path = "/k/s1.pem", .newer_selectors = {{"s2", "/k/s2.pem"}}},
        {.domain = "gone.example", .selector = "s1", .key_path = "/k/g1.pem", .newer_selectors = {{"s2", "/k/g2.pem"}}},
        {.domain = "one.example", .selector = "only", .key_path = "/k/one.pem"}};
    std::unordered_map<std::string, verification_status> states;
    states["rot.example"] = {.state = verification_state::verified,
                             .signing_selector = "s2",
                             .signing_since = 1700000000,
                             .selectors = {{"s1", "match"}, {"s2", "match"}}};
    states["gone.example"] = {.state = verification_state::verified, .signing_selector = "s0"};  // edited away
    domain_registry reg(std::move(entries), states, {});
    const auto* rot = reg.find("rot.example");
    EXPECT_EQ(reg.signing_selector_of(*rot).name, "s2");
    EXPECT_EQ(reg.signing_selector_of(*rot).key_path, "/k/s2.pem");
    auto st = reg.status_of("rot.example");
    EXPECT_EQ(st.signing_selector, "s2");
    EXPECT_EQ(st.signing_since, 1700000000);
    ASSERT_EQ(st.selectors.size(), 2u);
    EXPECT_EQ(st.selectors[1].outcome, "match");
    EXPECT_EQ(reg.signing_selector_of(*reg.find("gone.example")).name, "s1") << "unknown selector: the first signs";
    EXPECT_EQ(reg.signing_selector_of(*reg.find("one.example")).key_path, "/k/one.pem");
    EXPECT_EQ(reg.status_of("one.example").signing_selector, "only");
}

TEST(domain_registry, operator_domains_cover_subdomains_only_at_a_dot) {
    auto reg = sample();
    EXPECT_TRUE(reg.is_operator_domain("relay.example.net"));
    EXPECT_TRUE(reg.is_operator_domain("bounces.relay.example.net"));
    EXPECT_FALSE(reg.is_operator_domain("evilrelay.example.net"));
    EXPECT_FALSE(reg.is_operator_domain("example.net"));
}

TEST(domain_registry, duplicate_domain_is_a_broken_invariant) {
    std::vector<domain_entry> entries{{.domain = "a.example"}, {.domain = "a.example"}};
    EXPECT_THROW(domain_registry(std::move(entries), {}, {}), std::logic_error);
}

TEST(registry_handle, readers_keep_their_snapshot_across_a_publish) {
    registry_handle handle(std::make_shared<domain_registry>(sample()));
    auto held = handle.current();
    handle.publish(std::make_shared<domain_registry>());
    EXPECT_EQ(held->size(), 2u);
    EXPECT_EQ(handle.current()->size(), 0u);
}

}  // namespace
}  // namespace relaygate::registry
