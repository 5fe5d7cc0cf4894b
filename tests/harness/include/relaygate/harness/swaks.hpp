// swaks.hpp: sends one message with the real swaks and keeps the whole SMTP
// transcript, so a test can assert on the reply each command got (e.g. the
// "550 5.7.1 ..." after end of data). Callers: e2e tests, harness_ctl send.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace relaygate::harness {

using namespace std::chrono_literals;

struct swaks_message {
    std::string server = "127.0.0.1";
    std::uint16_t port = 25;
    std::string helo = "client.example.test";
    std::string from = "sender@brand.test";             // envelope sender (MAIL FROM)
    std::vector<std::string> to = {"rcpt@gmail.test"};  // envelope recipients
    // Headers "Name: value"; one of a name swaks sets itself (From, To, Subject,
    // Date, Message-Id) replaces swaks's; others are added.
    std::vector<std::string> headers;
    std::string body = "relaygate test message";
    std::string raw_data;                 // non-empty: sent as the whole DATA instead of headers+body
    std::vector<std::string> extra_args;  // further swaks options
    std::chrono::seconds timeout = 30s;   // swaks --timeout, and the bound on the whole run
};

struct swaks_result {
    int exit_code = -1;      // swaks's exit code (0: every stage accepted); -1: killed at the bound
    std::string transcript;  // everything swaks printed

    // Final reply line to the first client line starting with `command`
    // (e.g. "RCPT TO:<bob@x.test>", "MAIL FROM", "."); nullopt when not sent.
    std::optional<std::string> reply_to(std::string_view command) const;
    std::optional<std::string> data_reply() const { return reply_to("."); }
    // Queue id from "250 ... queued as ABC123"; empty when not queued.
    std::string queue_id() const;
};

swaks_result swaks_send(const swaks_message& message);

// Pure transcript parser behind reply_to (exposed for the unit test).
std::optional<std::string> swaks_reply_to(std::string_view transcript, std::string_view command);

}  // namespace relaygate::harness
