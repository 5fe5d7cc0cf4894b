// reverify_scheduler.cpp: due-domain selection, report recording and the
// periodic thread (see reverify_scheduler.hpp). The verification itself is
// domain_verifier's; the state decisions are verification_policy's.
#include "relaygate/verify/reverify_scheduler.hpp"

#include <algorithm>
#include <unordered_map>

#include "relaygate/log/log.hpp"
#include "relaygate/registry/state_store.hpp"

namespace relaygate::registry {

check_summary summarise(const domain_report& report) {
    check_summary s;
    s.verified = report.verified();
    if (s.verified) return s;
    s.temporary_failure = report.dkim.outcome == dkim_outcome::temporary ||
                          std::any_of(report.spf.begin(), report.spf.end(),
                                      [](const spf_ip_result& r) { return r.outcome == spf_outcome::temperror; });
    s.definitive_failure = !report.temporary();  // something failed that a retry will not change
    s.reason_code = report.reason_code();
    s.reason_text = report.reason_text();
    return s;
}

namespace {

// Carries a rotating domain's selectors into its next status: each one's outcome, the
// signing selector and since when it signs; logs the switch to a newer key. Without
// rotation (one selector) the fields stay empty, so the state file stays small.
void record_rotation(const domain_report& report, const verification_status& previous, std::int64_t now,
                     policy_result& result) {
    auto& next = result.next;
    next.selectors.clear();
    if (report.selectors.size() < 2) {
        next.signing_selector.clear();
        next.signing_since = 0;
        return;
    }
    for (const auto& s : report.selectors)
        next.selectors.push_back({s.selector, std::string(to_string(s.dkim.outcome))});
    const std::string& before =
        previous.signing_selector.empty() ? report.selectors.front().selector : previous.signing_selector;
    next.signing_selector = report.signing_selector;
    if (report.signing_selector == before) {
        next.signing_since = previous.signing_since;
        return;
    }
    next.signing_since = now;
    log::notice("- registry_dkim_selector_switched domain=" + log::quote(report.domain) +
                " from=" + log::quote(before) + " to=" + log::quote(report.signing_selector));
}

}  // namespace

std::int64_t system_clock_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

expected<std::vector<recorded_report>, std::string> record_reports(const std::string& state_file,
                                                                   const std::vector<domain_report>& reports,
                                                                   std::int64_t now,
                                                                   std::chrono::seconds grace_period) {
    std::vector<recorded_report> recorded;
    auto written = update_state_file(state_file, [&](state_map& states) {
        recorded.clear();  // the lambda runs once; clear keeps it correct if that ever changes
        for (const auto& report : reports) {
            auto& status = states[report.domain];
            auto result = apply_check(report.domain, status, summarise(report), now, grace_period);
            record_rotation(report, status, now, result);
            recorded.push_back({report.domain, status, result});
            status = result.next;
        }
    });
    if (!written) return unexpected(written.error());
    for (const auto& r : recorded) log::write(r.result.level, r.result.log_line);
    return recorded;
}

reverify_scheduler::reverify_scheduler(registry_options opts, registry_handle& handle, domain_verifier& verifier,
                                       clock now, observer on_pass)
    : opts_(std::move(opts)),
      handle_(handle),
      verifier_(verifier),
      now_(std::move(now)),
      on_pass_(std::move(on_pass)) {}

reverify_scheduler::~reverify_scheduler() { stop(); }

std::vector<std::pair<std::int64_t, std::size_t>> reverify_scheduler::due_domains(const domain_registry& snapshot,
                                                                                  std::int64_t now) {
    const std::int64_t interval = opts_.reverify_interval.count();
    std::vector<std::pair<std::int64_t, std::size_t>> due;
    const auto& entries = snapshot.entries();
    for (std::size_t i = 0; i < entries.size(); ++i) {
        auto last = snapshot.status_of(entries[i].domain).last_checked;
        if (!recorded_.empty()) {
            auto it = recorded_.find(entries[i].domain);
            if (it != recorded_.end()) {
                if (it->second <= last) {
                    recorded_.erase(it);  // the snapshot has caught up
                } else {
                    last = it->second;
                }
            }
        }
        if (last == 0 || now - last >= interval) due.emplace_back(last, i);
    }
    return due;
}

namespace {

// Adds one recorded report's outcome to the pass's counts.
void count(reverify_scheduler::pass_summary& summary, const recorded_report& r) {
    switch (r.result.next.state) {
        case verification_state::verified:
            ++summary.verified;
            break;
        case verification_state::failed:
            ++summary.failed;
            break;
        case verification_state::pending:
            ++summary.pending;
            break;
    }
    if (r.result.next.temporary_failure) ++summary.temporary;
    if (r.result.change == transition::demoted) ++summary.demoted;
}

}  // namespace

reverify_scheduler::pass_summary reverify_scheduler::run_once(std::size_t max_domains) {
    std::lock_guard run_lock(run_mutex_);
    pass_summary summary;
    auto snapshot = handle_.current();  // one snapshot for the whole pass
    // (last_checked, position) of every due domain; oldest first, never-checked (0) before all.
    auto due = due_domains(*snapshot, now_());
    const std::size_t take = std::min(due.size(), max_domains);
    std::partial_sort(due.begin(), due.begin() + static_cast<std::ptrdiff_t>(take), due.end());
    std::vector<domain_entry> batch;
    batch.reserve(take);
    for (std::size_t k = 0; k < take; ++k) batch.push_back(snapshot->entries()[due[k].second]);
    summary.due = batch.size();
    summary.still_due = due.size() - take;
    if (batch.empty()) return summary;

    auto reports = verifier_.verify_all(
        batch, 64, [&snapshot](const domain_entry& e) { return snapshot->status_of(e.domain).signing_selector; });
    auto recorded = record_reports(opts_.state_file, reports, now_(), opts_.grace_period);
    if (!recorded) {
        summary.error = recorded.error();
        log::error("- registry_reverify_failed error=" + log::quote(summary.error));
        if (on_pass_) on_pass_(summary, {});
        return summary;
    }
    for (const auto& r : *recorded) {
        recorded_[r.domain] = r.result.next.last_checked;
        count(summary, r);
    }
    log::info("- registry_reverified domains=" + std::to_string(summary.due) +
              " verified=" + std::to_string(summary.verified) + " failed=" + std::to_string(summary.failed) +
              " pending=" + std::to_string(summary.pending) + " temporary=" + std::to_string(summary.temporary) +
              " demoted=" + std::to_string(summary.demoted) + " still_due=" + std::to_string(due.size() - take));
    if (on_pass_) on_pass_(summary, *recorded);
    return summary;
}

void reverify_scheduler::start(std::chrono::seconds tick, std::size_t pass_size) {
    std::lock_guard lock(mutex_);
    if (thread_.joinable()) return;
    stopping_ = false;
    thread_ = std::thread([this, tick, pass_size] {
        std::unique_lock lock(mutex_);
        while (!stopping_) {
            lock.unlock();
            bool backlog = false;
            try {
                auto pass = run_once(pass_size);
                backlog = pass.still_due > 0 && pass.error.empty();  // a failing write waits for the tick
            } catch (const std::exception& e) {                      // a pass that throws must not end re-verification
                log::error("- registry_reverify_failed error=" + log::quote(e.what()));
            }
            lock.lock();
            if (!backlog) wake_.wait_for(lock, tick, [this] { return stopping_; });
        }
    });
}

void reverify_scheduler::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

}  // namespace relaygate::registry
