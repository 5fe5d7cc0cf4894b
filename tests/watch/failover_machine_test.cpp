// failover_machine_test.cpp: the designated <-> spare state machine as a table
// of (inputs at time t) -> expected flip, with an injected clock.
#include "relaygate/watch/failover_machine.hpp"

#include <gtest/gtest.h>

namespace relaygate::watch {
namespace {

failover_spec spec() { return *failover_spec::parse("microsoft=msft-out,msft-spare,192.0.2.10"); }

TEST(failover_spec, parses_and_rejects) {
    const auto s = spec();
    EXPECT_EQ(s.family, "microsoft");
    EXPECT_EQ(s.designated, "msft-out");
    EXPECT_EQ(s.spare, "msft-spare");
    EXPECT_EQ(s.designated_ip, "192.0.2.10");
    for (const char* bad : {"", "microsoft", "microsoft=a,b", "microsoft=a,b,c,d", "=a,b,c", "m=a,a,c", "m=a,,c"}) {
        EXPECT_FALSE(failover_spec::parse(bad).has_value()) << bad;
    }
}

struct step_case {
    std::int64_t t;
    dnsbl_verdict dnsbl;
    bool alert;
    const char* expect_to;  // "" = no flip
    const char* reason_prefix;
};

void run(failover_machine& m, const std::vector<step_case>& steps) {
    for (const auto& s : steps) {
        const auto f = m.step({.dnsbl = s.dnsbl,
                               .dnsbl_detail = "zen.spamhaus.org=127.0.0.2",
                               .reputation_alert = s.alert,
                               .reputation_detail = "reputation=10 attempts=10"},
                              s.t);
        if (std::string_view(s.expect_to).empty()) {
            EXPECT_FALSE(f.has_value()) << "t=" << s.t << " flipped to " << (f ? f->to : "");
            continue;
        }
        ASSERT_TRUE(f.has_value()) << "t=" << s.t;
        EXPECT_EQ(f->to, s.expect_to) << "t=" << s.t;
        EXPECT_TRUE(f->reason.starts_with(s.reason_prefix)) << f->reason;
        m.applied(*f, s.t);
    }
}

using v = dnsbl_verdict;

TEST(failover_machine, listed_flips_then_hold_down_switches_back) {
    failover_machine m(spec(), 3600);
    run(m, {{0, v::clean, false, "", ""},
            {10, v::unknown, false, "", ""},  // unknown never flips
            {20, v::listed, false, "msft-spare", "dnsbl_listed zen.spamhaus.org=127.0.0.2"},
            {30, v::listed, false, "", ""},
            {40, v::clean, false, "", ""},  // clean starts the hold-down
            {3639, v::clean, false, "", ""},
            {3640, v::clean, false, "msft-out", "clean_for 3600s"},
            {3650, v::clean, false, "", ""}});
    EXPECT_FALSE(m.on_spare());
}

TEST(failover_machine, reputation_alert_flips_and_any_relapse_restarts_hold_down) {
    failover_machine m(spec(), 100);
    run(m, {{0, v::clean, true, "msft-spare", "reputation_alert reputation=10"},
            {50, v::clean, false, "", ""},
            {120, v::clean, true, "", ""},  // relapse: hold-down restarts
            {130, v::clean, false, "", ""},
            {200, v::unknown, false, "", ""},  // unknown is not clean: restarts too
            {210, v::clean, false, "", ""},
            {309, v::clean, false, "", ""},
            {310, v::clean, false, "msft-out", "clean_for 100s"}});
}

TEST(failover_machine, a_failed_write_is_retried_at_the_next_step) {
    failover_machine m(spec(), 100);
    const auto f1 = m.step({.dnsbl = v::listed, .dnsbl_detail = "z=127.0.0.2"}, 0);
    ASSERT_TRUE(f1.has_value());
    // Not applied (egress store write failed): still designated, flips again.
    EXPECT_FALSE(m.on_spare());
    EXPECT_TRUE(m.step({.dnsbl = v::listed, .dnsbl_detail = "z=127.0.0.2"}, 1).has_value());
}

TEST(failover_machine, restore_from_the_egress_store) {
    failover_machine m(spec(), 100);
    m.restore("msft-spare", 0);
    EXPECT_TRUE(m.on_spare());
    EXPECT_EQ(m.active(), "msft-spare");
    run(m, {{0, v::clean, false, "", ""}, {100, v::clean, false, "msft-out", "clean_for"}});
    m.restore("", 200);
    EXPECT_FALSE(m.on_spare());
}

}  // namespace
}  // namespace relaygate::watch
