// log_postlog_itest.cpp: the postlog sink on a real unix datagram socket in a
// temp dir standing in for postlogd's: each line is one record in
// msg_logger's format; a full receive queue delays a line until a reader
// makes room, at most 100 ms, then drops it (counted); a missing socket falls back to syslog (counted); a recreated
// socket (postlogd restarted) is reconnected to.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <string>
#include <thread>

#include "relaygate/harness/temp_dir.hpp"
#include "relaygate/log/log.hpp"

namespace relaygate::log {
namespace {

int bind_dgram(const std::string& path) {
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    EXPECT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a), 0) << path;
    return fd;
}

std::string receive(int fd) {
    char buf[4096];
    const auto n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    return n < 0 ? std::string() : std::string(buf, static_cast<std::size_t>(n));
}

TEST(postlog_sink, records_drops_fallback_and_reconnect) {
    harness::temp_dir dir("postlog");
    const std::string path = (dir / "postlog").string();
    int fd = bind_dgram(path);
    const auto before = stats();
    configure("relaygate-test", *parse_sink("postlog:" + path), level::info);

    info("3DE5CA743B6 accept reason=ok from_domains=verified.example");
    debug("- below the level: not sent");
    const std::string rec = receive(fd);
    EXPECT_TRUE(std::regex_match(rec, std::regex(R"([A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} [^ .]+ )"
                                                 R"(relaygate-test\[[0-9]+\]: 3DE5CA743B6 accept reason=ok )"
                                                 R"(from_domains=verified\.example)")))
        << rec;
    EXPECT_EQ(receive(fd), "");
    EXPECT_EQ(stats().postlog_sent, before.postlog_sent + 1);

    // Nobody reads: the queue fills, and a line that finds no room within the
    // bounded wait (100 ms) is dropped, not waited for forever.
    std::size_t n = 0;
    while (stats().postlog_dropped == before.postlog_dropped && n < 100000) {
        info("- filler n=" + std::to_string(n++));
    }
    EXPECT_GT(stats().postlog_dropped, before.postlog_dropped);
    EXPECT_LT(n, 100000u);

    // A postlogd that catches up within the wait loses nothing: the queue is
    // full now, a reader makes room after 20 ms, and the next line is sent.
    const auto waiting = stats();
    std::thread reader([fd] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        receive(fd);
    });
    info("- sent once there is room");
    reader.join();
    EXPECT_EQ(stats().postlog_sent, waiting.postlog_sent + 1);
    EXPECT_EQ(stats().postlog_dropped, waiting.postlog_dropped);

    // postlogd gone: the socket file is missing, lines go to syslog instead.
    ::close(fd);
    ::unlink(path.c_str());
    const auto fallback_before = stats().postlog_fallback;
    info("- while postlogd is down");
    EXPECT_EQ(stats().postlog_fallback, fallback_before + 1);

    // postlogd back: the next line reconnects.
    fd = bind_dgram(path);
    const auto sent_before = stats().postlog_sent;
    info("- back");
    EXPECT_EQ(stats().postlog_sent, sent_before + 1);
    EXPECT_NE(receive(fd).find("]: - back"), std::string::npos);
    ::close(fd);
    configure("relaygate-test", sink::stderr_only, level::info);
}

}  // namespace
}  // namespace relaygate::log
