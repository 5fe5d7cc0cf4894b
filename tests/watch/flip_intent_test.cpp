// flip_intent_test.cpp: the flip journal's codec round-trips what the daemon
// writes, and refuses what a damaged or hostile file holds (bad JSON, wrong
// types, queue ids that are no Postfix ids, too many of anything).
#include "relaygate/watch/flip_intent.hpp"

#include <gtest/gtest.h>

namespace relaygate::watch {
namespace {

flip_intent sample() {
    return {.family = "microsoft",
            .from = "msft-out",
            .to = "msft-spare",
            .reason = "reputation_alert transport=msft-out",
            .time = 1764612000,
            .queue_ids = {"D3988A72335", "4dBQ2R0Tz1zJx7K"},
            .hook_payload = R"({"type":"flip","family":"microsoft"})"};
}

TEST(flip_intent, round_trips_every_field) {
    const auto text = encode_flip_intents({sample(), {.family = "other", .from = "a", .to = "b", .time = 1}});
    const auto back = decode_flip_intents(text);
    ASSERT_TRUE(back) << back.error();
    ASSERT_EQ(back->size(), 2u);
    const auto& a = back->front();
    EXPECT_EQ(a.family, "microsoft");
    EXPECT_EQ(a.from, "msft-out");
    EXPECT_EQ(a.to, "msft-spare");
    EXPECT_EQ(a.reason, "reputation_alert transport=msft-out");
    EXPECT_EQ(a.time, 1764612000);
    EXPECT_EQ(a.queue_ids, sample().queue_ids);
    EXPECT_EQ(a.hook_payload, sample().hook_payload);
    EXPECT_TRUE(back->back().queue_ids.empty());
}

TEST(flip_intent, an_empty_journal_is_an_empty_list) {
    const auto back = decode_flip_intents(encode_flip_intents({}));
    ASSERT_TRUE(back) << back.error();
    EXPECT_TRUE(back->empty());
}

struct hostile_case {
    const char* name;
    std::string text;
    const char* error;  // a part of the expected message
};

class flip_intent_hostile : public ::testing::TestWithParam<hostile_case> {};

TEST_P(flip_intent_hostile, is_refused_with_a_reason) {
    const auto r = decode_flip_intents(GetParam().text);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find(GetParam().error), std::string::npos) << r.error();
}

std::string with_ids(const std::string& ids) {
    return R"({"intents":[{"family":"m","from":"a","to":"b","time":1,"queue_ids":[)" + ids + "]}]}";
}

std::string many_ids(std::size_t n) {
    std::string ids;
    for (std::size_t i = 0; i < n; ++i) ids += (i ? ",\"" : "\"") + std::string("ABCDE") + "\"";
    return ids;
}

std::string many_intents(std::size_t n) {
    std::string list;
    for (std::size_t i = 0; i < n; ++i)
        list += std::string(i ? "," : "") + R"({"family":"m","from":"a","to":"b","time":1})";
    return R"({"intents":[)" + list + "]}";
}

INSTANTIATE_TEST_SUITE_P(
    cases, flip_intent_hostile,
    ::testing::Values(
        hostile_case{"truncated", R"({"intents":[{"family":"m")", "bad JSON"},
        hostile_case{"not_an_object", "[1,2]", "bad JSON"}, hostile_case{"no_list", R"({"families":{}})", "bad JSON"},
        hostile_case{"missing_family", R"({"intents":[{"from":"a","to":"b","time":1}]})", "'family'"},
        hostile_case{"empty_target", R"({"intents":[{"family":"m","from":"a","to":"","time":1}]})", "'to' is empty"},
        hostile_case{"number_as_text", R"({"intents":[{"family":7,"from":"a","to":"b","time":1}]})", "not a string"},
        hostile_case{"time_as_text", R"({"intents":[{"family":"m","from":"a","to":"b","time":"1"}]})", "'time'"},
        hostile_case{"path_as_queue_id", with_ids(R"("../../etc")"), "not a Postfix queue id"},
        hostile_case{"option_as_queue_id", with_ids(R"("-r ALL")"), "not a Postfix queue id"},
        hostile_case{"short_queue_id", with_ids(R"("AB")"), "not a Postfix queue id"},
        hostile_case{"number_queue_id", with_ids("12345"), "not a Postfix queue id"},
        hostile_case{"ids_not_a_list", R"({"intents":[{"family":"m","from":"a","to":"b","time":1,"queue_ids":"x"}]})",
                     "not an array"},
        hostile_case{"too_many_ids", with_ids(many_ids(max_intent_queue_ids + 1)), "too many queue ids"},
        hostile_case{"too_many_intents", many_intents(max_intents + 1), "too many intents"},
        hostile_case{"long_field",
                     R"({"intents":[{"family":")" + std::string(5000, 'm') + R"(","from":"a","to":"b","time":1}]})",
                     "too long"},
        hostile_case{"over_the_size_limit", std::string(max_intent_bytes + 1, ' '), "limit"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace relaygate::watch
