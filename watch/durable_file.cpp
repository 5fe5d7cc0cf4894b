// durable_file.cpp: see durable_file.hpp.
#include "watch/durable_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace relaygate::watch {
namespace {

std::string errno_text(std::string_view what, const std::string& path) {
    return std::string(what) + " " + path + ": " + std::strerror(errno);
}

std::string folder_of(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

bool sync_folder(const std::string& path) {
    const int fd = ::open(folder_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return false;
    const bool ok = ::fsync(fd) == 0;
    ::close(fd);
    return ok;
}

}  // namespace

expected<bool, std::string> write_durable(const std::string& path, std::string_view text) {
    std::string tmp = path + ".tmp.XXXXXX";
    const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
    if (fd < 0) return unexpected(errno_text("cannot create", tmp));
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            auto err = errno_text("cannot write", tmp);
            ::close(fd);
            ::unlink(tmp.c_str());
            return unexpected(err);
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) {
        auto err = errno_text("cannot fsync", tmp);
        ::close(fd);
        ::unlink(tmp.c_str());
        return unexpected(err);
    }
    ::fchmod(fd, 0640);
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        auto err = errno_text("cannot rename onto", path);
        ::unlink(tmp.c_str());
        return unexpected(err);
    }
    if (!sync_folder(path)) return unexpected(errno_text("cannot fsync the folder of", path));
    return true;
}

expected<bool, std::string> remove_durable(const std::string& path) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return unexpected(errno_text("cannot remove", path));
    if (!sync_folder(path)) return unexpected(errno_text("cannot fsync the folder of", path));
    return true;
}

expected<std::optional<std::string>, std::string> read_small_file(const std::string& path, std::size_t max_bytes) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return std::optional<std::string>();
        return unexpected(errno_text("cannot open", path));
    }
    std::string text;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            auto err = errno_text("cannot read", path);
            ::close(fd);
            return unexpected(err);
        }
        if (n == 0) break;
        if (text.size() + static_cast<std::size_t>(n) > max_bytes) {
            ::close(fd);
            return unexpected(path + ": larger than " + std::to_string(max_bytes) + " bytes");
        }
        text.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return std::optional<std::string>(std::move(text));
}

}  // namespace relaygate::watch
