// rejection_log.cpp: O_APPEND JSON-lines file with reopen for logrotate (see rejection_log.hpp).
#include "relaygate/milter/rejection_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace relaygate::milter {
namespace {

expected<int, std::string> open_append(const std::string& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) return unexpected(path + ": " + std::strerror(errno));
    return fd;
}

}  // namespace

rejection_log::~rejection_log() {
    if (fd_ >= 0) ::close(fd_);
}

expected<bool, std::string> rejection_log::open(std::string path) {
    auto fd = open_append(path);
    if (!fd) return unexpected(fd.error());
    std::lock_guard lock(mutex_);
    if (fd_ >= 0) ::close(fd_);
    fd_ = *fd;
    path_ = std::move(path);
    return true;
}

expected<bool, std::string> rejection_log::reopen() {
    std::lock_guard lock(mutex_);
    if (path_.empty()) return true;
    auto fd = open_append(path_);
    if (!fd) return unexpected(fd.error());
    if (fd_ >= 0) ::close(fd_);
    fd_ = *fd;
    return true;
}

bool rejection_log::append(std::string_view line) {
    std::string buf(line);
    buf += '\n';
    std::lock_guard lock(mutex_);
    if (fd_ < 0) return path_.empty();
    ssize_t n = ::write(fd_, buf.data(), buf.size());
    return n == static_cast<ssize_t>(buf.size());
}

bool rejection_log::enabled() const {
    std::lock_guard lock(mutex_);
    return fd_ >= 0;
}

}  // namespace relaygate::milter
