// message_log / rejection_log: the syslog line keeps queue id first and
// key=value after it; the JSON line carries every field of the rejection
// record and stays valid JSON for hostile bytes; the file survives a rotation.
#include "relaygate/milter/message_log.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "relaygate/log/decision_line.hpp"
#include "relaygate/milter/rejection_log.hpp"

namespace relaygate::milter {
namespace {

decision rejected() {
    decision d;
    d.action = verdict::reject;
    d.worst = severity::permanent;
    d.reason_code = "dkim_no_record";
    d.reason_text = "From domain a.example is not verified: no DKIM key at s1._domainkey.a.example";
    d.domain = "a.example";
    d.from_domains = {"a.example", "b.example"};
    d.reply = {"550", "5.7.1", d.reason_text};
    return d;
}

const message_record record{.queue_id = "3F2A81C0",
                            .client_address = "192.0.2.9",
                            .sasl_login = "alice",
                            .envelope_sender = "bounce@a.example",
                            .recipient_count = 3,
                            .time = 1796148000};

TEST(message_log, syslog_line_starts_with_queue_id_then_key_values) {
    EXPECT_EQ(format_decision_line(record, rejected()),
              "3F2A81C0 reject reason=dkim_no_record domain=a.example from_domains=a.example,b.example "
              "client=192.0.2.9 sasl=alice sender=bounce@a.example rcpts=3 "
              "reply=\"550 5.7.1 From domain a.example is not verified: no DKIM key at s1._domainkey.a.example\"");
}

TEST(message_log, syslog_line_without_queue_id_uses_dash_and_quotes_empty_values) {
    decision d;
    d.from_domains = {"relay.example.net"};
    EXPECT_EQ(format_decision_line({}, d),
              "- accept reason=ok from_domains=relay.example.net client=\"\" sasl=\"\" sender=\"\" rcpts=0");
}

TEST(message_log, syslog_line_cannot_be_split_by_hostile_values) {
    message_record m = record;
    m.envelope_sender = "x@y\nFAKE 1234 accept";
    auto line = format_decision_line(m, rejected());
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_NE(line.find("sender=\"x@y\\x0aFAKE 1234 accept\""), std::string::npos) << line;
}

// The signing outcome reaches the line as the codec's closed status, typed all the way (no text parsed back).
TEST(message_log, signing_outcome_reaches_the_line_as_its_status) {
    struct row {
        signing_outcome dkim;
        log::dkim_status read_back;
        std::string shown;  // "" = no dkim= field
    };
    for (const auto& r :
         std::vector<row>{{{dkim_status::off}, log::dkim_status::off, " dkim=off"},
                          {{dkim_status::not_delivered}, log::dkim_status::not_shown, ""},
                          {{dkim_status::not_signed}, log::dkim_status::unsigned_, " dkim=unsigned"},
                          {{dkim_status::signed_ok}, log::dkim_status::signed_, " dkim=signed"},
                          {{dkim_status::failed, "no key"}, log::dkim_status::error, " dkim=\"error:no key\""}}) {
        message_record m = record;
        m.dkim = r.dkim;
        decision d;
        d.from_domains = {"a.example"};
        const std::string line = format_decision_line(m, d);
        EXPECT_TRUE(line.ends_with("rcpts=3" + r.shown)) << line;
        const auto back = log::read_decision_line("relaygate-milter", line);
        ASSERT_EQ(back.what, log::decision_read::outcome::decision) << line;
        EXPECT_EQ(back.fields.dkim, r.read_back) << line;
    }
}

TEST(message_log, json_record_has_every_field) {
    auto j = nlohmann::json::parse(format_rejection_json(record, rejected()));
    EXPECT_EQ(j["time"], "2026-12-01T18:00:00Z");
    EXPECT_EQ(j["queue_id"], "3F2A81C0");
    EXPECT_EQ(j["action"], "reject");
    EXPECT_EQ(j["client_address"], "192.0.2.9");
    EXPECT_EQ(j["sasl_login"], "alice");
    EXPECT_EQ(j["envelope_sender"], "bounce@a.example");
    EXPECT_EQ(j["from_domains"], (nlohmann::json{"a.example", "b.example"}));
    EXPECT_EQ(j["recipient_count"], 3);
    EXPECT_EQ(j["reason_code"], "dkim_no_record");
    EXPECT_EQ(j["reason_text"], rejected().reason_text);
    EXPECT_EQ(j["reply"], "550 5.7.1 " + rejected().reason_text);
}

TEST(message_log, json_record_is_one_valid_line_for_invalid_utf8_and_newlines) {
    message_record m = record;
    m.envelope_sender = "\xff\xfe@x\n\"y";
    auto line = format_rejection_json(m, rejected());
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_TRUE(nlohmann::json::accept(line));
}

TEST(message_log, only_non_accepted_decisions_are_rejections) {
    decision d;
    EXPECT_FALSE(is_logged_as_rejection(d));
    d.action = verdict::tag;
    EXPECT_TRUE(is_logged_as_rejection(d));
    EXPECT_TRUE(is_logged_as_rejection(rejected()));
}

struct temp_dir {
    std::filesystem::path path;
    temp_dir() {
        std::string t = (std::filesystem::temp_directory_path() / "rg-rejlog.XXXXXX").string();
        path = mkdtemp(t.data());
    }
    ~temp_dir() { std::filesystem::remove_all(path); }
};

std::string slurp(const std::filesystem::path& p) {
    std::ifstream f(p);
    return {std::istreambuf_iterator<char>(f), {}};
}

TEST(rejection_log, appends_lines_and_reopens_after_rotation) {
    temp_dir dir;
    rejection_log log;
    ASSERT_TRUE(log.open((dir.path / "rej.log").string()).has_value());
    EXPECT_TRUE(log.append("{\"n\":1}"));
    std::filesystem::rename(dir.path / "rej.log", dir.path / "rej.log.1");  // logrotate
    EXPECT_TRUE(log.append("{\"n\":2}"));                                   // still the old file
    ASSERT_TRUE(log.reopen().has_value());
    EXPECT_TRUE(log.append("{\"n\":3}"));
    EXPECT_EQ(slurp(dir.path / "rej.log.1"), "{\"n\":1}\n{\"n\":2}\n");
    EXPECT_EQ(slurp(dir.path / "rej.log"), "{\"n\":3}\n");
}

TEST(rejection_log, open_error_names_the_path) {
    rejection_log log;
    auto r = log.open("/nonexistent-dir/rej.log");
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().find("/nonexistent-dir/rej.log"), std::string::npos);
    EXPECT_FALSE(log.enabled());
}

}  // namespace
}  // namespace relaygate::milter
