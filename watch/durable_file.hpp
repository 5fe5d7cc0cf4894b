// durable_file.hpp: the watch's crash-safe small files (the log position, the
// flip intent, the hook outbox): written to a temporary file in the same
// folder, fsync'd, renamed over the target, then the folder fsync'd, so after
// a crash the file holds either the old or the new text, never a mix, and a
// completed write is on disk. Thin I/O shell; used by log_follower,
// flip_journal and hook_outbox.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "relaygate/registry/expected.hpp"

namespace relaygate::watch {

// Writes text to path atomically and durably; the error names the file and errno.
expected<bool, std::string> write_durable(const std::string& path, std::string_view text);
// Removes path and syncs its folder; a missing file is success.
expected<bool, std::string> remove_durable(const std::string& path);
// The whole file when it exists and is at most max_bytes; nullopt when it does
// not exist; an error when it cannot be read or is larger.
expected<std::optional<std::string>, std::string> read_small_file(const std::string& path, std::size_t max_bytes);

}  // namespace relaygate::watch
