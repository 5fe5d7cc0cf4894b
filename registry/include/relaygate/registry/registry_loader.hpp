// registry_loader.hpp: builds a complete domain_registry snapshot from the
// admin file, the state file and the operator config, and keeps a
// registry_handle current: reload on SIGHUP (the daemon calls request_reload())
// and when either file changes; a reload that fails validation (or finds the
// state file gone after it was loaded) keeps the old snapshot, logs why and counts it. Used by relaygate-milter,
// relaygate-policy, relaygate-admin.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "relaygate/registry/domain_registry.hpp"
#include "relaygate/registry/expected.hpp"
#include "relaygate/registry/registry_options.hpp"

namespace relaygate::registry {

// Loads and validates everything; the error names file, line and field.
expected<std::shared_ptr<const domain_registry>, std::string> load_snapshot(const registry_options& opts);

// Owns a background thread that polls the two files (mtime/size/inode, every
// poll interval) and reloads on change (once the change has held still for one
// interval, so a file being rewritten in place is not read half way) or at once
// on request_reload(). Build the initial snapshot before constructing it; a
// change between that load and the constructor is seen only at the next change.
class registry_reloader {
public:
    // Runs on each newly loaded snapshot before it is published (relaygate-milter
    // parses its signing keys here); an error fails the reload like a bad file.
    using prepare_hook = std::function<expected<bool, std::string>(const std::shared_ptr<const domain_registry>&)>;

    registry_reloader(registry_options opts, registry_handle& handle,
                      std::chrono::milliseconds poll = std::chrono::milliseconds(1000), prepare_hook prepare = {});
    ~registry_reloader();  // stops and joins the thread
    registry_reloader(const registry_reloader&) = delete;
    registry_reloader& operator=(const registry_reloader&) = delete;

    void request_reload();             // async-signal-safe: sets a flag the thread picks up
    bool reload_now();                 // synchronous; true when a new snapshot was published
    std::uint64_t generation() const;  // number of snapshots published so far
    // Reloads that failed (bad file, bad key, a state file that vanished after
    // it was loaded): each keeps the old snapshot and is logged at error with this count.
    std::uint64_t failed_reloads() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace relaygate::registry
