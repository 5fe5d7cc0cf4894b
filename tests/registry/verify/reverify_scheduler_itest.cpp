// reverify_scheduler against the real DNS fixture: a pass verifies the due
// domains (oldest first, bounded), records them in the state file, the
// reloader publishes them, nothing is due again until reverify_interval has
// passed on the injected clock, and the background thread runs passes itself.
#include "relaygate/verify/reverify_scheduler.hpp"

#include <gtest/gtest.h>

#include "relaygate/harness/dns_server.hpp"
#include "relaygate/harness/temp_dir.hpp"
#include "relaygate/registry/registry_loader.hpp"
#include "relaygate/registry/state_store.hpp"

namespace relaygate::registry {
namespace {

using namespace std::chrono_literals;
const std::string keys = RELAYGATE_SOURCE_DIR "/tests/testdata/keys/admin/";

std::string read_all(const std::string& path) { return harness::read_file(path); }

std::vector<std::string> zone() {
    std::string p = read_all(keys + "rsa2048.p");
    std::string rsa = "v=DKIM1; k=rsa; p=" + p;
    return {"local-zone: \"sched.test.\" static",
            "local-data: \"sched.test. 3600 IN SOA ns.sched.test. h.sched.test. 1 3600 600 86400 60\"",
            "local-data: 's1._domainkey.good.sched.test. 300 IN TXT \"" + rsa.substr(0, 255) + "\" \"" +
                rsa.substr(255) + "\"'",
            "local-data: 'good.sched.test. 300 IN TXT \"v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 -all\"'",
            "local-data: 'nodkim.sched.test. 300 IN TXT \"v=spf1 ip4:192.0.2.10 ip4:192.0.2.11 -all\"'"};
}

class reverify_scheduler_test : public testing::Test {
protected:
    harness::dns_server dns{{}, 0, zone()};
    harness::temp_dir dir{"reverify"};
    registry_options opts;
    std::unique_ptr<dns::resolver> resolver;
    std::unique_ptr<domain_verifier> verifier;
    std::int64_t now = 1'800'000'000;

    void SetUp() override {
        opts.admin_file = (dir / "domains.conf").string();
        opts.state_file = (dir / "state.json").string();
        opts.outbound_ips = {"192.0.2.10", "192.0.2.11"};
        opts.reverify_interval = 1h;
        harness::write_file(opts.admin_file, "good.sched.test selector=s1 key=" + keys + "rsa2048.pem owner=g\n" +
                                                 "nodkim.sched.test selector=s1 key=" + keys + "rsa2048.pem owner=n\n" +
                                                 "down.servfail.test selector=s1 key=" + keys +
                                                 "rsa2048.pem owner=d\n");
        resolver =
            std::make_unique<dns::resolver>(dns::resolver_options{.forwarders = {dns.forwarder()}, .timeout = 1000ms});
        verifier = std::make_unique<domain_verifier>(*resolver, opts.outbound_ips, 1024);
    }
};

TEST_F(reverify_scheduler_test, a_pass_verifies_due_domains_and_the_reloader_publishes_them) {
    registry_handle handle(*load_snapshot(opts));
    registry_reloader reloader(opts, handle, std::chrono::hours(1));
    reverify_scheduler sched(opts, handle, *verifier, [this] { return now; });

    auto pass = sched.run_once();
    EXPECT_EQ(pass.error, "");
    EXPECT_EQ(pass.due, 3u);
    EXPECT_EQ(pass.verified, 1u);
    EXPECT_EQ(pass.failed, 1u);
    EXPECT_EQ(pass.pending, 1u) << "down.servfail.test: temporary, stays pending";
    EXPECT_EQ(pass.temporary, 1u);

    EXPECT_EQ(sched.run_once().due, 0u) << "just checked, even before the reloader has published";
    ASSERT_TRUE(reloader.reload_now());
    auto snap = handle.current();
    EXPECT_EQ(snap->status_of("good.sched.test").state, verification_state::verified);
    EXPECT_EQ(snap->status_of("nodkim.sched.test").state, verification_state::failed);
    EXPECT_EQ(snap->status_of("nodkim.sched.test").reason_code, "dkim_no_record");
    EXPECT_EQ(snap->status_of("good.sched.test").last_checked, now);
    EXPECT_EQ(sched.run_once().due, 0u);

    now += 3599;
    EXPECT_EQ(sched.run_once().due, 0u) << "one second before the interval";
    now += 1;
    EXPECT_EQ(sched.run_once(2).due, 2u) << "bounded by max_domains";
}

TEST_F(reverify_scheduler_test, the_thread_runs_passes_until_stopped) {
    registry_handle handle(*load_snapshot(opts));
    reverify_scheduler sched(opts, handle, *verifier, [this] { return now; });
    sched.start(std::chrono::seconds(3600));  // the first pass runs at once
    bool written = false;
    for (int i = 0; i < 1000 && !written; ++i) {  // bounded wait (10 s), not a timing assertion
        std::this_thread::sleep_for(10ms);
        auto states = read_state_file(opts.state_file);
        written = states && states->size() == 3;
    }
    sched.stop();
    EXPECT_TRUE(written) << "the first pass recorded all three domains";
}

TEST_F(reverify_scheduler_test, a_backlog_larger_than_a_pass_is_drained_without_waiting_for_the_tick) {
    registry_handle handle(*load_snapshot(opts));
    reverify_scheduler sched(opts, handle, *verifier, [this] { return now; });
    sched.start(std::chrono::seconds(3600), 1);  // one domain per pass, an hour's tick
    bool written = false;
    for (int i = 0; i < 1000 && !written; ++i) {  // bounded wait (10 s), not a timing assertion
        std::this_thread::sleep_for(10ms);
        auto states = read_state_file(opts.state_file);
        written = states && states->size() == 3;
    }
    sched.stop();
    EXPECT_TRUE(written) << "three passes of one domain ran back to back, not one per hour";
}

}  // namespace
}  // namespace relaygate::registry
