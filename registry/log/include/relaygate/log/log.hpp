// log.hpp: the one logger of every relaygate program. One line per decision:
// queue id (or "-") first, then key=value pairs, e.g.
//   3F2A81C0 reject from_domain=example.com reason=dkim_unverified
// Levels live here, not at call sites. Sinks: syslog (LOG_MAIL), stderr, both,
// or postlog (datagrams to Postfix's postlogd, for maillog_file; see log.cpp).
// Thread-safe; configured once at start by main().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace relaygate::log {

enum class level { debug = 0, info = 1, notice = 2, warning = 3, error = 4 };
enum class sink { stderr_only, syslog, both, postlog };

inline constexpr std::string_view default_postlog_path = "/var/spool/postfix/public/postlog";
// The option help text every program shows for its sink option.
inline constexpr std::string_view sink_help = "syslog | stderr | both | postlog[:PATH]";

struct sink_spec {
    sink where = sink::syslog;
    std::string postlog_path;  // sink::postlog only: $queue_directory/public/postlog
};

// "syslog", "stderr", "both", "postlog" (default path) or "postlog:/path".
std::optional<sink_spec> parse_sink(std::string_view text);

// Called once by main() before any thread starts. ident is the syslog tag
// (and the program name in postlog records).
void configure(std::string_view ident, const sink_spec& where, level min_level);
inline void configure(std::string_view ident, sink where, level min_level) {
    configure(ident, sink_spec{where, std::string(default_postlog_path)}, min_level);
}

void write(level lvl, std::string_view line);

inline void debug(std::string_view line) { write(level::debug, line); }
inline void info(std::string_view line) { write(level::info, line); }
inline void notice(std::string_view line) { write(level::notice, line); }
inline void warning(std::string_view line) { write(level::warning, line); }
inline void error(std::string_view line) { write(level::error, line); }

// Quotes a value for key=value output when it holds spaces, quotes, '=' or
// control bytes; control bytes become \xNN so a log line never splits.
std::string quote(std::string_view value);

// postlog sink: lines sent, dropped (postlogd's queue still full after
// waiting 100 ms for room) and written to syslog instead (socket missing or refused).
struct sink_stats {
    std::uint64_t postlog_sent = 0;
    std::uint64_t postlog_dropped = 0;
    std::uint64_t postlog_fallback = 0;
};
sink_stats stats();

// The record postlogd writes to maillog_file as is (Postfix's msg_logger
// format): "Mmm dd hh:mm:ss host ident[pid]: text", local time, host = first
// label. text is cut at max_postlog_text bytes (msg_logger's own limit).
inline constexpr std::size_t max_postlog_text = 2000;
std::string format_postlog_record(std::int64_t unix_time, std::string_view host, std::string_view ident, long pid,
                                  std::string_view text);

}  // namespace relaygate::log
