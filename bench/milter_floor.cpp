// milter_floor: the cheapest milter Postfix can talk to, for measurement only
// (bench/milter_postfix_bench.sh --floor). Milter protocol 6 spoken directly on
// one epoll thread, no libmilter: it asks Postfix to skip every step but the
// headers (no reply) and end of message, names no macros, and accepts every
// message. What Postfix itself pays per milter'd message is then all that is
// left, so "base vs floor" bounds what any milter design can reach on a box.
//   milter_floor SOCKET_PATH [SECONDS]   (default 3600; also stops on SIGTERM/SIGINT)
// Limits: packets over 1 MiB or a peer that stops reading close the connection.
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <unordered_map>

namespace {

constexpr std::uint32_t max_packet = 1 << 20;
// Skip connect, HELO, MAIL, RCPT, body, end of headers, unknown, DATA; headers
// without reply (SMFIP_NOCONNECT..NODATA and the NR_* flags of libmilter's mfdef.h).
constexpr std::uint32_t wanted_steps = 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x40 | 0x80 | 0x100 | 0x200 | 0xff000;

void put32(std::string& s, std::uint32_t v) {
    v = htonl(v);
    s.append(reinterpret_cast<const char*>(&v), 4);
}

void packet(std::string& out, char cmd, const std::string& body = {}) {
    put32(out, static_cast<std::uint32_t>(body.size() + 1));
    out.push_back(cmd);
    out += body;
}

bool write_all(int fd, const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
        ssize_t w = write(fd, s.data() + off, s.size() - off);
        if (w <= 0) return false;  // blocking socket: 0/-1 means the peer is gone
        off += static_cast<std::size_t>(w);
    }
    return true;
}

// Handles the complete packets in `in`; false = close the connection.
bool serve(std::string& in, std::string& out, long& messages) {
    std::size_t off = 0;
    while (in.size() - off >= 5) {
        std::uint32_t len;
        std::memcpy(&len, in.data() + off, 4);
        len = ntohl(len);
        if (len == 0 || len > max_packet) return false;
        if (in.size() - off - 4 < len) break;
        char cmd = in[off + 4];
        const char* data = in.data() + off + 5;
        switch (cmd) {
            case 'O': {  // negotiate: version, actions, steps
                if (len < 13) return false;
                std::uint32_t offered;
                std::memcpy(&offered, data + 8, 4);
                std::string b;
                put32(b, 6);
                put32(b, 0);
                put32(b, wanted_steps & ntohl(offered));
                for (std::uint32_t stage = 0; stage < 7; ++stage) {  // no macros at any step
                    put32(b, stage);
                    b.push_back('\0');
                }
                packet(out, 'O', b);
                break;
            }
            case 'E':  // end of message
                ++messages;
                packet(out, 'a');
                break;
            case 'Q':
                return false;
            default:  // macros, headers, abort: no reply (every other step was skipped)
                break;
        }
        off += 4 + len;
    }
    in.erase(0, off);
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: milter_floor SOCKET_PATH [SECONDS]\n");
        return 2;
    }
    const long seconds = argc > 2 ? std::atol(argv[2]) : 3600;
    const std::time_t stop_at = std::time(nullptr) + seconds;
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigprocmask(SIG_BLOCK, &sigs, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    int sfd = signalfd(-1, &sigs, SFD_CLOEXEC);

    int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strncpy(sa.sun_path, argv[1], sizeof sa.sun_path - 1);
    unlink(argv[1]);
    if (ls < 0 || bind(ls, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(ls, 128) != 0) {
        std::perror("milter_floor: listen");
        return 1;
    }
    chmod(argv[1], 0666);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    for (int fd : {ls, sfd}) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    std::unordered_map<int, std::string> inbox;
    long messages = 0;
    bool running = true;
    while (running && std::time(nullptr) < stop_at) {
        epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, 1000);
        for (int i = 0; i < n; ++i) {
            int fd = evs[i].data.fd;
            if (fd == sfd) {
                running = false;
            } else if (fd == ls) {
                int c = accept4(ls, nullptr, nullptr, SOCK_CLOEXEC);
                if (c < 0) continue;
                epoll_event ev{};
                ev.events = EPOLLIN;
                ev.data.fd = c;
                epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
                inbox[c];
            } else {
                char buf[65536];
                ssize_t r = read(fd, buf, sizeof buf);
                std::string out;
                std::string& in = inbox[fd];
                bool keep = r > 0 && (in.append(buf, static_cast<std::size_t>(r)), serve(in, out, messages));
                if (keep && !out.empty()) keep = write_all(fd, out);
                if (!keep) {
                    close(fd);
                    inbox.erase(fd);
                }
            }
        }
    }
    unlink(argv[1]);
    std::fprintf(stderr, "milter_floor: %ld messages\n", messages);
    return 0;
}
