// log::quote keeps one decision on one line whatever the value holds.
#include "relaygate/registry/log.hpp"

#include <gtest/gtest.h>

namespace relaygate::log {
namespace {

TEST(log_quote, leaves_plain_tokens_alone) { EXPECT_EQ(quote("example.com"), "example.com"); }

TEST(log_quote, quotes_spaces_equals_and_empty) {
    EXPECT_EQ(quote("no DKIM key"), "\"no DKIM key\"");
    EXPECT_EQ(quote("a=b"), "\"a=b\"");
    EXPECT_EQ(quote(""), "\"\"");
}

TEST(log_quote, escapes_line_breaks_and_quotes) {
    EXPECT_EQ(quote("a\r\nb"), "\"a\\x0d\\x0ab\"");
    EXPECT_EQ(quote("say \"hi\""), "\"say \\\"hi\\\"\"");
}

}  // namespace
}  // namespace relaygate::log
