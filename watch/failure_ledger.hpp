// failure_ledger.hpp: the SQLite record of every bounced, expired or
// long-deferred delivery (docs/watch.md "Failure ledger"), so that what must
// be resent can be listed at once. A row is closed (delivered_at set) when the
// same recipient is later delivered under the same queue id or Message-ID.
// Written by the watch daemon, read by `relaygate-admin failures`.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "relaygate/registry/expected.hpp"
#include "relaygate/watch/delivery_tracker.hpp"

struct sqlite3;

namespace relaygate::watch {

struct failure_query {
    std::int64_t since = 0;          // rows with time >= since
    std::string family;              // empty = all
    bool include_delivered = false;  // also rows closed by a later delivery
    std::size_t limit = 100000;
};

struct ledger_row {
    failure_record record;
    std::optional<std::int64_t> delivered_at;
};

class failure_ledger {
public:
    static expected<std::unique_ptr<failure_ledger>, std::string> open(const std::string& path, bool read_only = false);
    ~failure_ledger();
    failure_ledger(const failure_ledger&) = delete;
    failure_ledger& operator=(const failure_ledger&) = delete;

    // Batches: begin(), any number of record/close, commit(). Outside a batch each call commits alone.
    bool begin();
    bool commit();
    // After a failed commit: undoes the batch and re-reads the open rows, so the
    // same record/close calls can be made again in the next batch.
    bool rollback();
    // Inserts once per (queue id, recipient, status).
    bool record(const failure_record& f);
    // A delivery of this recipient closes its open rows (by queue id or Message-ID).
    bool close(const failure_record& delivered);
    std::vector<ledger_row> list(const failure_query& q);
    std::size_t open_rows() const { return open_keys_.size(); }

private:
    explicit failure_ledger(sqlite3* db) : db_(db) {}
    bool exec(const char* sql);
    void load_open_keys();
    sqlite3* db_;
    void remember(const failure_record& f);
    // Keys of open rows, "q <queue id> <rcpt>" and "m <message id> <rcpt>", so
    // most deliveries cost no SQL at all.
    std::unordered_set<std::string> open_keys_;
};

// One row as `relaygate-admin failures` prints it: a JSON object (json) or
// "TIME QUEUE_ID STATUS RCPT key=value...".
std::string format_failure(const ledger_row& row, bool json);

// "--since": unix seconds, YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, or 30m/2h/7d before now.
expected<std::int64_t, std::string> parse_since(std::string_view text, std::int64_t now);

}  // namespace relaygate::watch
