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
#include "milter_wire.hpp"

namespace relaygate::milter::testing {
namespace {

using namespace std::chrono_literals;

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
