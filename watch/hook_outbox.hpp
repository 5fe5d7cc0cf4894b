// hook_outbox.hpp: the alert hook's at-least-once outbox (docs/watch.md
// "Crash consistency"). Each payload is written durably as one file
// "<seq>.json" in STATE_DIR/hook-outbox before it is queued for the hook and
// removed once the hook exited 0; a restart queues what is left, oldest first.
// At most max_files files (further payloads are only queued in memory, which
// the daemon logs and counts). Thin I/O shell; the daemon's loop and its hook
// worker call it (thread-safe).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "relaygate/registry/expected.hpp"

namespace relaygate::watch {

class hook_outbox {
public:
    static constexpr std::size_t max_files = 1000;
    static constexpr std::size_t max_payload_bytes = 64 * 1024;

    explicit hook_outbox(std::string dir);
    // Persists payload; returns its file name (for remove()).
    expected<std::string, std::string> add(std::string_view payload);
    expected<bool, std::string> remove(const std::string& name);
    // Payloads left by an earlier run, oldest first: {name, payload}. Unreadable
    // or oversized files are skipped (and named in errors).
    std::vector<std::pair<std::string, std::string>> pending(std::vector<std::string>& errors);

private:
    std::vector<std::string> names();
    std::string dir_;
    std::mutex mu_;
    std::uint64_t next_ = 0;  // sequence of the next file; 0: not yet scanned
};

}  // namespace relaygate::watch
