// rejection_log.hpp: the machine-readable rejection log — an append-only file
// of one JSON object per line (format_rejection_json), each written with one
// write(2) on an O_APPEND descriptor so lines never interleave. reopen() is
// called on SIGHUP after logrotate moved the file. Thread-safe.
#pragma once

#include <mutex>
#include <string>
#include <string_view>

#include "relaygate/registry/expected.hpp"

namespace relaygate::milter {

class rejection_log {
public:
    rejection_log() = default;  // disabled: append() does nothing
    ~rejection_log();
    rejection_log(const rejection_log&) = delete;
    rejection_log& operator=(const rejection_log&) = delete;

    // Opens (creating, mode 0640) the file; the error names the path and errno text.
    expected<bool, std::string> open(std::string path);
    // Closes and opens the same path again; on failure the old descriptor stays.
    expected<bool, std::string> reopen();
    // Appends line + '\n'; false when the write failed (the caller logs it).
    bool append(std::string_view line);
    bool enabled() const;

private:
    mutable std::mutex mutex_;
    std::string path_;
    int fd_ = -1;
};

}  // namespace relaygate::milter
