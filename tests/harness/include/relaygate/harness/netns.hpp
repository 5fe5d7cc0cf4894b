// netns.hpp: e2e tests run under tests/harness/in-netns, a fresh network + mount
// namespace with lo up and /etc/resolv.conf bind-mounted to "nameserver
// 127.0.0.1" (the host file is never touched). e2e fixtures call
// require_private_netns() so a run outside the wrapper fails loudly.
#pragma once

#include <string>

#include <gtest/gtest.h>

namespace relaygate::harness {

// True when our network namespace differs from PID 1's.
bool in_private_netns();
// Empty when we are in a private netns whose resolv.conf names 127.0.0.1;
// otherwise a sentence saying what is wrong (for ASSERT/GTEST_FAIL messages).
std::string private_netns_problem();

// Base fixture for e2e tests: fails the test at once outside a private netns.
//   class MilterE2e : public relaygate::harness::netns_test { ... };
// (A derived SetUp must call netns_test::SetUp() first.)
class netns_test : public testing::Test {
protected:
    void SetUp() override { ASSERT_EQ(private_netns_problem(), ""); }
};

}  // namespace relaygate::harness
