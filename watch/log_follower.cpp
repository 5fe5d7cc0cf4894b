// log_follower.cpp: see log_follower.hpp. The offset only ever moves past
// complete lines, so a partial last line is read again (whole) after a restart.
#include "watch/log_follower.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>

#include "relaygate/log/log.hpp"
#include "watch/durable_file.hpp"

namespace relaygate::watch {
namespace {

bool read_position(const std::string& file, log_position& pos) {
    std::ifstream in(file);
    log_position p;
    if (!(in >> p.device >> p.inode >> p.offset)) return false;
    pos = p;
    return true;
}

}  // namespace

log_follower::log_follower(std::string path, std::string position_file, std::size_t max_line_bytes)
    : path_(std::move(path)), position_file_(std::move(position_file)), max_line_(max_line_bytes) {
    if (!position_file_.empty()) read_position(position_file_, pos_);
}

log_follower::~log_follower() {
    if (fd_ >= 0) ::close(fd_);
}

bool log_follower::save_position() const {
    if (position_file_.empty()) return true;
    // Durable (fsync of the file and its folder): a position that survives a
    // crash must not point past lines whose ledger rows were not committed.
    const std::string text =
        std::to_string(pos_.device) + " " + std::to_string(pos_.inode) + " " + std::to_string(pos_.offset) + "\n";
    return write_durable(position_file_, text).has_value();
}

// Opens path_; resumes at the saved offset when it is the same file and not
// shorter, else starts at 0 (a new file, or one truncated while we were away).
bool log_follower::open_current() {
    const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        ::close(fd);
        return false;
    }
    const bool same = pos_.device == st.st_dev && pos_.inode == st.st_ino;
    std::uint64_t offset = 0;
    if (same && pos_.offset <= static_cast<std::uint64_t>(st.st_size)) {
        offset = pos_.offset;
    } else if (same) {
        ++truncations_;
    }
    if (::lseek(fd, static_cast<off_t>(offset), SEEK_SET) < 0) {
        ::close(fd);
        return false;
    }
    fd_ = fd;
    pos_ = {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino), offset};
    partial_.clear();
    skipping_ = false;
    return true;
}

void log_follower::emit(std::string_view line, const line_handler& on_line) {
    if (skipping_) {
        skipping_ = false;  // the tail of an overlong line
        return;
    }
    on_line(line);
}

// Reads to EOF (or max_bytes). final: the file is done (rotated away), so a
// partial last line is handed over as a line too.
std::size_t log_follower::drain(const line_handler& on_line, std::size_t max_bytes, bool final) {
    std::size_t lines = 0, total = 0;
    char buf[65536];
    while (total < max_bytes) {
        const ssize_t n = ::read(fd_, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        total += static_cast<std::size_t>(n);
        std::string_view chunk(buf, static_cast<std::size_t>(n));
        while (!chunk.empty()) {
            const auto nl = chunk.find('\n');
            if (nl == std::string_view::npos) {
                if (!skipping_) partial_.append(chunk);
                if (partial_.size() > max_line_) {
                    partial_.clear();
                    skipping_ = true;
                    ++overlong_;
                }
                break;
            }
            const std::string_view piece = chunk.substr(0, nl);
            pos_.offset += partial_.size() + piece.size() + 1;
            if (skipping_) {
                skipping_ = false;
            } else if (partial_.empty()) {
                if (piece.size() > max_line_) {
                    ++overlong_;
                } else {
                    emit(piece, on_line);
                    ++lines;
                }
            } else {
                partial_.append(piece);
                if (partial_.size() > max_line_) {
                    ++overlong_;
                } else {
                    emit(partial_, on_line);
                    ++lines;
                }
                partial_.clear();
            }
            chunk.remove_prefix(nl + 1);
        }
    }
    if (final && !partial_.empty() && !skipping_) {
        pos_.offset += partial_.size();
        on_line(partial_);
        ++lines;
        partial_.clear();
    }
    return lines;
}

std::size_t log_follower::poll(const line_handler& on_line, std::size_t max_bytes) {
    if (fd_ < 0 && !open_current()) return 0;
    struct stat cur {};
    if (::fstat(fd_, &cur) == 0 && static_cast<std::uint64_t>(cur.st_size) < pos_.offset) {
        // copytruncate: the file shrank under us. Start again at its beginning.
        ++truncations_;
        log::notice("- log_truncated file=" + log::quote(path_) + " offset=" + std::to_string(pos_.offset));
        ::lseek(fd_, 0, SEEK_SET);
        pos_.offset = 0;
        partial_.clear();
        skipping_ = false;
    }
    std::size_t lines = drain(on_line, max_bytes, false);
    struct stat named {};
    const bool rotated =
        ::stat(path_.c_str(), &named) == 0 && (static_cast<std::uint64_t>(named.st_ino) != pos_.inode ||
                                               static_cast<std::uint64_t>(named.st_dev) != pos_.device);
    if (rotated) {
        // rename+create: finish the old file (writers may still append to it
        // until they reopen), then follow the new one from its start.
        lines += drain(on_line, SIZE_MAX, true);
        ::close(fd_);
        fd_ = -1;
        ++rotations_;
        log::notice("- log_rotated file=" + log::quote(path_));
        pos_ = {};
        if (open_current()) lines += drain(on_line, max_bytes, false);
    }
    return lines;
}

}  // namespace relaygate::watch
