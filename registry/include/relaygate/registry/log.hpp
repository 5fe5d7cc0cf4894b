// log.hpp: the one logger of every relaygate program. One line per decision:
// queue id (or "-") first, then key=value pairs, e.g.
//   3F2A81C0 reject from_domain=example.com reason=dkim_unverified
// Levels live here, not at call sites. Sinks: syslog (LOG_MAIL) or stderr.
// Thread-safe; configured once at start by main().
#pragma once

#include <string>
#include <string_view>

namespace relaygate::log {

enum class level { debug = 0, info = 1, notice = 2, warning = 3, error = 4 };
enum class sink { stderr_only, syslog, both };

// Called once by main() before any thread starts. ident is the syslog tag.
void configure(std::string_view ident, sink where, level min_level);

void write(level lvl, std::string_view line);

inline void debug(std::string_view line) { write(level::debug, line); }
inline void info(std::string_view line) { write(level::info, line); }
inline void notice(std::string_view line) { write(level::notice, line); }
inline void warning(std::string_view line) { write(level::warning, line); }
inline void error(std::string_view line) { write(level::error, line); }

// Quotes a value for key=value output when it holds spaces, quotes, '=' or
// control bytes; control bytes become \xNN so a log line never splits.
std::string quote(std::string_view value);

}  // namespace relaygate::log
