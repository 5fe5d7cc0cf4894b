// milter_wire.hpp: a raw milter-protocol client for the integration tests
// that drive the real relaygate-milter over its unix socket byte by byte
// (milter_wire_itest, milter_pressure_itest): packets as Postfix 3.7 frames
// them, the stream of one message, negotiation, and bounded reads.
#pragma once

#include <arpa/inet.h>
#include <libmilter/mfdef.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace relaygate::milter::testing {

inline std::string packet(char cmd, const std::string& data = {}) {
    std::uint32_t len = htonl(static_cast<std::uint32_t>(data.size() + 1));
    std::string p(reinterpret_cast<const char*>(&len), 4);
    p += cmd;
    return p + data;
}

inline std::string be32(std::uint32_t v) {
    v = htonl(v);
    return {reinterpret_cast<const char*>(&v), 4};
}

inline std::string nul_joined(const std::vector<std::string>& parts) {
    std::string s;
    for (const auto& p : parts) s += p + '\0';
    return s;
}

// What Postfix sends for one message once the milter has declined connect,
// HELO, MAIL, DATA, end of headers and body (signing off) and asked for no
// replies before end of message: RCPT macros + RCPT, the headers, EOM macros + EOM.
inline std::string message_stream(const std::string& qid, const std::string& from) {
    std::string s;
    s += packet(SMFIC_MACRO,
                "R" + nul_joined({"i", qid, "{mail_addr}", "bounce@relay.example.net", "{client_addr}", "192.0.2.9"}));
    s += packet(SMFIC_RCPT, nul_joined({"<bob@example.net>"}));
    s += packet(SMFIC_HEADER, nul_joined({"From", from}));
    s += packet(SMFIC_HEADER, nul_joined({"To", "bob@example.net"}));
    s += packet(SMFIC_HEADER, nul_joined({"Subject", "wire test " + qid}));
    s += packet(SMFIC_MACRO, "E" + nul_joined({"i", qid}));
    s += packet(SMFIC_BODYEOB);
    return s;
}

class wire {
public:
    explicit wire(const std::filesystem::path& path) {
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
        if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
            throw std::runtime_error("connect " + path.string() + ": " + std::strerror(errno));
    }
    ~wire() { ::close(fd_); }
    wire(const wire&) = delete;
    wire& operator=(const wire&) = delete;

    void send(const std::string& bytes) {
        for (std::size_t off = 0; off < bytes.size();) {
            ssize_t n = ::write(fd_, bytes.data() + off, bytes.size() - off);
            if (n <= 0) throw std::runtime_error(std::string("write: ") + std::strerror(errno));
            off += static_cast<std::size_t>(n);
        }
    }
    // The next packet as command + data, or "" on EOF; throws after 10 s.
    std::string receive() {
        std::string len = read_exactly(4);
        if (len.empty()) return "";
        std::uint32_t n;
        std::memcpy(&n, len.data(), 4);
        n = ntohl(n);
        if (n == 0 || n > (1u << 20)) throw std::runtime_error("bad reply length " + std::to_string(n));
        return read_exactly(n);
    }
    // Negotiates as Postfix 3.7 does (protocol 6, every step flag offered);
    // returns the steps the milter asked for.
    std::uint32_t negotiate() {
        send(packet(SMFIC_OPTNEG, be32(6) + be32(0x1ff) + be32(SMFI_CURR_PROT)));
        std::string r = receive();
        if (r.size() < 13 || r[0] != SMFIC_OPTNEG) throw std::runtime_error("no negotiation reply");
        std::uint32_t steps;
        std::memcpy(&steps, r.data() + 9, 4);
        return ntohl(steps);
    }

private:
    std::string read_exactly(std::size_t n) {
        std::string out;
        while (out.size() < n) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 10000) != 1) throw std::runtime_error("no reply within 10 s");
            char buf[4096];
            ssize_t r = ::read(fd_, buf, std::min(sizeof buf, n - out.size()));
            if (r == 0 && out.empty()) return "";
            if (r <= 0) throw std::runtime_error("connection closed mid-packet");
            out.append(buf, static_cast<std::size_t>(r));
        }
        return out;
    }
    int fd_ = -1;
};

}  // namespace relaygate::milter::testing
