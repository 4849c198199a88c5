#include "store/schema.h"

#include <iterator>
#include <span>
#include <string>

namespace atende::store {

namespace {

// Index i brings the schema from version i to i + 1. Append only; never edit a shipped
// one's SQL. The summary is what `atende db migrate --dry-run` prints.
constexpr Migration kMigrations[] = {
    // 0 -> 1: calls and their events. Times are unix milliseconds (UTC).
    {"calls and call_events", R"sql(
CREATE TABLE calls (
  id          TEXT PRIMARY KEY,
  direction   TEXT NOT NULL,
  from_uri    TEXT NOT NULL,
  to_uri      TEXT NOT NULL,
  leg_kind    TEXT NOT NULL,
  flow        TEXT NOT NULL,
  started_at  INTEGER NOT NULL,
  answered_at INTEGER,
  ended_at    INTEGER,
  end_reason  TEXT,
  sip_status  INTEGER,
  digits      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX calls_started_at ON calls(started_at);
CREATE TABLE call_events (
  id      INTEGER PRIMARY KEY AUTOINCREMENT,
  call_id TEXT NOT NULL,
  at      INTEGER NOT NULL,
  kind    TEXT NOT NULL,
  detail  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX call_events_call ON call_events(call_id, at, id);
)sql"},
    // 1 -> 2: agent conversation turns. Stage times are ms since the agent started (NULL:
    // the stage did not happen in that turn).
    {"call_turns: agent conversation turns", R"sql(
CREATE TABLE call_turns (
  call_id     TEXT NOT NULL,
  idx         INTEGER NOT NULL,
  user_text   TEXT NOT NULL DEFAULT '',
  agent_text  TEXT NOT NULL DEFAULT '',
  interrupted INTEGER NOT NULL DEFAULT 0,
  error       TEXT NOT NULL DEFAULT '',
  speech_end_ms  INTEGER,
  stt_final_ms   INTEGER,
  first_token_ms INTEGER,
  first_audio_ms INTEGER,
  first_play_ms  INTEGER,
  PRIMARY KEY (call_id, idx)
);
)sql"},
    // 2 -> 3: the REST API's audit log (every write request and its outcome).
    {"audit: the REST API's audit log", R"sql(
CREATE TABLE audit (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  at         INTEGER NOT NULL,
  token_name TEXT NOT NULL DEFAULT '',
  source     TEXT NOT NULL DEFAULT '',
  method     TEXT NOT NULL,
  path       TEXT NOT NULL,
  status     INTEGER NOT NULL,
  detail     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_at ON audit(at);
)sql"},
    // 3 -> 4: a call is a session of legs; every leg is a row, linked by the session's id
    // (its first leg's id). '' for rows written before sessions (one leg each).
    {"calls.session_id: a call is a session of legs", R"sql(
ALTER TABLE calls ADD COLUMN session_id TEXT NOT NULL DEFAULT '';
CREATE INDEX calls_session ON calls(session_id) WHERE session_id != '';
)sql"},
    // 4 -> 5: no record lost across a crash (docs/security.md "No record lost"). The
    // server's writer keeps one heartbeat row (its pid, when it opened the store, when it
    // last committed); at the next start-up the calls still open are closed as
    // `server_restart` at that time. The partial index finds them without a scan.
    {"store_heartbeat and calls_open: no record lost across a crash", R"sql(
CREATE TABLE store_heartbeat (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  pid        INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  last_seen  INTEGER NOT NULL
);
CREATE INDEX calls_open ON calls(started_at) WHERE ended_at IS NULL;
)sql"},
    // 5 -> 6: GET /api/calls filters (docs/api.md) walk an index in list order (newest
    // first), so a page is about `limit` index steps with 100,000 calls stored. The number
    // indexes are on the URI's part after its scheme ("sip:+5511...@h" -> "+5511...@h");
    // store/call_query.cpp spells the same expression.
    {"indexes for the call list's filters (flow, outcome, direction, number)", R"sql(
CREATE INDEX calls_flow ON calls(flow, started_at);
CREATE INDEX calls_outcome ON calls(end_reason, started_at);
CREATE INDEX calls_direction ON calls(direction, started_at);
CREATE INDEX calls_from_number ON calls(substr(from_uri, instr(from_uri, ':') + 1), started_at);
CREATE INDEX calls_to_number ON calls(substr(to_uri, instr(to_uri, ':') + 1), started_at);
)sql"},
    // 6 -> 7: call recordings (docs/recording.md): the WAV of a call's first leg, its path
    // under <data dir>/recordings, and when the retention sweep deleted it (NULL: kept).
    {"recordings: a call's audio recording", R"sql(
CREATE TABLE recordings (
  call_id    TEXT PRIMARY KEY,
  path       TEXT NOT NULL,
  bytes      INTEGER NOT NULL,
  format     TEXT NOT NULL DEFAULT 'wav',
  started_at INTEGER NOT NULL,
  deleted_at INTEGER
);
CREATE INDEX recordings_kept ON recordings(started_at) WHERE deleted_at IS NULL;
)sql"},
};
static_assert(std::size(kMigrations) == kSchemaVersion);

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

int read_schema_version(Database& db) {
  // An empty file (or one made by something else) has no schema_version table: version 0.
  Statement exists(db.handle(),
                   "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'");
  if (!exists.step()) return 0;
  Statement s(db.handle(), "SELECT COALESCE(MAX(version), 0) FROM schema_version");
  return s.step() ? static_cast<int>(s.column_int(0)) : 0;
}

int migrate_schema(Database& db, int target) {
  if (target < 0 || target > kSchemaVersion) {
    throw StoreError("cannot migrate to schema version " + std::to_string(target) +
                     ": this atende knows 0.." + std::to_string(kSchemaVersion));
  }
  db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  db.exec("BEGIN IMMEDIATE");  // one migrator at a time even with two processes
  try {
    const int current = read_schema_version(db);
    if (current > kSchemaVersion) {
      throw StoreError("call store schema version " + std::to_string(current) +
                       " is newer than this atende understands (" + std::to_string(kSchemaVersion) +
                       ")");
    }
    for (int v = current; v < target; ++v) {
      db.exec(kMigrations[v].sql);
      Statement bump(db.handle(), "INSERT INTO schema_version(version) VALUES (?)");
      bump.bind(1, int64_t{v + 1}).run();
    }
    db.exec("COMMIT");
    return current;
  } catch (...) {
    sqlite3_exec(db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void open_schema(Database& db, int busy_timeout_ms) {
  sqlite3_busy_timeout(db.handle(), busy_timeout_ms);
  // WAL: readers never block the writer and vice versa. NORMAL: no fsync per commit in WAL
  // mode; a power cut may lose the last commits but never corrupts the file.
  {
    Statement wal(db.handle(), "PRAGMA journal_mode=WAL");
    if (!wal.step() || wal.column_text(0) != "wal") {
      throw StoreError("call store: cannot switch to WAL mode (is the path on a local disk?)");
    }
  }
  db.exec("PRAGMA synchronous=NORMAL");
  migrate_schema(db, kSchemaVersion);
}

}  // namespace atende::store
