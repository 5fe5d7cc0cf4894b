// failure_ledger_test.cpp: the SQLite ledger in a temporary file: insert once,
// close on a later delivery (same queue id, or a requeue's new id with the same
// Message-ID), filters, reopen, and --since parsing.
#include "watch/failure_ledger.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace relaygate::watch {
namespace {

class ledger_file : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/watch-ledger.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir = tmpl;
    }
    void TearDown() override { std::filesystem::remove_all(dir); }
    std::string dir;
};

failure_record row(std::string qid, std::string rcpt, std::string status, std::int64_t t,
                   std::string family = "microsoft") {
    return {.time = t,
            .queue_id = std::move(qid),
            .message_id = "<m1@brand.test>",
            .sender = "news@brand.test",
            .recipient = std::move(rcpt),
            .family = std::move(family),
            .transport = "msft-out",
            .status = std::move(status),
            .dsn = "4.7.1",
            .reply = "host x said: 550 5.7.1 (S3140)",
            .cls = "ip_blocklisted"};
}

TEST_F(ledger_file, records_once_closes_on_delivery_and_survives_reopen) {
    const std::string path = dir + "/ledger.sqlite";
    {
        auto l = failure_ledger::open(path);
        ASSERT_TRUE(l.has_value()) << l.error();
        auto& led = **l;
        ASSERT_TRUE(led.begin());
        EXPECT_TRUE(led.record(row("AAAAA1", "bob@outlook.test", "deferred", 100)));
        EXPECT_TRUE(led.record(row("AAAAA1", "bob@outlook.test", "deferred", 200)));  // ignored: same key
        EXPECT_TRUE(led.record(row("AAAAA1", "carol@outlook.test", "deferred", 100)));
        EXPECT_TRUE(led.record(row("BBBBB2", "x@gmail.test", "bounced", 150, "other")));
        ASSERT_TRUE(led.commit());
        EXPECT_EQ(led.list({}).size(), 3u);
        EXPECT_EQ(led.list({.family = "microsoft"}).size(), 2u);
        EXPECT_EQ(led.list({.since = 120}).size(), 1u);
        // carol delivered after a requeue: new queue id, same Message-ID.
        auto d = row("CCCCC3", "carol@outlook.test", "sent", 300);
        EXPECT_TRUE(led.close(d));
        EXPECT_EQ(led.open_rows(), 2u * 2 + 1);  // bob (q+m), x (q+m)... minus carol's two
    }
    auto l = failure_ledger::open(path, true);
    ASSERT_TRUE(l.has_value()) << l.error();
    const auto open_rows = (*l)->list({});
    ASSERT_EQ(open_rows.size(), 2u);
    EXPECT_EQ(open_rows[0].record.recipient, "bob@outlook.test");
    EXPECT_EQ(open_rows[0].record.message_id, "<m1@brand.test>");
    EXPECT_EQ(open_rows[0].record.sender, "news@brand.test");
    EXPECT_EQ(open_rows[0].record.time, 100);
    const auto all = (*l)->list({.include_delivered = true});
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[1].record.recipient, "carol@outlook.test");
    EXPECT_EQ(all[1].delivered_at, 300);
}

TEST_F(ledger_file, unopenable_path_is_an_error) {
    const auto l = failure_ledger::open(dir + "/no/such/dir/ledger.sqlite");
    EXPECT_FALSE(l.has_value());
}

TEST(parse_since, forms) {
    const std::int64_t now = 1796149800;
    EXPECT_EQ(*parse_since("1700000000", now), 1700000000);
    EXPECT_EQ(*parse_since("30m", now), now - 1800);
    EXPECT_EQ(*parse_since("2h", now), now - 7200);
    EXPECT_EQ(*parse_since("7d", now), now - 7 * 86400);
    EXPECT_EQ(*parse_since("2026-12-01", now), 1796083200);
    EXPECT_EQ(*parse_since("2026-12-01T18:28:52Z", now), 1796149732);
    for (const char* bad : {"", "-5", "2h30", "x", "2026-13-01", "h", "99999999999d"}) {
        EXPECT_FALSE(parse_since(bad, now).has_value()) << bad;
    }
}

}  // namespace
}  // namespace relaygate::watch
