// registry_loader.cpp: load_snapshot and registry_reloader (see registry_loader.hpp).
// The reloader thread sleeps in poll() on a self-pipe, so request_reload() from
// a signal handler is one write(); every poll interval it stat()s the admin and
// state files and reloads when either signature (dev, inode, size, mtime) moved
// and then held still for one interval.
#include "relaygate/registry/registry_loader.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mutex>
#include <stdexcept>

#include "relaygate/log/log.hpp"
#include "relaygate/registry/admin_file.hpp"
#include "relaygate/registry/domain_name.hpp"
#include "relaygate/registry/state_store.hpp"

namespace relaygate::registry {

expected<std::shared_ptr<const domain_registry>, std::string> load_snapshot(const registry_options& opts) {
    std::vector<std::string> own;
    own.reserve(opts.operator_domains.size());
    for (const auto& domain : opts.operator_domains) {
        auto normal = normalise_domain(domain);
        if (!normal) return unexpected("key 'operator-domain': '" + domain + "': " + normal.error());
        own.push_back(std::move(*normal));
    }
    admin_file_limits limits;
    limits.report_duplicates = false;  // the registry's own index finds them, without a second hash table
    auto admin = read_admin_file(opts.admin_file, limits);
    if (!admin.ok()) return unexpected(admin.summary());
    auto built = domain_registry::build(std::move(admin.entries), std::move(own));
    if (!built) {
        // The same message the admin-file parser gives: "file:line: domain: x is already defined at line n".
        const auto& dup = built.error();
        return unexpected(
            admin_file_error{*dup.second.source_file, dup.second.source_line, "domain",
                             dup.second.domain + " is already defined at line " + std::to_string(dup.first.source_line)}
                .to_string());
    }
    auto reg = std::move(*built);
    // States stream straight into the registry: no intermediate map of 1,000,000 strings.
    auto visited = visit_state_file(opts.state_file, [&reg](std::string_view domain, const verification_status& st) {
        reg->set_status(domain, st);  // states of domains no longer in the admin file are ignored
    });
    if (!visited) return unexpected(visited.error());
    return std::shared_ptr<const domain_registry>(std::move(reg));
}

namespace {

struct file_signature {
    bool exists = false;
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    std::int64_t mtime_ns = 0;
    bool operator==(const file_signature&) const = default;
};

file_signature signature_of(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return {};
    return {true, st.st_dev, st.st_ino, st.st_size,
            static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

}  // namespace

struct registry_reloader::impl {
    registry_options opts;
    registry_handle& handle;
    std::chrono::milliseconds poll;
    prepare_hook prepare;
    std::mutex reload_mutex;                // one reload at a time (thread and reload_now callers)
    file_signature admin_sig, state_sig;    // of the files as last loaded
    bool seen_change = false;               // a change was seen at the previous poll...
    file_signature seen_admin, seen_state;  // ...with these signatures
    std::atomic<std::uint64_t> generation{0};
    std::atomic<std::uint64_t> failures{0};  // failed reloads (each logged at error)
    bool state_present = false;              // the state file existed at the last successful load
    std::atomic<bool> requested{false};
    std::atomic<bool> stopping{false};
    int wake[2] = {-1, -1};
    std::thread thread;

    impl(registry_options o, registry_handle& h, std::chrono::milliseconds p, prepare_hook pre)
        : opts(std::move(o)), handle(h), poll(p), prepare(std::move(pre)) {
        admin_sig = signature_of(opts.admin_file);
        state_sig = signature_of(opts.state_file);
        state_present = state_sig.exists;
        if (::pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("registry_reloader: pipe2 failed");
    }
    ~impl() {
        for (int fd : wake) {
            if (fd >= 0) ::close(fd);
        }
    }

    bool reload(const char* trigger) {
        std::lock_guard lock(reload_mutex);
        // Signatures are taken before reading, so a change during the read triggers another reload.
        admin_sig = signature_of(opts.admin_file);
        state_sig = signature_of(opts.state_file);
        expected<std::shared_ptr<const domain_registry>, std::string> snapshot = unexpected(std::string());
        try {
            // A state file that vanished after it was loaded is a fault (deleted by
            // hand, a failed restore), not "every domain is new": reading it as
            // empty would turn every domain to pending (451 for all customers).
            if (state_present && !state_sig.exists) {
                snapshot = unexpected(opts.state_file +
                                      ": missing (it was there at the last load); keeping the "
                                      "verification states of the last good snapshot (restart to start afresh)");
            } else {
                snapshot = load_snapshot(opts);
            }
            if (snapshot && prepare) {
                if (auto ok = prepare(*snapshot); !ok) snapshot = unexpected(ok.error());
            }
        } catch (const std::exception& e) {  // e.g. bad_alloc: keep serving the old snapshot
            snapshot = unexpected(std::string("exception: ") + e.what());
        }
        if (!snapshot) {
            const auto failed = ++failures;
            log::error("- registry_reload_failed trigger=" + std::string(trigger) +
                       " kept=old_snapshot failed_reloads=" + std::to_string(failed) +
                       " error=" + log::quote(snapshot.error()));
            return false;
        }
        state_present = state_sig.exists;
        const auto domains = (*snapshot)->size();
        handle.publish(std::move(*snapshot));
        const auto gen = ++generation;
        log::notice("- registry_reloaded trigger=" + std::string(trigger) + " domains=" + std::to_string(domains) +
                    " generation=" + std::to_string(gen));
        return true;
    }

    // True once the files differ from the last load AND have stayed the same for
    // one poll interval: an editor rewriting the file in place is not caught half
    // way (a half-written file can parse fine and silently drop domains).
    bool files_changed_and_settled() {
        std::lock_guard lock(reload_mutex);
        const auto admin_now = signature_of(opts.admin_file);
        const auto state_now = signature_of(opts.state_file);
        if (admin_now == admin_sig && state_now == state_sig) {
            seen_change = false;
            return false;
        }
        const bool settled = seen_change && admin_now == seen_admin && state_now == seen_state;
        seen_change = true;
        seen_admin = admin_now;
        seen_state = state_now;
        return settled;
    }

    void run() {
        while (!stopping.load()) {
            pollfd pfd{wake[0], POLLIN, 0};
            ::poll(&pfd, 1, static_cast<int>(poll.count()));
            char drain[64];
            while (::read(wake[0], drain, sizeof drain) > 0) {
            }
            if (stopping.load()) return;
            if (requested.exchange(false)) {
                reload("request");
            } else if (files_changed_and_settled()) {
                reload("file_change");
            }
        }
    }

    void wake_up() {
        char byte = 1;
        [[maybe_unused]] auto n = ::write(wake[1], &byte, 1);  // a full pipe already means "wake up"
    }
};

registry_reloader::registry_reloader(registry_options opts, registry_handle& handle, std::chrono::milliseconds poll,
                                     prepare_hook prepare)
    : impl_(std::make_unique<impl>(std::move(opts), handle, poll, std::move(prepare))) {
    impl_->thread = std::thread([this] { impl_->run(); });
}

registry_reloader::~registry_reloader() {
    impl_->stopping.store(true);
    impl_->wake_up();
    if (impl_->thread.joinable()) impl_->thread.join();
}

void registry_reloader::request_reload() {
    impl_->requested.store(true);
    impl_->wake_up();
}

bool registry_reloader::reload_now() { return impl_->reload("request"); }

std::uint64_t registry_reloader::generation() const { return impl_->generation.load(); }

std::uint64_t registry_reloader::failed_reloads() const { return impl_->failures.load(); }

}  // namespace relaygate::registry
