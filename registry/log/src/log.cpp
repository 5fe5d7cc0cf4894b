// log.cpp: the sinks behind relaygate::log (see log.hpp). syslog(3), stderr,
// or postlog: one unix datagram per line to postlogd's socket, as Postfix's
// own msg_logger sends them, so decision lines land in maillog_file between
// Postfix's lines. Postfix's own processes block while postlogd's queue is
// full (net.unix.max_dgram_qlen, 10 datagrams by default, fills within a burst);
// relaygate waits for room at most postlog_wait_ms, then drops the line
// (counted): a stuck postlogd slows a line by that much, never hangs a daemon.
// A missing or refused socket sends the line to syslog.
#include "relaygate/log/log.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <string>

namespace relaygate::log {
namespace {

constexpr int postlog_wait_ms = 100;

std::mutex g_mutex;
std::string g_ident = "relaygate";
sink_spec g_sink{sink::stderr_only, {}};
level g_min = level::info;
std::string g_host;  // first label of the host name (postlog records)
int g_sock = -1;     // postlog datagram socket, connected; -1 = not connected
sink_stats g_stats;

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

void postlog_disconnect() {
    if (g_sock >= 0) ::close(g_sock);
    g_sock = -1;
}

bool postlog_connect() {
    if (g_sock >= 0) return true;
    sockaddr_un addr{};
    if (g_sink.postlog_path.size() >= sizeof addr.sun_path) return false;
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, g_sink.postlog_path.data(), g_sink.postlog_path.size());
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return false;
    }
    g_sock = fd;
    return true;
}

// One attempt, and one reconnect when postlogd was restarted (the socket file
// was recreated: the old connection is refused).
void postlog_write(level lvl, std::string_view line) {
    const std::string record = format_postlog_record(static_cast<std::int64_t>(std::time(nullptr)), g_host, g_ident,
                                                     static_cast<long>(::getpid()), line);
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (!postlog_connect()) break;
        if (::send(g_sock, record.data(), record.size(), MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) {
            ++g_stats.postlog_sent;
            return;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
            // postlogd is behind: wait once, bounded, for room in its queue
            pollfd room{g_sock, POLLOUT, 0};
            if (::poll(&room, 1, postlog_wait_ms) == 1 &&
                ::send(g_sock, record.data(), record.size(), MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) {
                ++g_stats.postlog_sent;
                return;
            }
            ++g_stats.postlog_dropped;
            return;
        }
        postlog_disconnect();  // ECONNREFUSED, ENOENT, ENOTCONN...: reconnect once
    }
    ++g_stats.postlog_fallback;
    syslog(syslog_priority(lvl), "%.*s", static_cast<int>(line.size()), line.data());
}

}  // namespace

std::optional<sink_spec> parse_sink(std::string_view text) {
    if (text == "syslog") return sink_spec{sink::syslog, {}};
    if (text == "stderr") return sink_spec{sink::stderr_only, {}};
    if (text == "both") return sink_spec{sink::both, {}};
    if (text == "postlog") return sink_spec{sink::postlog, std::string(default_postlog_path)};
    if (text.starts_with("postlog:") && text.size() > 8 && text[8] == '/' &&
        text.size() < 8 + sizeof(sockaddr_un::sun_path))
        return sink_spec{sink::postlog, std::string(text.substr(8))};
    return std::nullopt;
}

std::string format_postlog_record(std::int64_t unix_time, std::string_view host, std::string_view ident, long pid,
                                  std::string_view text) {
    const std::time_t tt = static_cast<std::time_t>(unix_time);
    std::tm tm{};
    localtime_r(&tt, &tm);
    char stamp[32];
    const std::size_t n = std::strftime(stamp, sizeof stamp, "%b %d %H:%M:%S ", &tm);
    std::string out(stamp, n);
    out += host.substr(0, host.find('.'));
    out += ' ';
    out += ident;
    out += '[' + std::to_string(pid) + "]: ";
    const std::size_t start = out.size();
    out += text.substr(0, max_postlog_text);
    // postlogd ends each record with a newline: a control byte in the text
    // must not split or corrupt the maillog line.
    for (std::size_t i = start; i < out.size(); ++i) {
        if (static_cast<unsigned char>(out[i]) < 0x20 && out[i] != '\t') out[i] = ' ';
    }
    return out;
}

void configure(std::string_view ident, const sink_spec& where, level min_level) {
    std::lock_guard lock(g_mutex);
    g_ident = std::string(ident);
    g_sink = where;
    g_min = min_level;
    postlog_disconnect();
    if (where.where != sink::stderr_only) {
        // g_ident outlives every syslog call: openlog keeps the pointer. The
        // postlog sink needs it for its fallback.
        openlog(g_ident.c_str(), LOG_PID | (where.where == sink::postlog ? 0 : LOG_NDELAY), LOG_MAIL);
    }
    if (where.where == sink::postlog) {
        char host[256] = {};
        if (::gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "localhost");
        g_host = host;
        g_host = g_host.substr(0, g_host.find('.'));
        postlog_connect();  // now, before a chroot or privilege drop; retried on failure
    }
}

void write(level lvl, std::string_view line) {
    std::lock_guard lock(g_mutex);
    if (lvl < g_min) return;
    switch (g_sink.where) {
        case sink::postlog:
            postlog_write(lvl, line);
            return;
        case sink::syslog:
        case sink::both:
            syslog(syslog_priority(lvl), "%.*s", static_cast<int>(line.size()), line.data());
            break;
        case sink::stderr_only:
            break;
    }
    if (g_sink.where != sink::syslog) {
        std::fprintf(stderr, "%s: %s: %.*s\n", g_ident.c_str(), level_name(lvl), static_cast<int>(line.size()),
                     line.data());
    }
}

sink_stats stats() {
    std::lock_guard lock(g_mutex);
    return g_stats;
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
