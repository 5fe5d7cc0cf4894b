// failures_command_itest.cpp: `relaygate-admin failures` (admin/failures_command.cpp)
// on a real ledger file: open rows only by default, --all, --family, --json,
// --since, and a bad --since or ledger as usage errors.
#include <gtest/gtest.h>

#include "relaygate/harness/child_process.hpp"
#include "relaygate/harness/temp_dir.hpp"
#include "watch/failure_ledger.hpp"

namespace relaygate::watch {
namespace {

const std::string admin_bin = std::string(RELAYGATE_BINARY_DIR) + "/admin/relaygate-admin";

failure_record row(std::string qid, std::string rcpt, std::string status, std::int64_t t, std::string family) {
    return {.time = t,
            .queue_id = std::move(qid),
            .message_id = "<m-" + rcpt + ">",
            .sender = "news@brand.test",
            .recipient = rcpt,
            .family = std::move(family),
            .transport = "msft-out",
            .status = std::move(status),
            .dsn = "4.7.1",
            .reply = "host x said: 550 5.7.1 (S3140)",
            .cls = "ip_blocklisted"};
}

TEST(admin_failures, lists_what_must_be_resent) {
    harness::temp_dir dir("watch-admin");
    const auto ledger = (dir / "ledger.sqlite").string();
    {
        auto l = failure_ledger::open(ledger);
        ASSERT_TRUE(l.has_value()) << l.error();
        ASSERT_TRUE((*l)->record(row("AAAAA1", "bob@outlook.test", "expired", 1796100000, "microsoft")));
        ASSERT_TRUE((*l)->record(row("BBBBB2", "eve@gmail.test", "bounced", 1796100100, "other")));
        ASSERT_TRUE((*l)->record(row("CCCCC3", "amy@outlook.test", "deferred", 1796100200, "microsoft")));
        auto delivered = row("DDDDD4", "amy@outlook.test", "sent", 1796100300, "microsoft");
        ASSERT_TRUE((*l)->close(delivered));
    }
    auto run = [&](std::vector<std::string> extra) {
        // The global options are the operator's config (an outbound IP is mandatory there).
        std::vector<std::string> argv = {admin_bin, "--outbound-ip=192.0.2.1", "failures", "--ledger", ledger};
        argv.insert(argv.end(), extra.begin(), extra.end());
        return harness::run_command(argv, std::chrono::seconds(30));
    };
    const auto all_open = run({"--since", "0"});
    ASSERT_EQ(all_open.exit_code, 0) << all_open.output;
    EXPECT_NE(all_open.output.find("AAAAA1 expired bob@outlook.test family=microsoft"), std::string::npos)
        << all_open.output;
    EXPECT_NE(all_open.output.find("BBBBB2 bounced eve@gmail.test"), std::string::npos);
    EXPECT_EQ(all_open.output.find("amy@outlook.test"), std::string::npos);  // delivered later: nothing to resend
    const auto msft = run({"--since", "0", "--family", "microsoft", "--json"});
    ASSERT_EQ(msft.exit_code, 0) << msft.output;
    EXPECT_EQ(msft.output.find("eve@gmail.test"), std::string::npos);
    EXPECT_NE(msft.output.find("\"message_id\":\"<m-bob@outlook.test>\""), std::string::npos) << msft.output;
    const auto with_closed = run({"--since", "0", "--all"});
    EXPECT_NE(with_closed.output.find("amy@outlook.test"), std::string::npos);
    EXPECT_NE(with_closed.output.find("delivered_at=1796100300"), std::string::npos);
    const auto recent = run({"--since", "1796100050"});
    EXPECT_EQ(recent.output.find("bob@outlook.test"), std::string::npos);
    EXPECT_NE(recent.output.find("eve@gmail.test"), std::string::npos);
    EXPECT_EQ(run({"--since", "yesterday"}).exit_code, 2);
    const auto missing = harness::run_command(
        {admin_bin, "--outbound-ip=192.0.2.1", "failures", "--ledger", (dir / "none.sqlite").string()});
    EXPECT_EQ(missing.exit_code, 2) << missing.output;
}

}  // namespace
}  // namespace relaygate::watch
