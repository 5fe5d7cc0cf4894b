// verification_alert: the log line and the hook JSON of each verification
// event carry the fields docs/watch.md lists, and hostile text stays JSON.
#include "relaygate/watch/verification_alert.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace relaygate::watch {
namespace {

using registry::verification_event;
using registry::verification_event_kind;
using registry::verification_state;

verification_event grace_event() {
    verification_event e;
    e.kind = verification_event_kind::grace_started;
    e.domain = "a.example";
    e.previous_state = verification_state::verified;
    e.status = {.state = verification_state::verified,
                .reason_code = "spf_fail",
                .reason_text = "192.0.2.11: fail",
                .last_checked = 1000,
                .verified_since = 10,
                .failing_since = 1000};
    e.demote_at = 1060;
    return e;
}

TEST(verification_alert, grace_started_line_names_domain_reason_and_deadline) {
    EXPECT_EQ(verification_log_line(grace_event()),
              "- verification_alert event=grace_started domain=a.example state=verified previous=verified "
              "reason=spf_fail detail=\"192.0.2.11: fail\" demote_at=1060");
}

TEST(verification_alert, grace_started_json_has_owner_reason_and_deadline) {
    const auto j = nlohmann::json::parse(verification_hook_json(grace_event(), "ACME <ops@a.example>"));
    EXPECT_EQ(j["type"], "verification");
    EXPECT_EQ(j["event"], "grace_started");
    EXPECT_EQ(j["time"], 1000);
    EXPECT_EQ(j["domain"], "a.example");
    EXPECT_EQ(j["owner"], "ACME <ops@a.example>");
    EXPECT_EQ(j["state"], "verified");
    EXPECT_EQ(j["reason"], "spf_fail");
    EXPECT_EQ(j["detail"], "192.0.2.11: fail");
    EXPECT_EQ(j["temporary"], false);
    EXPECT_EQ(j["demote_at"], 1060);
}

TEST(verification_alert, recovered_json_has_no_reason) {
    auto e = grace_event();
    e.kind = verification_event_kind::recovered;
    e.previous_state = verification_state::failed;
    e.status = {.state = verification_state::verified, .last_checked = 2000, .verified_since = 2000};
    const auto j = nlohmann::json::parse(verification_hook_json(e, "o"));
    EXPECT_EQ(j["event"], "recovered");
    EXPECT_EQ(j["previous_state"], "failed");
    EXPECT_FALSE(j.contains("reason"));
    EXPECT_FALSE(j.contains("demote_at"));
    EXPECT_EQ(verification_log_line(e),
              "- verification_alert event=recovered domain=a.example state=verified previous=failed");
}

TEST(verification_alert, demoted_and_overdue_carry_their_times) {
    auto e = grace_event();
    e.kind = verification_event_kind::demoted;
    e.status.state = verification_state::failed;
    auto j = nlohmann::json::parse(verification_hook_json(e, "o"));
    EXPECT_EQ(j["failing_since"], 1000);
    EXPECT_EQ(j["state"], "failed");
    e.kind = verification_event_kind::pending_overdue;
    e.status.pending_since = 900;
    j = nlohmann::json::parse(verification_hook_json(e, "o"));
    EXPECT_EQ(j["pending_since"], 900);
    EXPECT_NE(verification_log_line(e).find(" pending_since=900"), std::string::npos);
}

TEST(verification_alert, hostile_text_stays_one_json_line_and_one_log_line) {
    auto e = grace_event();
    e.status.reason_text = "x\"\n\xff y=z";
    const auto text = verification_hook_json(e, "own\ner");
    EXPECT_EQ(text.find('\n'), std::string::npos);
    EXPECT_TRUE(nlohmann::json::accept(text));
    EXPECT_EQ(verification_log_line(e).find('\n'), std::string::npos);
}

TEST(verification_alert, rotation_events_name_the_selectors) {
    registry::verification_event e;
    e.kind = verification_event_kind::dkim_selector_switched;
    e.domain = "a.example";
    e.previous_state = verification_state::verified;
    e.from_selector = "old";
    e.status = {.state = verification_state::verified,
                .last_checked = 1000,
                .verified_since = 10,
                .signing_selector = "new",
                .signing_since = 1000,
                .selectors = {{"old", "match"}, {"new", "match"}}};
    EXPECT_EQ(verification_log_line(e),
              "- verification_alert event=dkim_selector_switched domain=a.example state=verified previous=verified "
              "from=old signing=new");
    auto j = nlohmann::json::parse(verification_hook_json(e, "o"));
    EXPECT_EQ(j["from_selector"], "old");
    EXPECT_EQ(j["signing_selector"], "new");
    EXPECT_EQ(j["signing_since"], 1000);
    EXPECT_FALSE(j.contains("reason"));
    e.kind = verification_event_kind::dkim_selector_removable;
    EXPECT_EQ(verification_log_line(e),
              "- verification_alert event=dkim_selector_removable domain=a.example state=verified "
              "previous=verified signing=new removable=old");
    j = nlohmann::json::parse(verification_hook_json(e, "o"));
    EXPECT_EQ(j["removable"], "old");
}

}  // namespace
}  // namespace relaygate::watch
