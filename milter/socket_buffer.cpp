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
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstring>
#include <new>

namespace {

constexpr int worker_linger_ms = 25;
constexpr std::size_t buffer_bytes = 16 * 1024;  // a burst of header packets; bodies bypass it
constexpr int max_buffered_fd = 1 << 16;         // descriptors above this pass through unbuffered

struct socket_buffer {
    std::size_t begin = 0;
    std::size_t end = 0;
    bool eof = false;  // the peer closed: read() returns 0 once the bytes are used up
    char bytes[buffer_bytes];
    std::size_t buffered() const { return end - begin; }
    bool readable() const { return buffered() > 0 || eof; }

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
int __real_close(int fd);
ssize_t __real_read(int fd, void* buf, size_t n);
int __real_poll(struct pollfd* fds, nfds_t nfds, int timeout);

int __wrap_accept(int fd, sockaddr* addr, socklen_t* len) {
    int conn = __real_accept(fd, addr, len);
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
        if (n >= buffer_bytes) return __real_read(fd, buf, n);
        ssize_t got = __real_read(fd, b->bytes, buffer_bytes);
        if (got <= 0) return got;  // EOF or error, errno as the kernel set it
        b->begin = 0;
        b->end = static_cast<std::size_t>(got);
    }
    std::size_t take = n < b->buffered() ? n : b->buffered();
    std::memcpy(buf, b->bytes + b->begin, take);
    b->begin += take;
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
    int rc = __real_poll(fds, nfds, timeout);
    if (rc == 1 && nfds == 1 && fds != nullptr && (fds[0].revents & POLLIN) != 0 && (fds[0].events & POLLIN) != 0) {
        if (socket_buffer* b = buffer_of(fds[0].fd)) b->fill(fds[0].fd);
    }
    return rc;
}
}
