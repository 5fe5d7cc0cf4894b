// log.cpp: syslog/stderr sink behind relaygate::log (see log.hpp).
#include "relaygate/registry/log.hpp"

#include <syslog.h>

#include <cstdio>
#include <mutex>
#include <string>

namespace relaygate::log {
namespace {

std::mutex g_mutex;
std::string g_ident = "relaygate";
sink g_sink = sink::stderr_only;
level g_min = level::info;

int syslog_priority(level lvl) {
    switch (lvl) {
        case level::debug:
            return LOG_DEBUG;
        case level::info:
            return LOG_INFO;
        case level::notice:
            return LOG_NOTICE;
        case level::warning:
            return LOG_WARNING;
        case level::error:
            return LOG_ERR;
    }
    return LOG_INFO;
}

const char* level_name(level lvl) {
    switch (lvl) {
        case level::debug:
            return "debug";
        case level::info:
            return "info";
        case level::notice:
            return "notice";
        case level::warning:
            return "warning";
        case level::error:
            return "error";
    }
    return "info";
}

}  // namespace

void configure(std::string_view ident, sink where, level min_level) {
    std::lock_guard lock(g_mutex);
    g_ident = std::string(ident);
    g_sink = where;
    g_min = min_level;
    if (where != sink::stderr_only) {
        // g_ident outlives every syslog call: openlog keeps the pointer.
        openlog(g_ident.c_str(), LOG_PID | LOG_NDELAY, LOG_MAIL);
    }
}

void write(level lvl, std::string_view line) {
    std::lock_guard lock(g_mutex);
    if (lvl < g_min) return;
    if (g_sink != sink::stderr_only) {
        syslog(syslog_priority(lvl), "%.*s", static_cast<int>(line.size()), line.data());
    }
    if (g_sink != sink::syslog) {
        std::fprintf(stderr, "%s: %s: %.*s\n", g_ident.c_str(), level_name(lvl), static_cast<int>(line.size()),
                     line.data());
    }
}

std::string quote(std::string_view value) {
    bool needs = value.empty();
    for (unsigned char c : value) {
        if (c <= 0x20 || c == '"' || c == '=' || c == '\\' || c >= 0x7f) needs = true;
    }
    if (!needs) return std::string(value);
    std::string out = "\"";
    for (unsigned char c : value) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 0xf];
        } else {
            out += static_cast<char>(c);
        }
    }
    out += '"';
    return out;
}

}  // namespace relaygate::log
