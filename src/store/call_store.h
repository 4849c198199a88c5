// Call records in SQLite, written without ever blocking the caller.
//
// SIP and media threads call the write methods; each one only builds a small record and
// pushes it on a bounded queue (a mutex held for a push, never across I/O). One writer
// thread owns the write connection and commits whatever is queued in one transaction.
// When the queue is full the write is dropped, counted (atende_store_dropped_writes_total)
// and logged: losing a record is better than stalling a call. Reads use a second
// connection (WAL lets them run while the writer commits). close() drains the queue first,
// so nothing accepted is lost on shutdown.
//
//   CallStore store({.path = "/var/lib/atende/calls.db", .dropped_writes =
//   &m.store_dropped_writes}); store.call_started({.id = "c1", .direction =
//   CallDirection::kInbound, ...}); store.flush();  // only where a caller must see its own writes
//   (tests, `atende calls`)
#pragma once
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "core/metrics.h"
#include "store/audit_entry.h"
#include "store/call_record.h"

namespace atende::store {

class Database;

struct CallStart {
  std::string id;
  CallDirection direction = CallDirection::kInbound;
  std::string from;
  std::string to;
  std::string leg_kind = "sip";
  std::string flow;
  WallTime at;
  std::string session_id{};  // the session's first leg's id; empty: this call is its own
};

struct CallStoreOptions {
  std::string path;
  size_t queue_capacity = 10000;      // writes waiting for the writer; beyond this they drop
  int busy_timeout_ms = 5000;         // wait for another process holding the write lock
  Counter* dropped_writes = nullptr;  // optional: atende_store_dropped_writes_total
};

class CallStore {
 public:
  // Opens or creates the database and migrates its schema; throws StoreError with the
  // path and reason on failure (bad path, not a database, newer schema).
  explicit CallStore(CallStoreOptions options);
  ~CallStore();  // close()
  CallStore(const CallStore&) = delete;
  CallStore& operator=(const CallStore&) = delete;

  // ---- writes: any thread, never block on disk; false when dropped ----
  bool call_started(CallStart start);
  bool call_answered(std::string id, WallTime at);
  bool call_ended(std::string id, WallTime at, std::string reason, std::optional<int> sip_status);
  bool add_event(std::string call_id, WallTime at, std::string kind, std::string detail);
  bool set_digits(std::string id, std::string digits);
  // An agent turn; a second write of the same (call, index) replaces the first.
  bool add_turn(std::string call_id, CallTurn turn);
  // A row of the API audit log (entry.id is ignored).
  bool audit(AuditEntry entry);

  // Blocks until every write queued before this call is committed (or failed and counted).
  void flush();
  // Drains the queue, stops the writer and closes both connections. Idempotent. Writes
  // after close() are dropped and counted.
  void close();

  // ---- reads: any thread (serialised on the read connection); throw StoreError ----
  // Newest first. limit is clamped to [0, 10000], offset to >= 0.
  std::vector<CallRecord> list_calls(int limit, int offset);
  std::optional<CallRecord> get_call(const std::string& id);
  // The audit log, newest first. limit is clamped to [0, 10000], offset to >= 0.
  std::vector<AuditEntry> list_audit(int limit, int offset);

  uint64_t dropped_writes() const;  // this store's drops, for tests and logs

 private:
  struct OpStart {
    CallStart start;
  };
  struct OpAnswered {
    std::string id;
    int64_t at_ms;
  };
  struct OpEnded {
    std::string id;
    int64_t at_ms;
    std::string reason;
    std::optional<int> sip_status;
  };
  struct OpEvent {
    std::string call_id;
    int64_t at_ms;
    std::string kind;
    std::string detail;
  };
  struct OpDigits {
    std::string id;
    std::string digits;
  };
  struct OpTurn {
    std::string call_id;
    CallTurn turn;
  };
  struct OpAudit {
    AuditEntry entry;
  };
  using Op = std::variant<OpStart, OpAnswered, OpEnded, OpEvent, OpDigits, OpTurn, OpAudit>;
  struct Writer;  // the write connection's prepared statements

  bool enqueue(Op op);
  void read_details(CallRecord& call);  // events and turns; read connection, lock held
  void count_drop(uint64_t n);
  void writer_loop();
  void apply(Writer& w, Op& op);

  CallStoreOptions options_;
  std::unique_ptr<Database> write_db_;
  std::unique_ptr<Database> read_db_;
  std::mutex read_mutex_;

  std::mutex mutex_;
  std::condition_variable wake_writer_;
  std::condition_variable written_;
  std::vector<Op> queue_;
  uint64_t enqueued_seq_ = 0;  // ops accepted so far
  uint64_t done_seq_ = 0;      // ops the writer has finished (committed or failed)
  bool stopping_ = false;
  bool closed_ = false;
  std::atomic<uint64_t> dropped_{0};
  std::thread writer_;
};

}  // namespace atende::store
