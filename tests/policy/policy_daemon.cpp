// policy_daemon.cpp: see policy_daemon.hpp.
#include "policy_daemon.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <iostream>
#include <stdexcept>

#include "relaygate/harness/free_port.hpp"
#include "relaygate/harness/wait.hpp"

namespace relaygate::policy::testing {

namespace {
std::string daemon_path() { return std::string(RELAYGATE_BINARY_DIR) + "/policy/relaygate-policy"; }
}  // namespace

policy_daemon::policy_daemon(daemon_options o)
    : dir_("policy"), policy_port_(harness::free_port()), socketmap_port_(harness::free_port()) {
    // Thousands-of-connections tests need fds; the daemon inherits the raised limit.
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
    harness::write_file(dir_ / "microsoft-domains", o.microsoft_domains);
    const std::filesystem::path state = o.state_dir.empty() ? dir_.path() : std::filesystem::path(o.state_dir);
    std::string conf = "policy-listen = inet:127.0.0.1:" + std::to_string(policy_port_) + "\n" +
                       (o.socketmap_unix ? "socketmap-listen = unix:" + socketmap_path()
                                         : "socketmap-listen = inet:127.0.0.1:" + std::to_string(socketmap_port_)) +
                       "\n" + "microsoft-domains = " + (dir_ / "microsoft-domains").string() + "\n" +
                       "egress-file = " + (state / "egress.json").string() + "\n" +
                       "admin-file = " + (dir_ / "domains.conf").string() + "\n" +
                       "state-file = " + (state / "state.json").string() + "\n" +
                       "dns-forwarder = " + (o.dns_forwarder.empty() ? "127.0.0.1@1" : o.dns_forwarder) + "\n" +
                       "log-sink = stderr\nlog-level = debug\n";
    for (const auto& line : o.config) conf += line + "\n";
    harness::write_file(dir_ / "policy.conf", conf);
    if (!std::filesystem::exists(dir_ / "domains.conf")) harness::write_file(dir_ / "domains.conf", "");
    std::vector<std::string> argv = o.wrapper;
    for (const auto& a : {daemon_path(), std::string("--config"), (dir_ / "policy.conf").string()}) argv.push_back(a);
    process_ = harness::child_process(harness::process_spec{
        .argv = argv,
        .stdout_path = dir_ / "daemon.log",
        .stderr_path = dir_ / "daemon.log",
    });
    bool up = harness::wait_until(
        [&] {
            return harness::tcp_connects("127.0.0.1", policy_port_) &&
                   (o.socketmap_unix ? std::filesystem::exists(socketmap_path())
                                     : harness::tcp_connects("127.0.0.1", socketmap_port_));
        },
        std::chrono::seconds(10));
    if (!up) throw std::runtime_error("relaygate-policy did not start: " + log());
}

policy_daemon::~policy_daemon() {
    process_.stop();
    if (::testing::Test::HasFailure()) std::cerr << "--- relaygate-policy log ---\n" << log() << "---\n";
}

std::string policy_daemon::log() const { return harness::read_file(dir_ / "daemon.log"); }
void policy_daemon::signal(int sig) const { ::kill(process_.pid(), sig); }

client::client(std::uint16_t port, std::chrono::milliseconds timeout) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
        throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + " failed");
    timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

client::~client() {
    if (fd_ >= 0) ::close(fd_);
}

void client::send(const std::string& bytes) const {
    std::size_t off = 0;
    while (off < bytes.size()) {
        ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
        if (n <= 0) throw std::runtime_error("send failed");
        off += static_cast<std::size_t>(n);
    }
}

void client::shutdown_write() const { ::shutdown(fd_, SHUT_WR); }

bool client::fill() {
    char b[8192];
    ssize_t n = ::recv(fd_, b, sizeof b, 0);
    if (n <= 0) return false;
    buf_.append(b, static_cast<std::size_t>(n));
    return true;
}

std::optional<std::string> client::read_policy_reply() {
    while (true) {
        if (auto end = buf_.find("\n\n"); end != std::string::npos) {
            std::string r = buf_.substr(0, end + 2);
            buf_.erase(0, end + 2);
            return r;
        }
        if (!fill()) return std::nullopt;
    }
}

std::optional<std::string> client::read_netstring() {
    while (true) {
        auto colon = buf_.find(':');
        if (colon != std::string::npos) {
            std::size_t len = std::stoul(buf_.substr(0, colon));
            if (buf_.size() >= colon + 1 + len + 1) {
                std::string r = buf_.substr(colon + 1, len);
                buf_.erase(0, colon + len + 2);
                return r;
            }
        }
        if (!fill()) return std::nullopt;
    }
}

bool client::wait_closed(std::string* received) {
    char b[8192];
    while (true) {
        ssize_t n = ::recv(fd_, b, sizeof b, 0);
        if (n == 0) return true;
        if (n < 0) return false;  // timeout (or reset: counted as not cleanly closed)
        if (received != nullptr) received->append(b, static_cast<std::size_t>(n));
    }
}

std::string client::available() {
    std::string out = buf_;
    buf_.clear();
    char b[8192];
    while (true) {
        ssize_t n = ::recv(fd_, b, sizeof b, MSG_DONTWAIT);
        if (n <= 0) break;
        out.append(b, static_cast<std::size_t>(n));
    }
    return out;
}

std::string netstring(const std::string& payload) { return std::to_string(payload.size()) + ":" + payload + ","; }

std::string socketmap_query(std::uint16_t port, const std::string& payload) {
    client c(port);
    c.send(netstring(payload));
    return c.read_netstring().value_or("<no reply>");
}

std::string policy_query(std::uint16_t port, const std::string& request) {
    client c(port);
    c.send(request);
    return c.read_policy_reply().value_or("<no reply>");
}

std::string postfix_request(const std::string& sender, const std::string& recipient, const std::string& client,
                            const std::string& state, std::uint64_t size, const std::string& sasl) {
    return "request=smtpd_access_policy\nprotocol_state=" + state + "\nprotocol_name=ESMTP\nclient_address=" + client +
           "\nclient_name=client.example.net\nclient_port=40000\nreverse_client_name=client.example.net\n"
           "server_address=127.0.0.1\nserver_port=25\nhelo_name=client.example.net\nsender=" +
           sender + "\nrecipient=" + recipient +
           "\nrecipient_count=0\nqueue_id=\ninstance=1a2b.5f00.0\nsize=" + std::to_string(size) +
           "\netrn_domain=\nstress=\nsasl_method=" + (sasl.empty() ? "" : "PLAIN") + "\nsasl_username=" + sasl +
           "\nsasl_sender=\nccert_subject=\nccert_issuer=\nccert_fingerprint=\nccert_pubkey_fingerprint=\n"
           "encryption_protocol=\nencryption_cipher=\nencryption_keysize=0\npolicy_context=\n\n";
}

}  // namespace relaygate::policy::testing
