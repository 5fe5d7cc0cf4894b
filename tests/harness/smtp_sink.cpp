// smtp_sink.cpp: starts smtp-sink with -d dumps and reads the dumps back.
// A dump is complete once smtp-sink has closed it (checked via /proc/<pid>/fd).
#include "relaygate/harness/smtp_sink.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>
#include <stdexcept>

#include "relaygate/harness/free_port.hpp"
#include "relaygate/harness/wait.hpp"

namespace relaygate::harness {
namespace {

constexpr std::size_t max_dump_bytes = 16 * 1024 * 1024;

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::string trim(std::string_view s) {
    auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return {};
    auto e = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(b, e - b + 1));
}

// "<a@b> ORCPT=..." -> "a@b"; "a@b" -> "a@b".
std::string angle_address(std::string_view args) {
    auto open = args.find('<');
    auto close = args.find('>', open == std::string_view::npos ? 0 : open);
    if (open != std::string_view::npos && close != std::string_view::npos) {
        return std::string(args.substr(open + 1, close - open - 1));
    }
    return trim(args.substr(0, args.find(' ')));
}

std::string join(const std::vector<std::string>& items, const char* sep) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
    return out;
}

std::set<std::string> open_files(pid_t pid) {
    std::set<std::string> out;
    std::error_code ec;
    for (const auto& fd : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
        std::error_code ec2;
        auto target = std::filesystem::read_symlink(fd.path(), ec2);
        if (!ec2) out.insert(target.string());
    }
    return out;
}

}  // namespace

std::optional<std::string> sink_message::header(std::string_view name) const {
    for (const auto& [n, v] : headers)
        if (iequals(n, name)) return v;
    return std::nullopt;
}

std::vector<std::string> sink_message::headers_named(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& [n, v] : headers)
        if (iequals(n, name)) out.push_back(v);
    return out;
}

std::optional<sink_message> parse_sink_dump(std::string_view text) {
    if (text.size() > max_dump_bytes) return std::nullopt;
    auto sep = text.find("\n\n");
    if (sep == std::string_view::npos) return std::nullopt;
    sink_message m;
    std::string_view head = text.substr(0, sep + 1);
    std::string_view body = text.substr(sep + 2);
    std::size_t pos = 0;
    while (pos < head.size()) {
        auto eol = head.find('\n', pos);
        std::string_view line = head.substr(pos, eol - pos);
        pos = eol + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
            if (m.headers.empty()) return std::nullopt;  // continuation before any header
            m.headers.back().second += " " + trim(line);
            continue;
        }
        auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) return std::nullopt;
        m.headers.emplace_back(std::string(line.substr(0, colon)), trim(line.substr(colon + 1)));
    }
    if (m.headers.empty() || !iequals(m.headers.front().first, "X-Client-Addr")) return std::nullopt;
    m.client_addr = m.headers.front().second;
    m.helo = m.header("X-Helo-Args").value_or("");
    m.mail_from = angle_address(m.header("X-Mail-Args").value_or(""));
    for (const auto& r : m.headers_named("X-Rcpt-Args")) m.rcpts.push_back(angle_address(r));
    // smtp-sink appends one empty line after the data it received.
    if (body.size() >= 1 && body.back() == '\n') body.remove_suffix(1);
    m.body = std::string(body);
    return m;
}

std::vector<sink_message> read_sink_dir(const std::filesystem::path& dir, pid_t sink_pid) {
    std::set<std::string> held = sink_pid > 0 ? open_files(sink_pid) : std::set<std::string>{};
    std::vector<std::pair<std::filesystem::file_time_type, std::filesystem::path>> files;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        if (!e.is_regular_file()) continue;
        auto name = e.path().filename().string();
        if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;  // skip our own files
        if (held.count(e.path().string()) != 0) continue;
        files.emplace_back(e.last_write_time(), e.path());
    }
    std::sort(files.begin(), files.end());
    std::vector<sink_message> out;
    for (const auto& [when, path] : files) {
        auto m = parse_sink_dump(read_file(path));
        if (!m) continue;
        m->file = path;
        out.push_back(std::move(*m));
    }
    return out;
}

smtp_sink::smtp_sink(sink_options options) : options_(std::move(options)) {
    if (options_.port == 0) options_.port = free_port();
    if (options_.dir.empty()) {
        own_dir_.emplace("sink");
        dir_ = own_dir_->path();
    } else {
        dir_ = options_.dir;
        std::filesystem::create_directories(dir_);
    }
    ::chmod(dir_.c_str(), 0777);  // smtp-sink writes its dumps after dropping to nobody
    std::vector<std::string> argv = {"smtp-sink"};
    if (::geteuid() == 0) argv.insert(argv.end(), {"-u", "nobody"});
    argv.insert(argv.end(), {"-h", options_.hostname, "-d", (dir_ / "%H%M%S.").string()});
    if (!options_.hard_reject.empty()) argv.insert(argv.end(), {"-f", join(options_.hard_reject, ",")});
    if (!options_.soft_reject.empty()) argv.insert(argv.end(), {"-r", join(options_.soft_reject, ",")});
    if (!options_.hard_reply.empty()) argv.insert(argv.end(), {"-B", options_.hard_reply});
    if (!options_.soft_reply.empty()) argv.insert(argv.end(), {"-b", options_.soft_reply});
    argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
    argv.push_back(options_.address + ":" + std::to_string(options_.port));
    argv.push_back("100");
    const auto log = dir_ / "smtp-sink.log";
    process_ = child_process(process_spec{.argv = argv, .stdout_path = log, .stderr_path = log});
    bool up = wait_until([&] { return !process_.running() || tcp_connects(options_.address, options_.port); }, 10s);
    if (!up || !process_.running()) {
        process_.stop();
        throw std::runtime_error("smtp-sink on " + nexthop() + " did not start: " + read_file(log));
    }
}

smtp_sink::~smtp_sink() { stop(); }

std::string smtp_sink::nexthop() const { return "[" + options_.address + "]:" + std::to_string(options_.port); }

std::vector<sink_message> smtp_sink::messages() const { return read_sink_dir(dir_, process_.pid()); }

testing::AssertionResult smtp_sink::wait_for_messages(std::size_t count, std::chrono::milliseconds timeout) const {
    std::size_t seen = 0;
    if (wait_until([&] { return (seen = messages().size()) >= count; }, timeout)) {
        return testing::AssertionSuccess();
    }
    return testing::AssertionFailure() << "smtp-sink " << nexthop() << " received " << seen << " of " << count
                                       << " messages within " << timeout.count() << " ms";
}

void smtp_sink::stop() { process_.stop(); }

pid_t smtp_sink::release() { return process_.release(); }

}  // namespace relaygate::harness
