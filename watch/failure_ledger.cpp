// failure_ledger.cpp: SQLite storage of failure_ledger.hpp (WAL mode, one
// table, prepared statements per call; batches keep the log loop fast).
#include "watch/failure_ledger.hpp"

#include <sqlite3.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "relaygate/log/log.hpp"

namespace relaygate::watch {
namespace {

constexpr const char* schema = R"sql(
CREATE TABLE IF NOT EXISTS failures (
  id INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,          -- unix seconds of the log line
  queue_id TEXT NOT NULL,
  message_id TEXT NOT NULL,       -- from cleanup's message-id= line; '' when not seen
  sender TEXT NOT NULL,           -- envelope sender (qmgr from=)
  from_domain TEXT NOT NULL,      -- first From domain (relaygate-milter's line); '' when not seen
  recipient TEXT NOT NULL,
  family TEXT NOT NULL,
  transport TEXT NOT NULL,
  status TEXT NOT NULL,           -- bounced, expired, deferred (long), undeliverable
  dsn TEXT NOT NULL,
  reply TEXT NOT NULL,
  class TEXT NOT NULL,
  delivered_at INTEGER,           -- set when the recipient was later delivered
  UNIQUE (queue_id, recipient, status));
CREATE INDEX IF NOT EXISTS failures_time ON failures (time);
)sql";

class statement {
public:
    statement(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &st_, nullptr); }
    ~statement() { sqlite3_finalize(st_); }
    statement(const statement&) = delete;
    statement& operator=(const statement&) = delete;
    explicit operator bool() const { return st_ != nullptr; }
    void text(int i, const std::string& v) {
        sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
    void integer(int i, std::int64_t v) { sqlite3_bind_int64(st_, i, v); }
    int step() { return sqlite3_step(st_); }
    std::string column_text(int i) {
        const auto* p = sqlite3_column_text(st_, i);
        return p ? std::string(reinterpret_cast<const char*>(p)) : std::string();
    }
    std::int64_t column_int(int i) { return sqlite3_column_int64(st_, i); }
    bool column_null(int i) { return sqlite3_column_type(st_, i) == SQLITE_NULL; }

private:
    sqlite3_stmt* st_ = nullptr;
};

std::string key(char kind, const std::string& id, const std::string& rcpt) {
    return std::string(1, kind) + ' ' + id + ' ' + rcpt;
}

}  // namespace

expected<std::unique_ptr<failure_ledger>, std::string> failure_ledger::open(const std::string& path, bool read_only) {
    sqlite3* db = nullptr;
    const int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
        std::string err = db ? sqlite3_errmsg(db) : "out of memory";
        sqlite3_close(db);
        return unexpected{"cannot open ledger " + path + ": " + err};
    }
    sqlite3_busy_timeout(db, 2000);
    std::unique_ptr<failure_ledger> l(new failure_ledger(db));
    if (!read_only) {
        if (!l->exec("PRAGMA journal_mode=WAL") || !l->exec("PRAGMA synchronous=NORMAL") || !l->exec(schema)) {
            return unexpected{"cannot initialise ledger " + path + ": " + sqlite3_errmsg(db)};
        }
        l->load_open_keys();
    }
    return l;
}

failure_ledger::~failure_ledger() { sqlite3_close(db_); }

bool failure_ledger::exec(const char* sql) { return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK; }
bool failure_ledger::begin() { return exec("BEGIN"); }
bool failure_ledger::commit() { return exec("COMMIT"); }

bool failure_ledger::rollback() {
    // A failed COMMIT may already have rolled back; ROLLBACK then fails harmlessly.
    if (sqlite3_get_autocommit(db_) == 0) exec("ROLLBACK");
    load_open_keys();  // record()/close() of the lost batch changed them
    return true;
}

void failure_ledger::load_open_keys() {
    open_keys_.clear();
    statement st(db_, "SELECT queue_id, message_id, recipient FROM failures WHERE delivered_at IS NULL");
    while (st && st.step() == SQLITE_ROW) {
        failure_record f;
        f.queue_id = st.column_text(0);
        f.message_id = st.column_text(1);
        f.recipient = st.column_text(2);
        remember(f);
    }
}

void failure_ledger::remember(const failure_record& f) {
    open_keys_.insert(key('q', f.queue_id, f.recipient));
    if (!f.message_id.empty()) open_keys_.insert(key('m', f.message_id, f.recipient));
}

bool failure_ledger::record(const failure_record& f) {
    statement st(db_,
                 "INSERT OR IGNORE INTO failures (time, queue_id, message_id, sender, from_domain, recipient, family, "
                 "transport, status, dsn, reply, class) VALUES (?1, ?2, ?3, ?4, ?12, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    if (!st) return false;
    st.integer(1, f.time);
    st.text(2, f.queue_id);
    st.text(3, f.message_id);
    st.text(4, f.sender);
    st.text(5, f.recipient);
    st.text(6, f.family);
    st.text(7, f.transport);
    st.text(8, f.status);
    st.text(9, f.dsn);
    st.text(10, f.reply);
    st.text(11, f.cls);
    st.text(12, f.from_domain);
    if (st.step() != SQLITE_DONE) return false;
    remember(f);
    return true;
}

bool failure_ledger::close(const failure_record& d) {
    const bool by_queue = open_keys_.erase(key('q', d.queue_id, d.recipient)) > 0;
    const bool by_mid = !d.message_id.empty() && open_keys_.erase(key('m', d.message_id, d.recipient)) > 0;
    if (!by_queue && !by_mid) return true;
    statement st(db_,
                 "UPDATE failures SET delivered_at = ?1 WHERE delivered_at IS NULL AND recipient = ?2 AND "
                 "(queue_id = ?3 OR (?4 <> '' AND message_id = ?4))");
    if (!st) return false;
    st.integer(1, d.time);
    st.text(2, d.recipient);
    st.text(3, d.queue_id);
    st.text(4, d.message_id);
    return st.step() == SQLITE_DONE;
}

std::vector<ledger_row> failure_ledger::list(const failure_query& q) {
    std::vector<ledger_row> rows;
    statement st(
        db_,
        "SELECT time, queue_id, message_id, sender, recipient, family, transport, status, dsn, reply, class, "
        "delivered_at, from_domain FROM failures WHERE time >= ?1 AND (?2 = '' OR family = ?2) AND (?3 OR delivered_at "
        "IS NULL) ORDER BY time, id LIMIT ?4");
    if (!st) return rows;
    st.integer(1, q.since);
    st.text(2, q.family);
    st.integer(3, q.include_delivered ? 1 : 0);
    st.integer(4, static_cast<std::int64_t>(q.limit));
    while (st.step() == SQLITE_ROW) {
        ledger_row r;
        r.record = {.time = st.column_int(0),
                    .queue_id = st.column_text(1),
                    .message_id = st.column_text(2),
                    .sender = st.column_text(3),
                    .recipient = st.column_text(4),
                    .family = st.column_text(5),
                    .transport = st.column_text(6),
                    .status = st.column_text(7),
                    .dsn = st.column_text(8),
                    .reply = st.column_text(9),
                    .cls = st.column_text(10)};
        if (!st.column_null(11)) r.delivered_at = st.column_int(11);
        r.record.from_domain = st.column_text(12);
        rows.push_back(std::move(r));
    }
    return rows;
}

std::string format_failure(const ledger_row& row, bool json) {
    const auto& f = row.record;
    if (json) {
        nlohmann::json j{{"time", f.time},
                         {"queue_id", f.queue_id},
                         {"message_id", f.message_id},
                         {"sender", f.sender},
                         {"from_domain", f.from_domain},
                         {"recipient", f.recipient},
                         {"family", f.family},
                         {"transport", f.transport},
                         {"status", f.status},
                         {"dsn", f.dsn},
                         {"class", f.cls},
                         {"reply", f.reply}};
        j["delivered_at"] = row.delivered_at ? nlohmann::json(*row.delivered_at) : nlohmann::json(nullptr);
        return j.dump();
    }
    return std::to_string(f.time) + " " + f.queue_id + " " + f.status + " " + f.recipient + " family=" + f.family +
           " transport=" + f.transport + " message_id=" + log::quote(f.message_id) + " sender=" + log::quote(f.sender) +
           " from_domain=" + log::quote(f.from_domain) + " dsn=" + f.dsn + " class=" + f.cls +
           (row.delivered_at ? " delivered_at=" + std::to_string(*row.delivered_at) : "");
}

expected<std::int64_t, std::string> parse_since(std::string_view text, std::int64_t now) {
    auto number = [](std::string_view s, std::int64_t& v) {
        const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
        return r.ec == std::errc{} && r.ptr == s.data() + s.size() && v >= 0;
    };
    std::int64_t v = 0;
    if (text.empty()) return unexpected{std::string("--since: empty")};
    if (number(text, v)) return v;
    const char unit = text.back();
    if ((unit == 'm' || unit == 'h' || unit == 'd') && number(text.substr(0, text.size() - 1), v) && v < 100000000) {
        return now - v * (unit == 'm' ? 60 : unit == 'h' ? 3600 : 86400);
    }
    // YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ through the maillog parser's RFC 3339 reader.
    std::string stamp(text);
    if (stamp.size() == 10) stamp += "T00:00:00Z";
    const auto r = parse_maillog_line(stamp + " h x/y[1]: z", now);
    if (r.has_value()) return r->time;
    return unexpected{"--since: '" + std::string(text) +
                      "' is not unix seconds, YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or N[mhd]"};
}

}  // namespace relaygate::watch
