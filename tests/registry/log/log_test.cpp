// log::quote keeps one decision on one line whatever the value holds; the
// sink names every program accepts; the postlog record format (Postfix's
// msg_logger: "Mmm dd hh:mm:ss host ident[pid]: text").
#include "relaygate/log/log.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

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

TEST(log_sink, names) {
    EXPECT_EQ(parse_sink("syslog")->where, sink::syslog);
    EXPECT_EQ(parse_sink("stderr")->where, sink::stderr_only);
    EXPECT_EQ(parse_sink("both")->where, sink::both);
    EXPECT_EQ(parse_sink("postlog")->where, sink::postlog);
    EXPECT_EQ(parse_sink("postlog")->postlog_path, "/var/spool/postfix/public/postlog");
    EXPECT_EQ(parse_sink("postlog:/x/public/postlog")->postlog_path, "/x/public/postlog");
    EXPECT_FALSE(parse_sink("postlog:"));
    EXPECT_FALSE(parse_sink("postlog:relative/path"));
    EXPECT_FALSE(parse_sink("postlog:/" + std::string(200, 'a')));  // longer than sun_path
    EXPECT_FALSE(parse_sink("Syslog"));
    EXPECT_FALSE(parse_sink(""));
}

TEST(postlog_record, is_msg_loggers_format) {
    ::setenv("TZ", "UTC", 1);
    ::tzset();
    // 2026-12-01T21:24:11Z; the day is zero-padded as Postfix's "%b %d" does.
    EXPECT_EQ(
        format_postlog_record(1796160251, "vm.example.test", "relaygate-milter", 2831, "3DE5CA743B6 accept reason=ok"),
        "Dec 01 21:24:11 vm relaygate-milter[2831]: 3DE5CA743B6 accept reason=ok");
    EXPECT_EQ(format_postlog_record(1796160251, "vm", "p", 1,
                                    "a\nb\r\x01"
                                    "c\td"),
              "Dec 01 21:24:11 vm p[1]: a b  c\td");
    const auto longest = format_postlog_record(1796160251, "vm", "p", 1, std::string(5000, 'x'));
    EXPECT_EQ(longest.size(), std::string("Dec 01 21:24:11 vm p[1]: ").size() + max_postlog_text);
}

}  // namespace
}  // namespace relaygate::log
