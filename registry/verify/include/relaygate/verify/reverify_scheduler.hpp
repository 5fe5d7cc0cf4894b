// reverify_scheduler.hpp: re-verification on an interval. Every tick it takes
// the domains that are due (never checked, or checked reverify_interval ago),
// verifies them with domain_verifier::verify_all (queries in flight together),
// applies verification_policy and writes the state file atomically under its
// lock; the registry_reloader then publishes the new states. Run by a daemon
// (one per host is enough) or by relaygate-admin; record_reports is shared
// with `relaygate-admin verify`.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "relaygate/registry/domain_registry.hpp"
#include "relaygate/registry/expected.hpp"
#include "relaygate/registry/registry_options.hpp"
#include "relaygate/verify/domain_verifier.hpp"
#include "relaygate/verify/verification_policy.hpp"

namespace relaygate::registry {

// What the policy needs from a report: a temporary DNS failure is told apart from a definitive one.
check_summary summarise(const domain_report& report);

struct recorded_report {
    std::string domain;
    verification_status previous;
    policy_result result;
};

// Applies each report through apply_check to the state file (locked
// read-modify-write, atomic replace) and logs each transition's line.
expected<std::vector<recorded_report>, std::string> record_reports(const std::string& state_file,
                                                                   const std::vector<domain_report>& reports,
                                                                   std::int64_t now, std::chrono::seconds grace_period);

std::int64_t system_clock_seconds();

class reverify_scheduler {
public:
    using clock = std::function<std::int64_t()>;

    struct pass_summary {
        std::size_t due = 0;  // domains verified in this pass
        std::size_t verified = 0, failed = 0, pending = 0, temporary = 0, demoted = 0;
        std::size_t still_due = 0;  // due domains left for the next pass (over max_domains)
        std::string error;          // state file could not be written ("" = ok)
    };

    // Called on the pass's thread after each pass that verified something (error set and
    // recorded empty when the state file could not be written).
    using observer = std::function<void(const pass_summary&, const std::vector<recorded_report>&)>;

    reverify_scheduler(registry_options opts, registry_handle& handle, domain_verifier& verifier,
                       clock now = system_clock_seconds, observer on_pass = {});
    ~reverify_scheduler();  // stops the thread if started
    reverify_scheduler(const reverify_scheduler&) = delete;
    reverify_scheduler& operator=(const reverify_scheduler&) = delete;

    // Verifies up to max_domains due domains, oldest check first, and records them.
    pass_summary run_once(std::size_t max_domains = 10000);
    // Runs run_once(pass_size) every tick on a background thread until stop(). A pass that
    // leaves domains due is followed at once by the next: a backlog (a million domains, a
    // fresh admin file) drains at the verifier's speed, in passes of bounded memory, not at
    // pass_size per tick.
    void start(std::chrono::seconds tick = std::chrono::seconds(60), std::size_t pass_size = 10000);
    void stop();

private:
    // (last_checked, position) of every due domain of snapshot, unsorted; prunes recorded_.
    std::vector<std::pair<std::int64_t, std::size_t>> due_domains(const domain_registry& snapshot, std::int64_t now);

    registry_options opts_;
    registry_handle& handle_;
    domain_verifier& verifier_;
    clock now_;
    observer on_pass_;
    // Checks this scheduler recorded that the snapshot may not show yet (the
    // reloader publishes them a moment later); pruned once the snapshot has them.
    std::unordered_map<std::string, std::int64_t> recorded_;
    std::mutex run_mutex_;  // one pass at a time (the thread, or a caller of run_once)
    std::mutex mutex_;      // stopping_ and the thread
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace relaygate::registry
