// policy_server.cpp: the epoll loop behind policy_server (see policy_server.hpp).
// Level-triggered epoll; each connection is read until EAGAIN, its complete
// requests are answered, and replies are written at once (EPOLLOUT only when
// the socket is full). A malformed request closes the connection without a
// reply, as SMTPD_POLICY_README asks.
// ~430 lines: the one epoll loop with its per-protocol pools and deadlines, the only socket code.
#include "policy/policy_server.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <deque>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "relaygate/log/log.hpp"
#include "relaygate/policy/netstring.hpp"

namespace relaygate::policy {

std::int64_t steady_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

namespace {

struct slot {
    std::uint64_t seq;
    std::optional<std::string> reply;
};

struct connection {
    int fd = -1;
    std::uint64_t id = 0;
    protocol kind = protocol::policy;
    std::string in;
    std::string out;
    std::size_t out_off = 0;
    std::deque<slot> pending;  // socketmap replies in request order
    std::uint64_t next_seq = 0;
    bool read_closed = false;
    bool broken = false;                        // a malformed request was seen: flush, then close
    std::uint32_t mask = EPOLLIN | EPOLLRDHUP;  // what epoll watches now
    std::int64_t last_activity = 0;             // accepted, or a request completed / a reply left: the idle clock
    std::int64_t request_started = 0;           // first byte of the incomplete request in `in` (0 = none)
};

constexpr std::uint64_t listener_tag = 1ull << 62;  // epoll data: listener index | tag
constexpr std::uint64_t wake_tag = 1ull << 61;
constexpr std::uint64_t signal_tag = 1ull << 60;

}  // namespace

struct policy_server::impl {
    request_handler& handler;
    server_limits limits;
    server_stats stats;
    int ep = -1;
    int wake_fd = -1;
    int sig_fd = -1;
    int spare_fd = -1;  // reserve descriptor for EMFILE (see accept_all)
    std::vector<std::pair<int, protocol>> listeners;
    std::unordered_map<std::uint64_t, connection> conns;
    std::size_t open_count[2] = {0, 0};  // per protocol (its pool)
    std::uint64_t next_id = 1;
    std::atomic<bool> stopping{false};
    std::mutex post_mutex;
    std::vector<std::function<void()>> posted;
    std::int64_t last_sweep = 0;
    std::int64_t last_refusal_log = 0;

    impl(request_handler& h, server_limits l) : handler(h), limits(l) {
        ep = ::epoll_create1(EPOLL_CLOEXEC);
        wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        spare_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        epoll_event ev{EPOLLIN, {.u64 = wake_tag}};
        ::epoll_ctl(ep, EPOLL_CTL_ADD, wake_fd, &ev);
    }
    ~impl() {
        for (auto& [id, c] : conns) ::close(c.fd);
        for (auto& [fd, p] : listeners) ::close(fd);
        if (sig_fd >= 0) ::close(sig_fd);
        if (spare_fd >= 0) ::close(spare_fd);
        ::close(wake_fd);
        ::close(ep);
    }

    void rearm(connection& c) {
        bool want_read =
            !c.read_closed && c.out.size() - c.out_off < limits.max_output && c.pending.size() < limits.max_pending;
        bool want_write = c.out_off < c.out.size();
        // EPOLLRDHUP only while reading: after EOF it would fire on every turn.
        std::uint32_t mask = (want_read ? EPOLLIN | EPOLLRDHUP : 0u) | (want_write ? EPOLLOUT : 0u);
        if (mask == c.mask) return;
        c.mask = mask;
        epoll_event ev{mask, {.u64 = c.id}};
        ::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
    }

    void close_conn(std::uint64_t id) {
        auto it = conns.find(id);
        if (it == conns.end()) return;
        if (it->second.broken) {
            // Discard unread input first (bounded): closing with unread bytes
            // sends a RST, which can destroy the replies the client has not read yet.
            char sink[16384];
            for (int i = 0; i < 64 && ::recv(it->second.fd, sink, sizeof sink, MSG_DONTWAIT) > 0; ++i) continue;
        }
        ::close(it->second.fd);  // also removes it from the epoll set
        --open_count[static_cast<int>(it->second.kind)];
        conns.erase(it);
    }

    void accept_all(int lfd, protocol p) {
        while (true) {
            int fd = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0 && (errno == EMFILE || errno == ENFILE) && spare_fd >= 0) {
                // Out of descriptors: the pending connection would keep the
                // listener readable and spin the loop. Use the reserve fd to
                // accept and close it (the client retries), then re-reserve.
                ::close(spare_fd);
                int victim = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
                if (victim >= 0) ::close(victim);
                spare_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (victim < 0) return;  // accept() fails with EMFILE even on an empty queue: stop here
                ++stats.refused;
                log_refusal("out_of_file_descriptors");
                return;  // one per loop turn: the open connections get served in between
            }
            if (fd < 0) return;  // EAGAIN or a transient error; level-triggered epoll retries
            if (open_count[static_cast<int>(p)] >= limits.max_connections) {
                ++stats.refused;
                ::close(fd);
                log_refusal(std::string("max_connections protocol=") +
                            (p == protocol::policy ? "policy" : "socketmap") +
                            " limit=" + std::to_string(limits.max_connections));
                continue;
            }
            ++open_count[static_cast<int>(p)];
            int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // fails harmlessly on unix sockets
            std::uint64_t id = next_id++;
            connection& c = conns[id];
            c.fd = fd;
            c.id = id;
            c.kind = p;
            c.last_activity = steady_now_ms();
            epoll_event ev{EPOLLIN | EPOLLRDHUP, {.u64 = id}};
            ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
            ++stats.accepted;
        }
    }

    void log_refusal(const std::string& why) {
        std::int64_t now = steady_now_ms();
        if (now - last_refusal_log < 1000) return;  // at most one line per second under a flood
        last_refusal_log = now;
        log::warning("- connection_refused reason=" + why + " refused_total=" + std::to_string(stats.refused));
    }

    // Writes what it can; false when the connection died.
    bool flush(connection& c) {
        while (c.out_off < c.out.size()) {
            ssize_t n = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
            if (n > 0) {
                c.out_off += static_cast<std::size_t>(n);
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            if (n < 0 && errno == EINTR) continue;
            return false;
        }
        if (c.out_off == c.out.size()) {
            c.out.clear();
            c.out_off = 0;
        }
        return true;
    }

    std::nullopt_t malformed(connection& c, std::string_view why) {
        ++stats.closed_malformed;
        log::warning(
            "- malformed_request protocol=" + std::string(c.kind == protocol::policy ? "policy" : "socketmap") +
            " reason=" + std::string(why) + " buffered=" + std::to_string(c.in.size()));
        return std::nullopt;
    }

    // Answers one complete request at the front of rest; 0 = incomplete (wait
    // for more), nullopt = malformed (logged).
    std::optional<std::size_t> answer_one(connection& c, std::string_view rest) {
        if (c.kind == protocol::policy) {
            auto r = parse_policy_request(rest, limits.request);
            if (r.status == policy_parse_status::incomplete) return 0;
            if (r.status != policy_parse_status::ok) return malformed(c, to_string(r.status));
            ++stats.policy_requests;
            c.out += handler.on_policy(r.request);
            return r.consumed;
        }
        auto f = decode_netstring(rest, socketmap_max_request);
        if (f.status == netstring_status::incomplete) return 0;
        if (f.status != netstring_status::ok) return malformed(c, to_string(f.status));
        ++stats.socketmap_requests;
        reply_token tok{c.id, c.next_seq++};
        auto reply = handler.on_socketmap(f.payload, tok);
        if (reply && c.pending.empty()) {
            append_netstring(c.out, reply->to_wire());
        } else {
            c.pending.push_back(slot{tok.seq, reply ? std::optional(reply->to_wire()) : std::nullopt});
        }
        return f.consumed;
    }

    // Answers every complete request in c.in. A malformed one stops the
    // connection: nothing more is read or answered, the replies already made
    // are flushed, then it closes (false = the caller stops reading).
    bool process(connection& c) {
        if (c.broken) return false;
        std::size_t off = 0;
        while (off < c.in.size()) {
            if (c.out.size() - c.out_off >= limits.max_output || c.pending.size() >= limits.max_pending) break;
            auto used = answer_one(c, std::string_view(c.in.data() + off, c.in.size() - off));
            if (!used) {
                c.broken = true;
                c.read_closed = true;
                c.in.clear();
                return false;
            }
            if (*used == 0) break;
            off += *used;
        }
        c.in.erase(0, off);
        if (off > 0) c.last_activity = steady_now_ms();  // a complete request: the idle clock restarts
        // The deadline counts from the first byte of the request now incomplete.
        if (c.in.empty()) {
            c.request_started = 0;
        } else if (off > 0 || c.request_started == 0) {
            c.request_started = steady_now_ms();
        }
        return true;
    }

    // Reads, answers, writes; closes when done or broken.
    void on_readable(connection& c) {
        char buf[16384];
        while (!c.read_closed && c.in.size() < limits.request.max_request + sizeof buf) {
            ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
            if (n > 0) {
                c.in.append(buf, static_cast<std::size_t>(n));
                if (!process(c)) break;
                if (c.out.size() - c.out_off >= limits.max_output || c.pending.size() >= limits.max_pending) break;
                continue;
            }
            if (n == 0) {
                c.read_closed = true;  // half-closed: still answer what is complete, then close
                break;
            }
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) return close_conn(c.id);
            break;
        }
        after_io(c);
    }

    void after_io(connection& c) {
        process(c);
        if (!flush(c)) return close_conn(c.id);
        if (c.read_closed && c.pending.empty() && c.out_off == c.out.size()) return close_conn(c.id);
        rearm(c);
    }

    void complete(reply_token tok, const socketmap_reply& reply) {
        auto it = conns.find(tok.connection);
        if (it == conns.end()) return;
        connection& c = it->second;
        auto s = std::find_if(c.pending.begin(), c.pending.end(), [&](const slot& x) { return x.seq == tok.seq; });
        if (s != c.pending.end()) s->reply = reply.to_wire();
        while (!c.pending.empty() && c.pending.front().reply) {
            append_netstring(c.out, *c.pending.front().reply);
            c.pending.pop_front();
        }
        after_io(c);
    }

    void sweep_idle(std::int64_t now) {
        if (now - last_sweep < 1000) return;
        last_sweep = now;
        std::vector<std::uint64_t> idle, slow;
        for (auto& [id, c] : conns) {
            auto limit = c.kind == protocol::policy ? limits.policy_idle : limits.socketmap_idle;
            // Not while we hold its input back ourselves (its replies are not read): that is not a trickle.
            const bool held_back =
                c.out.size() - c.out_off >= limits.max_output || c.pending.size() >= limits.max_pending;
            if (c.request_started != 0 && !held_back && now - c.request_started > limits.request_deadline.count()) {
                slow.push_back(id);
            } else if (c.pending.empty() && now - c.last_activity > limit.count() * 1000) {
                idle.push_back(id);
            }
        }
        for (auto id : idle) {
            ++stats.closed_idle;
            close_conn(id);
        }
        for (auto id : slow) {
            ++stats.closed_slow;
            close_conn(id);
        }
        if (!slow.empty()) {
            log::warning("- request_deadline_exceeded closed=" + std::to_string(slow.size()) +
                         " deadline_ms=" + std::to_string(limits.request_deadline.count()) +
                         " closed_slow_total=" + std::to_string(stats.closed_slow));
        }
    }

    void on_signal() {
        signalfd_siginfo si{};
        while (::read(sig_fd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
            if (si.ssi_signo == SIGHUP) {
                log::notice("- reload signal=SIGHUP");
                handler.on_reload();
            } else {
                log::notice("- shutdown signal=" + std::to_string(si.ssi_signo));
                stopping = true;
            }
        }
    }

    void run_posted() {
        std::uint64_t v;
        while (::read(wake_fd, &v, sizeof v) > 0) continue;  // drain the eventfd
        std::vector<std::function<void()>> todo;
        {
            std::lock_guard lock(post_mutex);
            todo.swap(posted);
        }
        for (auto& fn : todo) fn();
    }

    void run() {
        std::vector<epoll_event> events(256);
        while (!stopping) {
            int timeout = handler.has_deadlines() ? 20 : 500;
            int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), timeout);
            for (int i = 0; i < n; ++i) {
                std::uint64_t tag = events[i].data.u64;
                if (tag & listener_tag) {
                    auto& [fd, p] = listeners[tag & ~listener_tag];
                    accept_all(fd, p);
                } else if (tag == wake_tag) {
                    run_posted();
                } else if (tag == signal_tag) {
                    on_signal();
                } else if (auto it = conns.find(tag); it != conns.end()) {
                    connection& c = it->second;
                    std::uint32_t e = events[i].events;
                    // EPOLLHUP after our EOF: the peer is gone both ways, nothing can be delivered.
                    if ((e & EPOLLERR) || ((e & EPOLLHUP) && c.read_closed)) {
                        close_conn(c.id);
                    } else if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) {
                        on_readable(c);  // reads to EOF; EPOLLHUP with nothing left closes there
                    } else if (e & EPOLLOUT) {
                        c.last_activity = steady_now_ms();
                        after_io(c);
                    }
                }
            }
            std::int64_t now = steady_now_ms();
            handler.on_tick(now);
            sweep_idle(now);
        }
    }
};

policy_server::policy_server(request_handler& handler, server_limits limits)
    : impl_(std::make_unique<impl>(handler, limits)) {}
policy_server::~policy_server() = default;

void policy_server::add_listener(int fd, protocol p) {
    impl_->listeners.emplace_back(fd, p);
    epoll_event ev{EPOLLIN, {.u64 = listener_tag | (impl_->listeners.size() - 1)}};
    ::epoll_ctl(impl_->ep, EPOLL_CTL_ADD, fd, &ev);
}

void policy_server::handle_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    impl_->sig_fd = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    epoll_event ev{EPOLLIN, {.u64 = signal_tag}};
    ::epoll_ctl(impl_->ep, EPOLL_CTL_ADD, impl_->sig_fd, &ev);
}

void policy_server::run() { impl_->run(); }

void policy_server::stop() {
    impl_->stopping = true;
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(impl_->wake_fd, &one, sizeof one);
}

void policy_server::post(std::function<void()> fn) {
    {
        std::lock_guard lock(impl_->post_mutex);
        impl_->posted.push_back(std::move(fn));
    }
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(impl_->wake_fd, &one, sizeof one);
}

void policy_server::complete(reply_token token, const socketmap_reply& reply) { impl_->complete(token, reply); }
const server_stats& policy_server::stats() const { return impl_->stats; }
std::size_t policy_server::connections() const { return impl_->conns.size(); }
std::size_t policy_server::connections(protocol p) const { return impl_->open_count[static_cast<int>(p)]; }

}  // namespace relaygate::policy
