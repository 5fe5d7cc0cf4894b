// dns_server.cpp: the unbound test fixture (see dns_server.hpp, docs/dns.md).
// Writes two unbound.conf files into a private temp dir, starts the "refuser"
// (answers REFUSED to everything, so the main server turns servfail.test. into
// a genuine SERVFAIL) and the main server, and waits until each answers a UDP
// query. Children get PDEATHSIG so a crashed test cannot leak them.
#include "relaygate/harness/dns_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "relaygate/dns/dns_message.hpp"

namespace relaygate::harness {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A port that is free for both UDP and TCP on 127.0.0.1 right now.
std::uint16_t free_port() {
    for (int attempt = 0; attempt < 20; ++attempt) {
        int u = socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (u < 0 || bind(u, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            getsockname(u, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            if (u >= 0) close(u);
            continue;
        }
        int t = socket(AF_INET, SOCK_STREAM, 0);
        bool tcp_ok = t >= 0 && bind(t, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        std::uint16_t port = ntohs(a.sin_port);
        close(u);
        if (t >= 0) close(t);
        if (tcp_ok) return port;
    }
    throw std::runtime_error("dns_server: no free port on 127.0.0.1");
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

pid_t spawn_unbound(const std::string& conf, const std::string& log_path) {
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("dns_server: fork failed");
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        const char* exe = access("/usr/sbin/unbound", X_OK) == 0 ? "/usr/sbin/unbound" : "unbound";
        execlp(exe, exe, "-d", "-c", conf.c_str(), static_cast<char*>(nullptr));
        dprintf(2, "exec unbound failed: install Debian package unbound (scripts/install-deps does)\n");
        _exit(127);
    }
    return pid;
}

// True once 127.0.0.1:port answers a DNS query (any rcode).
bool answers(std::uint16_t port) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0) return false;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    auto q = dns::wire::build_query("ready.fixture.invalid", dns::rr_type::a, 0x5a5a);
    bool ok = false;
    if (sendto(s, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a) == static_cast<ssize_t>(q.size())) {
        pollfd p{.fd = s, .events = POLLIN};
        unsigned char buf[512];
        if (poll(&p, 1, 200) == 1) ok = recv(s, buf, sizeof buf, 0) >= 12 && buf[0] == 0x5a && buf[1] == 0x5a;
    }
    close(s);
    return ok;
}

void stop_pid(pid_t& pid) {
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 200; ++i) {
        if (waitpid(pid, nullptr, WNOHANG) == pid) {
            pid = -1;
            return;
        }
        std::this_thread::sleep_for(10ms);
    }
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    pid = -1;
}

// Waits (<= timeout) until the unbound started as pid answers on port; on failure
// returns an error text with unbound's log and leaves pid stopped.
std::string wait_ready(pid_t& pid, const std::string& conf, const std::string& log, std::uint16_t port,
                       std::chrono::seconds timeout = 10s) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
        int st = 0;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            pid = -1;
            return "unbound exited at start (" + conf + "): " + read_file(log);
        }
        // Our own process must have bound the port ("start of service"), not just anyone answering.
        if (read_file(log).find("start of service") != std::string::npos && answers(port)) return {};
        std::this_thread::sleep_for(10ms);
    }
    stop_pid(pid);
    return "unbound did not answer on 127.0.0.1:" + std::to_string(port) + " within " +
           std::to_string(timeout.count()) + " s: " + read_file(log);
}

std::string common_server_lines(const std::string& dir, std::uint16_t port) {
    std::ostringstream c;
    c << "server:\n"
      << "  interface: 127.0.0.1\n  port: " << port << "\n  do-ip6: no\n"
      << "  username: \"\"\n  chroot: \"\"\n  directory: \"" << dir << "\"\n  pidfile: \"\"\n"
      << "  use-syslog: no\n  logfile: \"\"\n  verbosity: 0\n  num-threads: 1\n"
      << "  access-control: 127.0.0.0/8 allow\n  do-not-query-localhost: no\n"
      << "  so-reuseport: no\n";  // else a second server on a taken port silently shares it
    return c.str();
}

}  // namespace

std::string dns_server::testdata_dir() { return std::string(RELAYGATE_TESTDATA_DIR) + "/dns"; }

dns_server::dns_server(std::vector<std::string> zone_files, std::uint16_t port, std::vector<std::string> extra_lines,
                       std::chrono::seconds ready_timeout) {
    char tmpl[] = "/tmp/relaygate-dns-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("dns_server: mkdtemp failed");
    work_dir_ = tmpl;
    for (auto& f : zone_files) {
        // unbound chdirs to its work dir, so every path it includes must be absolute.
        f = f.find('/') == std::string::npos ? testdata_dir() + "/" + f : fs::absolute(f).string();
        if (!fs::exists(f)) {
            fs::remove_all(work_dir_);
            throw std::runtime_error("dns_server: zone file not found: " + f);
        }
    }
    try {
        start(zone_files, extra_lines, port, ready_timeout);
    } catch (...) {
        stop();
        throw;
    }
}

void dns_server::start(const std::vector<std::string>& zone_files, const std::vector<std::string>& extra_lines,
                       std::uint16_t wanted_port, std::chrono::seconds ready_timeout) {
    std::string refuser_conf = work_dir_ + "/refuser.conf", refuser_log = work_dir_ + "/refuser.log";
    std::string main_log = work_dir_ + "/unbound.log";
    config_path_ = work_dir_ + "/unbound.conf";
    std::string error;
    // A free port can be taken between the probe and unbound's bind: then try again.
    for (int attempt = 0; attempt < 5; ++attempt) {
        refuser_port_ = free_port();
        do {
            port_ = wanted_port != 0 ? wanted_port : free_port();
        } while (port_ == refuser_port_);
        std::ofstream(refuser_conf) << common_server_lines(work_dir_, refuser_port_)
                                    << "  local-zone: \".\" always_refuse\n  local-zone: \"test.\" always_refuse\n"
                                    << "remote-control:\n  control-enable: no\n";
        std::ostringstream c;
        c << common_server_lines(work_dir_, port_)
          << "  # Nothing leaves this machine: a name no zone file has is NXDOMAIN.\n"
          << "  local-zone: \".\" static\n"
          << "  local-zone: \"servfail.test.\" transparent\n"
          << "  local-zone: \"timeout.test.\" deny\n";
        for (const auto& f : zone_files) c << "  include: \"" << f << "\"\n";
        for (const auto& l : extra_lines) c << "  " << l << "\n";
        c << "forward-zone:\n  name: \"servfail.test.\"\n  forward-addr: 127.0.0.1@" << refuser_port_ << "\n"
          << "remote-control:\n  control-enable: no\n";
        std::ofstream(config_path_) << c.str();
        // Both start at once: the main server needs only the refuser's port, not its readiness.
        refuser_pid_ = spawn_unbound(refuser_conf, refuser_log);
        pid_ = spawn_unbound(config_path_, main_log);
        error = wait_ready(refuser_pid_, refuser_conf, refuser_log, refuser_port_);
        error += wait_ready(pid_, config_path_, main_log, port_, ready_timeout);
        if (error.empty()) return;
        stop_pid(pid_);
        stop_pid(refuser_pid_);
        if (error.find("Address already in use") == std::string::npos) break;  // a config error stays one
    }
    throw std::runtime_error("dns_server: " + error);
}

dns_server::~dns_server() { stop(); }

std::string dns_server::forwarder() const { return "127.0.0.1@" + std::to_string(port_); }

void dns_server::stop() {
    stop_pid(pid_);
    stop_pid(refuser_pid_);
    if (!work_dir_.empty()) {
        std::error_code ec;
        fs::remove_all(work_dir_, ec);
        work_dir_.clear();
    }
}

}  // namespace relaygate::harness
