// smtp_source.hpp: Postfix's real smtp-source for volume (bench, load tests):
// N messages over S parallel sessions, bounded in time. For per-message replies
// use swaks_send instead; smtp-source only reports failures on its output.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "relaygate/harness/child_process.hpp"

namespace relaygate::harness {

struct smtp_source_options {
    std::string server = "127.0.0.1";
    std::uint16_t port = 25;
    int messages = 1;  // -m
    int sessions = 1;  // -s, parallel sessions
    std::string from = "sender@brand.test";
    std::string to = "rcpt@gmail.test";
    std::string subject = "relaygate smtp-source";
    std::string helo = "source.example.test";  // -M
    int length = 0;                            // -l, body bytes; 0: smtp-source's default
    std::vector<std::string> extra_args;       // e.g. {"-N"} for distinct recipients
    std::chrono::milliseconds timeout = 120s;  // bound on the whole run
};

// Exit code 0 when every message was accepted; output holds smtp-source's complaints.
command_result smtp_source_send(const smtp_source_options& options);

}  // namespace relaygate::harness
