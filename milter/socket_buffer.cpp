// socket_buffer.cpp: a read buffer under libmilter's sockets, and its worker linger.
//
// libmilter reads every milter packet with four system calls: poll() + read()
// of the 5-byte length and command, then poll() + read() of the rest
// (mi_rd_cmd in comm.c), and a worker polls once more for the next packet.
// Postfix sends most of a message's packets without waiting for a reply
// (SMFIP_NR_*), so they are usually already waiting in the socket together.
// relaygate-milter links libmilter statically with -Wl,--wrap=accept,close,
// read,poll, and these wrappers give each connection libmilter accepted a
// user-space buffer: one read() takes everything that is there, and the polls
// and reads that follow are answered from memory while it lasts.
//
// Rules that keep this exact:
//   - only sockets returned by libmilter's accept() get a buffer; every other
//     descriptor (our own files, the listener, the worker pipe) passes through;
//   - poll() reports POLLIN for a descriptor with buffered bytes without asking
//     the kernel (they are readable by definition); a poll with nothing
//     buffered goes to the kernel unchanged, so timeouts, EOF and errors keep
//     their meaning;
//   - when a real poll() of one buffered socket reports POLLIN, the buffer is
//     filled at once with one non-blocking recv(), so the poll and read that
//     libmilter makes next cost nothing; end of file is remembered and
//     returned by the next read();
//   - a read that finds the buffer empty is one real read() (poll said the
//     socket is readable, so it does not block); a large read goes straight
//     into the caller's memory;
//   - close() drops the buffer before the descriptor number can be reused.
// A connection is served by one libmilter thread at a time, and libmilter's
// hand-offs between its controller and workers go through its mutex, so a
// buffer is never touched by two threads at once.
//
// The worker linger: libmilter's worker pool hands a connection back to its
// controller whenever the next command is not there within 1 ms (poll(fd, 1,
// 1) in mi_engine). Postfix sends a message's steps in bursts a client round
// trip apart, so nearly every burst paid a pipe write, a controller wake-up, a
// condition-variable hand-off and often a new thread. Stretching exactly that
// wait lets a worker stay with a busy connection; an idle one still goes back
// after worker_linger_ms.
//
// Under pressure (docs/milter.md "Under pressure"):
//   - the mid-packet deadline: the buffer follows the milter framing as
//     libmilter consumes it (4-byte length, then that many bytes); while a
//     packet is incomplete, a poll() for that connection waits at most
//     packet-timeout, so a peer that stops mid-packet is timed out by libmilter
//     (connection closed, worker thread freed) long before milter-timeout. A
//     connection idle between packets keeps milter-timeout;
//   - at the descriptor limit, accept() fails with EMFILE/ENFILE and libmilter
//     retries at once (a busy loop). The wrapper keeps one spare descriptor:
//     it is closed to accept the waiting connection, which is closed at once
//     (the MTA sees the milter fail and applies milter_default_action,
//     tempfail, instead of waiting), and reopened; one log line per state change.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>

#include "milter_shell.hpp"
#include "relaygate/log/log.hpp"

namespace {

constexpr int worker_linger_ms = 25;
constexpr std::size_t buffer_bytes = 16 * 1024;  // a burst of header packets; bodies bypass it
constexpr int max_buffered_fd = 1 << 16;         // descriptors above this pass through unbuffered

std::atomic<int> packet_timeout_ms{0};           // 0 = no mid-packet deadline
std::atomic<std::uint64_t> packet_timeouts{0};   // connections timed out mid-packet
std::atomic<std::uint64_t> accept_refusals{0};   // connections closed at accept for want of descriptors
std::atomic<bool> descriptors_exhausted{false};  // state of the last accept()
std::atomic<int> spare_fd{-1};                   // given up to accept one connection at the limit

struct socket_buffer {
    std::size_t begin = 0;
    std::size_t end = 0;
    bool eof = false;  // the peer closed: read() returns 0 once the bytes are used up
    // The milter framing as libmilter consumed it: length bytes of the current packet, then its rest.
    unsigned char length[4] = {};
    std::size_t length_got = 0;
    std::uint64_t packet_left = 0;
    char bytes[buffer_bytes];
    std::size_t buffered() const { return end - begin; }
    bool readable() const { return buffered() > 0 || eof; }
    bool mid_packet() const { return length_got > 0 || packet_left > 0; }

    // Follows the framing over n bytes handed to libmilter.
    void consumed(const char* p, std::size_t n) {
        while (n > 0) {
            if (packet_left > 0) {
                const std::size_t k = n < packet_left ? n : static_cast<std::size_t>(packet_left);
                packet_left -= k;
                p += k;
                n -= k;
                continue;
            }
            length[length_got++] = static_cast<unsigned char>(*p++);
            --n;
            if (length_got == 4) {
                packet_left = (std::uint64_t{length[0]} << 24) | (std::uint64_t{length[1]} << 16) |
                              (std::uint64_t{length[2]} << 8) | length[3];
                length_got = 0;
            }
        }
    }

    // One non-blocking recv() into the empty buffer (errors are left for the
    // next real read() to report).
    void fill(int fd) {
        ssize_t got = ::recv(fd, bytes, buffer_bytes, MSG_DONTWAIT);
        if (got > 0) {
            begin = 0;
            end = static_cast<std::size_t>(got);
        } else if (got == 0) {
            eof = true;
        }
    }
};

std::array<std::atomic<socket_buffer*>, max_buffered_fd> buffers{};

socket_buffer* buffer_of(int fd) {
    if (fd < 0 || fd >= max_buffered_fd) return nullptr;
    return buffers[static_cast<std::size_t>(fd)].load(std::memory_order_acquire);
}

}  // namespace

extern "C" {
int __real_accept(int fd, sockaddr* addr, socklen_t* len);
}

namespace {

// accept() at the descriptor limit: the spare descriptor makes room to take the
// waiting connection and close it at once (the MTA then defers at once); without a
// spare, a short pause instead of libmilter's immediate retry. Returns -1/EAGAIN,
// which libmilter's listener takes as "try again".
int accept_at_limit(int listener) {
    const int saved = errno;
    if (!descriptors_exhausted.exchange(true)) {
        relaygate::log::warning(
            std::string("- descriptors_exhausted error=") + std::strerror(saved) +
            " action=close_new_connections refused_total=" + std::to_string(accept_refusals.load()));
    }
    int spare = spare_fd.exchange(-1);
    if (spare >= 0) {
        ::close(spare);
        int conn = __real_accept(listener, nullptr, nullptr);
        if (conn >= 0) {
            ::close(conn);
            accept_refusals.fetch_add(1);
        }
        spare_fd.store(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    } else {
        ::poll(nullptr, 0, 100);  // no spare: at least no busy loop
    }
    errno = EAGAIN;
    return -1;
}

}  // namespace

extern "C" {
int __real_close(int fd);
ssize_t __real_read(int fd, void* buf, size_t n);
int __real_poll(struct pollfd* fds, nfds_t nfds, int timeout);

int __wrap_accept(int fd, sockaddr* addr, socklen_t* len) {
    int conn = __real_accept(fd, addr, len);
    if (conn < 0 && (errno == EMFILE || errno == ENFILE)) return accept_at_limit(fd);
    if (conn >= 0 && descriptors_exhausted.exchange(false)) {
        relaygate::log::notice("- descriptors_available refused_total=" + std::to_string(accept_refusals.load()));
    }
    if (conn >= 0 && conn < max_buffered_fd) {
        // Without memory the connection simply runs unbuffered.
        auto* b = new (std::nothrow) socket_buffer;
        delete buffers[static_cast<std::size_t>(conn)].exchange(b, std::memory_order_acq_rel);
    }
    return conn;
}

int __wrap_close(int fd) {
    if (fd >= 0 && fd < max_buffered_fd)
        delete buffers[static_cast<std::size_t>(fd)].exchange(nullptr, std::memory_order_acq_rel);
    return __real_close(fd);
}

ssize_t __wrap_read(int fd, void* buf, size_t n) {
    socket_buffer* b = buffer_of(fd);
    if (b == nullptr || n == 0) return __real_read(fd, buf, n);
    if (b->buffered() == 0 && b->eof) return 0;
    if (b->buffered() == 0) {
        if (n >= buffer_bytes) {
            ssize_t got = __real_read(fd, buf, n);
            if (got > 0) b->consumed(static_cast<const char*>(buf), static_cast<std::size_t>(got));
            return got;
        }
        ssize_t got = __real_read(fd, b->bytes, buffer_bytes);
        if (got <= 0) return got;  // EOF or error, errno as the kernel set it
        b->begin = 0;
        b->end = static_cast<std::size_t>(got);
    }
    std::size_t take = n < b->buffered() ? n : b->buffered();
    std::memcpy(buf, b->bytes + b->begin, take);
    b->begin += take;
    b->consumed(static_cast<const char*>(buf), take);
    return static_cast<ssize_t>(take);
}

int __wrap_poll(struct pollfd* fds, nfds_t nfds, int timeout) {
    int ready = 0;
    for (nfds_t i = 0; fds != nullptr && i < nfds; ++i) {
        socket_buffer* b = (fds[i].events & POLLIN) != 0 ? buffer_of(fds[i].fd) : nullptr;
        fds[i].revents = b != nullptr && b->readable() ? POLLIN : 0;
        if (fds[i].revents != 0) ++ready;
    }
    if (ready > 0) return ready;  // the rest are polled on the caller's next round
    if (nfds == 1 && timeout == 1 && fds != nullptr && fds[0].events == POLLIN) timeout = worker_linger_ms;
    // Inside a packet, libmilter's wait (milter-timeout) is cut to packet-timeout.
    socket_buffer* mid = nfds == 1 && fds != nullptr ? buffer_of(fds[0].fd) : nullptr;
    const int deadline = packet_timeout_ms.load(std::memory_order_relaxed);
    if (mid != nullptr && mid->mid_packet() && deadline > 0 && (timeout < 0 || timeout > deadline)) {
        timeout = deadline;
    } else {
        mid = nullptr;
    }
    int rc = __real_poll(fds, nfds, timeout);
    if (rc == 0 && mid != nullptr) {
        relaygate::log::notice("- packet_timeout seconds=" + std::to_string(deadline / 1000) +
                               " timeouts_total=" + std::to_string(packet_timeouts.fetch_add(1) + 1));
    }
    if (rc == 1 && nfds == 1 && fds != nullptr && (fds[0].revents & POLLIN) != 0 && (fds[0].events & POLLIN) != 0) {
        if (socket_buffer* b = buffer_of(fds[0].fd)) b->fill(fds[0].fd);
    }
    return rc;
}
}

namespace relaygate::milter {

void set_packet_timeout_ms(int ms) {
    packet_timeout_ms.store(ms);
    if (spare_fd.load() < 0) spare_fd.store(::open("/dev/null", O_RDONLY | O_CLOEXEC));
}

}  // namespace relaygate::milter
