// milter_wire_itest: the real relaygate-milter driven byte by byte over its
// unix socket, to pin down the read buffer under libmilter
// (milter/socket_buffer.cpp): however the MTA's packets are cut or joined on
// the wire — a whole message in one write, packets split mid-length with
// pauses, two messages back to back, a peer that vanishes mid-packet, a length
// no milter accepts, many short connections reusing descriptor numbers — every
// message gets its own verdict and the milter keeps serving.
// miltertest cannot do this: it writes one packet per call and waits.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libmilter/mfdef.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "milter_fixture.hpp"

namespace relaygate::milter::testing {
namespace {

using namespace std::chrono_literals;

std::string packet(char cmd, const std::string& data = {}) {
    std::uint32_t len = htonl(static_cast<std::uint32_t>(data.size() + 1));
    std::string p(reinterpret_cast<const char*>(&len), 4);
    p += cmd;
    return p + data;
}

std::string be32(std::uint32_t v) {
    v = htonl(v);
    return {reinterpret_cast<const char*>(&v), 4};
}

std::string nul_joined(const std::vector<std::string>& parts) {
    std::string s;
    for (const auto& p : parts) s += p + '\0';
    return s;
}

// What Postfix sends for one message once the milter has declined connect,
// HELO, MAIL, DATA, end of headers and body (signing off) and asked for no
// replies before end of message: RCPT macros + RCPT, the headers, EOM macros + EOM.
std::string message_stream(const std::string& qid, const std::string& from) {
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

constexpr std::uint32_t declined = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL | SMFIP_NODATA | SMFIP_NOEOH |
                                   SMFIP_NOBODY | SMFIP_NR_RCPT | SMFIP_NR_HDR;

const std::string rejected_reply =
    std::string(1, SMFIR_REPLYCODE) + "550 5.7.1 From domain unknown.example is not registered";

class milter_wire : public ::testing::Test {
public:
    static void SetUpTestSuite() { milter = new milter_process({"--signing", "false"}, "milter-wire"); }
    static void TearDownTestSuite() {
        delete milter;
        milter = nullptr;
    }
    static milter_process* milter;

    // A fresh connection, negotiated, with the steps message_stream() assumes.
    static std::unique_ptr<wire> connect() {
        auto w = std::make_unique<wire>(milter->socket_path());
        std::uint32_t steps = w->negotiate();
        EXPECT_EQ(steps & declined, declined) << "steps asked for: " << std::hex << steps;
        return w;
    }
};
milter_process* milter_wire::milter = nullptr;

std::string reply_text(std::string r) {
    while (!r.empty() && r.back() == '\0') r.pop_back();
    return r;
}

TEST_F(milter_wire, a_whole_message_in_one_write_gets_its_verdict) {
    auto w = connect();
    w->send(message_stream("WIRE1", "news@verified.example"));
    EXPECT_EQ(reply_text(w->receive()), std::string(1, SMFIR_ACCEPT));
    w->send(message_stream("WIRE2", "x@unknown.example"));
    EXPECT_EQ(reply_text(w->receive()), rejected_reply);
}

TEST_F(milter_wire, packets_cut_mid_length_and_mid_data_with_pauses_get_the_same_verdict) {
    auto w = connect();
    const std::string s = message_stream("WIRESPLIT", "x@unknown.example");
    // cut points inside the first length field, inside the macros, inside RCPT and around EOM
    const std::size_t cuts[] = {2, 3, 40, 41, 90, s.size() - 3, s.size() - 1};
    std::size_t from = 0;
    for (std::size_t cut : cuts) {
        w->send(s.substr(from, cut - from));
        from = cut;
        std::this_thread::sleep_for(30ms);  // longer than the worker's 25 ms linger: the connection goes idle
    }
    w->send(s.substr(from));
    EXPECT_EQ(reply_text(w->receive()), rejected_reply);
}

TEST_F(milter_wire, two_messages_back_to_back_get_two_verdicts_in_order) {
    auto w = connect();
    w->send(message_stream("WIREA", "x@unknown.example") + message_stream("WIREB", "news@verified.example") +
            message_stream("WIREC", "x@unknown.example"));
    EXPECT_EQ(reply_text(w->receive()), rejected_reply);
    EXPECT_EQ(reply_text(w->receive()), std::string(1, SMFIR_ACCEPT));
    EXPECT_EQ(reply_text(w->receive()), rejected_reply);
    auto lines = milter->rejection_lines();
    ASSERT_GE(lines.size(), 2u);
    EXPECT_NE(lines[lines.size() - 2].find("\"WIREA\""), std::string::npos);
    EXPECT_NE(lines.back().find("\"WIREC\""), std::string::npos);
}

TEST_F(milter_wire, a_peer_gone_mid_packet_or_an_oversized_length_does_not_stop_the_milter) {
    {
        auto w = connect();
        w->send(message_stream("WIRECUT", "news@verified.example").substr(0, 57));  // mid-packet (the RCPT macros)
    }                                                                               // closed
    {
        auto w = connect();
        w->send(be32(0x7fffffff) + "L");  // a length beyond any limit
        EXPECT_EQ(w->receive(), "") << "the milter closes a connection with an impossible packet";
    }
    auto w = connect();
    w->send(message_stream("WIREAFTER", "news@verified.example"));
    EXPECT_EQ(reply_text(w->receive()), std::string(1, SMFIR_ACCEPT));
    EXPECT_NE(milter->log().find("WIREAFTER"), std::string::npos);
}

TEST_F(milter_wire, many_short_connections_in_parallel_each_get_their_own_verdicts) {
    // 4 threads x 25 connections x 2 messages: descriptor numbers are reused
    // all the time, so a buffer left behind by a closed connection would show.
    std::vector<std::thread> threads;
    std::vector<int> wrong(4, 0);
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([t, &wrong] {
            for (int c = 0; c < 25; ++c) {
                try {
                    auto w = connect();
                    const std::string id = "W" + std::to_string(t) + "C" + std::to_string(c);
                    w->send(message_stream(id + "A", "news@verified.example") +
                            message_stream(id + "B", "x@unknown.example"));
                    if (reply_text(w->receive()) != std::string(1, SMFIR_ACCEPT)) ++wrong[t];
                    if (reply_text(w->receive()) != rejected_reply) ++wrong[t];
                } catch (const std::exception&) {
                    ++wrong[t];
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    for (int t = 0; t < 4; ++t) EXPECT_EQ(wrong[t], 0) << "thread " << t;
    EXPECT_TRUE(milter->process().running());
}

}  // namespace
}  // namespace relaygate::milter::testing
