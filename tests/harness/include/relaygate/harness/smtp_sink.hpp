// smtp_sink.hpp: Postfix's real smtp-sink on a loopback address and free port,
// dumping each received message to <dir>/%H%M%S.<random> (-d). messages() reads
// back only complete dumps (files the sink no longer holds open). smtp-sink
// rejects per SMTP command, not per address: to bounce chosen recipients, route
// them (transport_maps / a transport) to a second sink that rejects RCPT.
// Callers: e2e fixtures, harness_ctl sink (demo scripts).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "relaygate/harness/child_process.hpp"
#include "relaygate/harness/temp_dir.hpp"

namespace relaygate::harness {

struct sink_options {
    std::string address = "127.0.0.1";           // any 127.0.0.0/8 address works on lo
    std::uint16_t port = 0;                      // 0: free_port()
    std::string hostname = "sink.example.test";  // -h, greeting name
    std::vector<std::string> hard_reject;        // -f: commands answered 5xx, e.g. {"RCPT"} or {"."}
    std::vector<std::string> soft_reject;        // -r: commands answered 4xx
    std::string hard_reply;                      // -B: the 5xx text, e.g. "550 5.7.1 ... blocked using zen.example"
    std::string soft_reply;                      // -b: the 4xx text
    std::filesystem::path dir;                   // empty: an own temp dir; else used as is (created)
    std::vector<std::string> extra_args;         // further smtp-sink options
};

// One dump file, parsed. Header names keep their case; lookups ignore case.
struct sink_message {
    std::filesystem::path file;
    std::string client_addr;                                   // X-Client-Addr: the source IP Postfix connected from
    std::string helo;                                          // X-Helo-Args
    std::string mail_from;                                     // address inside <> of X-Mail-Args
    std::vector<std::string> rcpts;                            // addresses inside <> of each X-Rcpt-Args
    std::vector<std::pair<std::string, std::string>> headers;  // every header, sink ones first
    std::string body;  // after the blank line, without the sink's trailing empty line

    // First header of that name (case-insensitive), unfolded; nullopt when absent.
    std::optional<std::string> header(std::string_view name) const;
    std::vector<std::string> headers_named(std::string_view name) const;
};

// Pure parser of one dump; nullopt when it is not a complete smtp-sink dump
// (no X-Client-Addr record or no header/body separator). Input capped at 16 MiB.
std::optional<sink_message> parse_sink_dump(std::string_view text);

// Complete dumps in dir, oldest first. sink_pid > 0: skip files that process still has open.
std::vector<sink_message> read_sink_dir(const std::filesystem::path& dir, pid_t sink_pid);

class smtp_sink {
public:
    explicit smtp_sink(sink_options options = {});  // starts and waits until it accepts connections
    ~smtp_sink();                                   // stop()
    smtp_sink(smtp_sink&&) = default;

    const std::string& address() const { return options_.address; }
    std::uint16_t port() const { return options_.port; }
    // "[127.0.0.2]:2626": the Postfix next hop for this sink (no MX lookup).
    std::string nexthop() const;
    const std::filesystem::path& dir() const { return dir_; }
    pid_t pid() const { return process_.pid(); }

    std::vector<sink_message> messages() const;
    // Succeeds once at least `count` complete messages arrived; the failure names what did.
    testing::AssertionResult wait_for_messages(std::size_t count, std::chrono::milliseconds timeout = 30s) const;
    void stop();
    pid_t release();  // leave it running (harness_ctl); writes nothing

private:
    sink_options options_;
    std::optional<temp_dir> own_dir_;
    std::filesystem::path dir_;
    child_process process_;
};

}  // namespace relaygate::harness
