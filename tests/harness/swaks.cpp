// swaks.cpp: runs swaks for one message and parses its transcript. swaks marks
// client lines " -> " (or "**> "), server lines "<-  " (or "<** " on an error).
#include "relaygate/harness/swaks.hpp"

#include <unistd.h>

#include <regex>

#include "relaygate/harness/child_process.hpp"
#include "relaygate/harness/temp_dir.hpp"

namespace relaygate::harness {
namespace {

struct transcript_line {
    bool from_server;
    std::string text;
};

std::vector<transcript_line> split(std::string_view transcript) {
    std::vector<transcript_line> out;
    std::size_t pos = 0;
    while (pos < transcript.size()) {
        auto eol = transcript.find('\n', pos);
        if (eol == std::string_view::npos) eol = transcript.size();
        std::string_view line = transcript.substr(pos, eol - pos);
        pos = eol + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.starts_with("<-  ") || line.starts_with("<** ")) {
            out.push_back({true, std::string(line.substr(4))});
        } else if (line.starts_with(" -> ") || line.starts_with("**> ")) {
            out.push_back({false, std::string(line.substr(4))});
        }
    }
    return out;
}

}  // namespace

std::optional<std::string> swaks_reply_to(std::string_view transcript, std::string_view command) {
    auto lines = split(transcript);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (lines[i].from_server || !lines[i].text.starts_with(command)) continue;
        if (command == "." && lines[i].text != ".") continue;  // the end-of-data dot, not a body line
        for (std::size_t j = i + 1; j < lines.size(); ++j) {
            if (!lines[j].from_server) {
                if (command == ".") continue;  // pipelined client lines may precede the reply
                break;
            }
            const auto& t = lines[j].text;
            if (t.size() < 4 || t[3] != '-') return t;  // "250 ..." ends a reply, "250-..." continues it
        }
        return std::nullopt;
    }
    return std::nullopt;
}

std::optional<std::string> swaks_result::reply_to(std::string_view command) const {
    return swaks_reply_to(transcript, command);
}

std::string swaks_result::queue_id() const {
    auto reply = data_reply();
    static const std::regex re("queued as ([0-9A-Za-z]+)");
    std::smatch m;
    if (reply && std::regex_search(*reply, m, re)) return m[1];
    return {};
}

swaks_result swaks_send(const swaks_message& message) {
    std::string rcpts;
    for (const auto& r : message.to) rcpts += (rcpts.empty() ? "" : ",") + r;
    std::vector<std::string> argv = {"swaks",
                                     "--server",
                                     message.server,
                                     "--port",
                                     std::to_string(message.port),
                                     "--helo",
                                     message.helo,
                                     "--from",
                                     message.from,
                                     "--to",
                                     rcpts,
                                     "--timeout",
                                     std::to_string(message.timeout.count()) + "s"};
    std::optional<temp_dir> scratch;
    if (!message.raw_data.empty()) {
        scratch.emplace("swaks");
        write_file(scratch->path() / "data", message.raw_data);
        argv.insert(argv.end(), {"--data", (scratch->path() / "data").string()});
    } else {
        for (const auto& h : message.headers) argv.insert(argv.end(), {"--header", h});
        argv.insert(argv.end(), {"--body", message.body});
    }
    argv.insert(argv.end(), message.extra_args.begin(), message.extra_args.end());
    auto r = run_command(argv, message.timeout + 10s);
    return swaks_result{.exit_code = r.exit_code, .transcript = std::move(r.output)};
}

}  // namespace relaygate::harness
