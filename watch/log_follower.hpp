// log_follower.hpp: follows a growing log file (Postfix maillog_file or a
// syslog file) and hands over complete lines. Its position (device, inode,
// offset of the end of the last complete line handed over) is persisted by
// save_position() so a restart resumes exactly there. Rotation by rename+create
// (the old file is read to its end first) and by copytruncate (size below the
// offset: restart at 0) are handled. Lines over max_line_bytes are dropped and
// counted. Thin I/O shell, single-threaded; called by the watch daemon loop.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace relaygate::watch {

struct log_position {
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    std::uint64_t offset = 0;
};

class log_follower {
public:
    using line_handler = std::function<void(std::string_view line)>;

    // position_file may be empty (no persistence).
    log_follower(std::string path, std::string position_file, std::size_t max_line_bytes = 8192);
    ~log_follower();
    log_follower(const log_follower&) = delete;
    log_follower& operator=(const log_follower&) = delete;

    // Reads what is new (at most max_bytes) and calls on_line for each complete
    // line. Returns the number of lines handed over. Never throws on I/O
    // errors: a missing file is retried at the next poll.
    std::size_t poll(const line_handler& on_line, std::size_t max_bytes = 8 << 20);
    // Writes the position atomically and durably (temp + fsync + rename + folder fsync); false on failure.
    bool save_position() const;

    log_position position() const { return pos_; }
    std::uint64_t overlong_lines() const { return overlong_; }
    std::uint64_t rotations() const { return rotations_; }
    std::uint64_t truncations() const { return truncations_; }

private:
    bool open_current();
    std::size_t drain(const line_handler& on_line, std::size_t max_bytes, bool final);
    void emit(std::string_view line, const line_handler& on_line);

    std::string path_;
    std::string position_file_;
    std::size_t max_line_;
    int fd_ = -1;
    log_position pos_;
    std::string partial_;    // bytes after the last newline (not yet a line)
    bool skipping_ = false;  // inside an overlong line: drop until its newline
    std::uint64_t overlong_ = 0;
    std::uint64_t rotations_ = 0;
    std::uint64_t truncations_ = 0;
};

}  // namespace relaygate::watch
