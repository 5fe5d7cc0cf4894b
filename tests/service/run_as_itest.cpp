// run_as_itest.cpp: each daemon started as root with `user = nobody` runs with
// no root uid/gid, no supplementary root group and no capability left in any
// thread (read from /proc/PID/task/*/status), reports READY=1 on
// $NOTIFY_SOCKET only once its sockets accept, and leaves its unix sockets
// 0660 with the configured group. An unknown or root run-as user stops it.
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>

#include "relaygate/harness/child_process.hpp"
#include "relaygate/harness/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace relaygate::harness;

namespace {

const std::string bin = RELAYGATE_BINARY_DIR;
const std::string src = RELAYGATE_SOURCE_DIR;

// A datagram socket standing in for systemd's notify socket.
class notify_socket {
public:
    explicit notify_socket(const fs::path& path) : path_(path) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
        if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind");
        ::chmod(path.c_str(), 0666);  // the daemon sends after dropping to nobody
    }
    ~notify_socket() { ::close(fd_); }
    // The first datagram within the timeout, "" if none.
    std::string receive(int timeout_ms) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) != 1) return "";
        char buf[512];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
    }
    std::string env() const { return "NOTIFY_SOCKET=" + path_.string(); }

private:
    fs::path path_;
    int fd_ = -1;
};

struct daemon_case {
    friend void PrintTo(const daemon_case& c, std::ostream* os) { *os << c.name; }
    std::string name;
    std::string program;                                 // relative to the build dir
    std::vector<std::string> sockets;                    // unix sockets it must leave 0660 nogroup
    std::function<std::string(const fs::path&)> config;  // config text for a dir
};

std::map<std::string, std::string> status_fields(const fs::path& status) {
    std::map<std::string, std::string> out;
    std::istringstream in(read_file(status));
    for (std::string l; std::getline(in, l);) {
        auto colon = l.find(':');
        if (colon == std::string::npos) continue;
        auto v = l.substr(colon + 1);
        v.erase(0, v.find_first_not_of(" \t"));
        out[l.substr(0, colon)] = v;
    }
    return out;
}

std::string milter_config(const fs::path& d) {
    return "socket = unix:" + (d / "milter.sock").string() + "\nadmin-file = " + (d / "domains.conf").string() +
           "\nstate-file = " + (d / "state.json").string() +
           "\noperator-domain = relay.example.net\noutbound-ip = 192.0.2.11\nsigning = false\n"
           "rejection-log = " +
           (d / "rejections.log").string() + "\nsocket-group = nogroup\nsocket-mode = 0660\n";
}

std::string policy_config(const fs::path& d) {
    return "policy-listen = unix:" + (d / "policy.sock").string() +
           "\nsocketmap-listen = unix:" + (d / "socketmap.sock").string() + "\nmicrosoft-domains = " + src +
           "/postfix-conf/microsoft-domains" + "\negress-file = " + (d / "egress.json").string() +
           "\nadmin-file = " + (d / "domains.conf").string() +
           "\nmx-detection = false\nsocket-group = nogroup\nsocket-mode = 0660\n";
}

std::string watch_config(const fs::path& d) {
    return "[watch]\nuser = " + std::string(getenv("RUN_AS_USER")) +
           "\nlog-sink = stderr\nmaillog = " + (d / "maillog").string() + "\nstate-dir = " + (d / "watch").string() +
           "\negress-state-file = " + (d / "egress.json").string() +
           "\nmetrics-listen =\ndnsbl-interval = 0\nrequeue = false\nreverify = off\n";
}

const std::vector<daemon_case> daemons = {
    {"milter", "/milter/relaygate-milter", {"milter.sock"}, milter_config},
    {"policy", "/policy/relaygate-policy", {"policy.sock", "socketmap.sock"}, policy_config},
    {"watch", "/watch/relaygate-watch", {}, watch_config},
};

class RunAs : public ::testing::TestWithParam<daemon_case> {
protected:
    void SetUp() override {
        ASSERT_EQ(::geteuid(), 0u) << "the daemons must be started as root to test the drop";
        fs::permissions(dir_.path(), fs::perms(0755));  // nobody reads its files here after the drop
        write_file(dir_ / "domains.conf", "");
        write_file(dir_ / "maillog", "");
        fs::create_directory(dir_ / "watch");
        const passwd* pw = ::getpwnam("nobody");
        ASSERT_NE(pw, nullptr);
        nobody_uid_ = pw->pw_uid;
        ASSERT_EQ(::chown((dir_ / "watch").c_str(), pw->pw_uid, pw->pw_gid), 0);
        // As the package's socket folder is the run-as user's: it removes its sockets at stop.
        ASSERT_EQ(::chown(dir_.path().c_str(), pw->pw_uid, pw->pw_gid), 0);
        const group* gr = ::getgrnam("nogroup");
        ASSERT_NE(gr, nullptr);
        nogroup_ = gr->gr_gid;
        nobody_gid_ = pw->pw_gid;
    }
    child_process start(const std::string& user, notify_socket& ready) {
        ::setenv("RUN_AS_USER", user.c_str(), 1);  // the watch's keys live in its [watch] section
        const std::string top = GetParam().name == "watch" ? "" : "user = " + user + "\nlog-sink = stderr\n";
        write_file(dir_ / "relaygate.conf", top + GetParam().config(dir_.path()));
        return child_process({.argv = {bin + GetParam().program, "--config", (dir_ / "relaygate.conf").string()},
                              .env = {ready.env()},
                              .stdout_path = dir_ / "daemon.log",
                              .stderr_path = dir_ / "daemon.log"});
    }
    temp_dir dir_{"run-as"};
    uid_t nobody_uid_ = 0;
    gid_t nobody_gid_ = 0;
    gid_t nogroup_ = 0;
};

TEST_P(RunAs, RunsAsTheUserWithNoCapabilityInAnyThreadOnceReady) {
    notify_socket ready(dir_ / "notify.sock");
    auto daemon = start("nobody", ready);
    ASSERT_EQ(ready.receive(15000), "READY=1") << read_file(dir_ / "daemon.log");
    const std::string uid = std::to_string(nobody_uid_), gid = std::to_string(nobody_gid_);
    int threads = 0;
    for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(daemon.pid()) + "/task")) {
        auto s = status_fields(task.path() / "status");
        ++threads;
        SCOPED_TRACE("thread " + task.path().filename().string());
        EXPECT_EQ(s["Uid"], uid + "\t" + uid + "\t" + uid + "\t" + uid);
        EXPECT_EQ(s["Gid"], gid + "\t" + gid + "\t" + gid + "\t" + gid);
        std::istringstream groups(s["Groups"]);
        for (std::string g; groups >> g;) EXPECT_NE(g, "0") << "supplementary group root";
        for (const char* cap : {"CapInh", "CapPrm", "CapEff", "CapAmb"}) EXPECT_EQ(s[cap], "0000000000000000") << cap;
    }
    EXPECT_GE(threads, 1);
    // The bounding set and no_new_privs are per thread: the main thread sets them
    // at the drop, and every thread it starts later (the alert hook's) inherits
    // them. Threads started before the drop lost their uid and capabilities
    // above with the rest and never exec anything.
    auto main_thread = status_fields("/proc/" + std::to_string(daemon.pid()) + "/status");
    EXPECT_EQ(main_thread["CapBnd"], "0000000000000000");
    EXPECT_EQ(main_thread["NoNewPrivs"], "1");
    for (const auto& name : GetParam().sockets) {
        struct stat st {};
        ASSERT_EQ(::stat((dir_ / name).c_str(), &st), 0) << name;
        EXPECT_TRUE(S_ISSOCK(st.st_mode)) << name;
        EXPECT_EQ(st.st_mode & 07777, 0660u) << name;
        EXPECT_EQ(st.st_gid, nogroup_) << name << ": Postfix's group (socket-group)";
    }
    EXPECT_TRUE(daemon.running()) << read_file(dir_ / "daemon.log");
    EXPECT_EQ(daemon.stop(), 0) << read_file(dir_ / "daemon.log");
    for (const auto& name : GetParam().sockets) EXPECT_FALSE(fs::exists(dir_ / name)) << name << " left after stop";
}

TEST_P(RunAs, RefusesAnUnknownUser) {
    notify_socket ready(dir_ / "notify.sock");
    auto daemon = start("no-such-user-relaygate", ready);
    auto rc = daemon.wait_for_exit(std::chrono::seconds(15));
    ASSERT_TRUE(rc.has_value());
    EXPECT_NE(*rc, 0);
    EXPECT_NE(read_file(dir_ / "daemon.log").find("no-such-user-relaygate': no such user"), std::string::npos)
        << read_file(dir_ / "daemon.log");
    EXPECT_EQ(ready.receive(0), "");
}

TEST_P(RunAs, RefusesToRunAsRoot) {
    notify_socket ready(dir_ / "notify.sock");
    auto daemon = start("root", ready);
    auto rc = daemon.wait_for_exit(std::chrono::seconds(15));
    ASSERT_TRUE(rc.has_value());
    EXPECT_NE(*rc, 0);
    EXPECT_NE(read_file(dir_ / "daemon.log").find("is root"), std::string::npos) << read_file(dir_ / "daemon.log");
}

INSTANTIATE_TEST_SUITE_P(Daemons, RunAs, ::testing::ValuesIn(daemons),
                         [](const auto& info) { return info.param.name; });

}  // namespace
