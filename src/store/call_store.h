// Call records in SQLite, written without ever blocking the caller, and none lost.
//
// SIP and media threads call the write methods; each one only builds a small record and
// pushes it on a queue (a mutex held for a push and a hash lookup, never across I/O). One
// writer thread owns the write connection and commits whatever is queued in one
// transaction. Reads use a second connection (WAL lets them run while the writer commits).
//
// No record lost (docs/security.md): the queue is bounded, and instead of dropping the
// writes of calls that are up when it fills, the store refuses NEW calls early.
// admit_new_call() says no (the SIP front answers 503, the API 503) while the store is
// behind: high_watermark writes waiting, or the oldest waiting longer than max_commit_lag,
// or no room left for one more call's reserve. Every open call (call_started until its
// call_ended is committed) holds a reserve of call_reserve queued writes that always fit
// (call_ended shrinks it to a small tail for the writes that follow the end); beyond its
// reserve a call shares what is left of queue_capacity. So a write of a call that is up
// drops only when the writer has been stalled long enough for every call to fill its
// reserve and the shared space; it is then counted (atende_store_dropped_writes_total)
// and logged. A batch the database refuses for now (locked, disk full) is kept and tried
// again, not dropped.
//
// The server's own store (own_database) also locks `<path>.lock` (one server per data
// dir), closes at open the calls a crashed process left open (end_reason
// `server_restart`, ended at its last heartbeat) and keeps that heartbeat: the writer
// stamps every commit, and commits one at least every heartbeat_interval when idle.
//
//   CallStore store({.path = "/var/lib/atende/calls.db", .dropped_writes =
//   &m.store_dropped_writes}); if (store.admit_new_call(AdmitVia::kSip))
//   store.call_started({.id = "c1", .direction = CallDirection::kInbound, ...});
//   store.flush();  // only where a caller must see its own writes (tests, `atende calls`)
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/metrics.h"
#include "store/audit_entry.h"
#include "store/call_query.h"
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

// Who asks admit_new_call(): the label of atende_store_refused_calls_total.
enum class AdmitVia { kSip, kApi, kFlow };

struct CallStoreOptions {
  std::string path;
  // ---- admission (docs/security.md "No record lost") ----
  size_t high_watermark = 10000;                   // writes waiting at which new calls are refused
  std::chrono::milliseconds max_commit_lag{2000};  // ... or the oldest waiting this long
  size_t call_reserve = 64;                        // queued writes every open call can always add
  size_t max_open_calls = 1000;  // sizes the default capacity (the server's max_calls)
  // Writes waiting, at most; 0: 2 * high_watermark + (call_reserve + tail) * (max_open_calls
  // + admission slack), room for every call's reserve on top of a full high watermark.
  size_t queue_capacity = 0;
  int busy_timeout_ms = 5000;          // wait for another process holding the write lock
  Counter* dropped_writes = nullptr;   // optional: atende_store_dropped_writes_total
  MetricsRegistry* metrics = nullptr;  // optional: the store's other metrics (docs/metrics.md)
  // The server's store: lock `<path>.lock`, close what a crash left open, keep a heartbeat.
  bool own_database = false;
  std::chrono::milliseconds heartbeat_interval{1000};
  // Group commit: a batch is committed at most this long after the previous commit ended,
  // so under load the writes of that moment share one transaction (each commit costs a
  // BEGIN, a COMMIT, a WAL frame write and the heartbeat's UPDATE: under callgrind about
  // as much as the rows of a whole short call). A write that arrives while the writer has
  // been idle for longer is committed at once; one that arrives under load waits at most
  // this long more (the durability window, docs/security.md). 0: commit whatever is queued
  // as soon as the writer is free (the behaviour before).
  std::chrono::milliseconds min_commit_interval{10};
};

// What opening an own_database store closed: calls a previous process left open.
struct Recovery {
  size_t calls = 0;                   // rows closed as server_restart (every leg)
  std::optional<WallTime> last_seen;  // the previous process's last heartbeat, if any
};

// The queue as the admission sees it (tests, logs).
struct QueueState {
  size_t depth = 0;       // writes accepted and not yet committed (or failed)
  size_t reserved = 0;    // unused reserve of the open calls
  size_t open_calls = 0;  // calls holding a reserve
  size_t capacity = 0;
  std::chrono::milliseconds oldest_wait{0};  // how long the oldest of `depth` has waited
};

class CallStore {
 public:
  // Opens or creates the database and migrates its schema; throws StoreError with the
  // path and reason on failure (bad path, not a database, newer schema).
  explicit CallStore(CallStoreOptions options);
  ~CallStore();  // close()
  CallStore(const CallStore&) = delete;
  CallStore& operator=(const CallStore&) = delete;

  // ---- admission: any thread ----
  // Whether a new call (a leg: inbound, placed by the API or by a flow) may start now. False
  // while the store is behind (see the top of this file); each false is counted as a
  // refusal (atende_store_refused_calls_total{via}) and tallied in one log line per 10 s.
  bool admit_new_call(AdmitVia via);
  QueueState queue_state() const;
  const Recovery& recovered() const { return recovery_; }

  // ---- writes: any thread, never block on disk; false when dropped ----
  // A call that admit_new_call() let in: it opens the call's reserve and is never refused
  // (except after close()).
  bool call_started(CallStart start);
  // A call we refused (one row, started = ended): written only while the store keeps up
  // (below the high watermark and the commit lag); otherwise not written, counted
  // (atende_store_unrecorded_refusals_total), and false. A refused call never takes the
  // room of calls that are up, so a flood of INVITEs cannot push their records out.
  bool call_rejected(CallStart start, std::string reason, std::optional<int> sip_status);
  bool call_answered(std::string id, WallTime at);
  bool call_ended(std::string id, WallTime at, std::string reason, std::optional<int> sip_status);
  bool add_event(std::string call_id, WallTime at, std::string kind, std::string detail);
  bool set_digits(std::string id, std::string digits);
  // An agent turn; a second write of the same (call, index) replaces the first.
  bool add_turn(std::string call_id, CallTurn turn);
  // A row of the API audit log (entry.id is ignored).
  bool audit(AuditEntry entry);
  // A call's recording is on disk (docs/recording.md); a second one replaces the first.
  bool set_recording(std::string call_id, RecordingInfo recording, WallTime started);
  // The retention sweep deleted the recordings of calls started before `before`.
  bool recordings_deleted(WallTime before, WallTime at);

  // Blocks until every write queued before this call is committed (or failed and counted).
  // The writer does not gather a group commit while someone flushes: the wait is one commit.
  void flush();
  // Drains the queue, stops the writer and closes both connections. Idempotent. Writes
  // after close() are dropped and counted.
  void close();

  // ---- reads: any thread (serialised on the read connection); throw StoreError ----
  // Newest first. limit is clamped to [0, 10000], offset to >= 0.
  std::vector<CallRecord> list_calls(int limit, int offset);
  // A filtered page (store/call_query.h); limit clamped to [0, 10000], offset to >= 0.
  CallPage list_calls(CallQuery query);
  std::optional<CallRecord> get_call(const std::string& id);
  // The call's recording while it is kept (not deleted by retention).
  std::optional<RecordingInfo> get_recording(const std::string& call_id);
  // The audit log, newest first. limit is clamped to [0, 10000], offset to >= 0.
  std::vector<AuditEntry> list_audit(int limit, int offset);

  uint64_t dropped_writes() const;  // this store's drops, for tests and logs

 private:
  struct OpStart {
    CallStart start;
  };
  struct OpRejected {
    CallStart start;
    std::string reason;
    std::optional<int> sip_status;
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
  struct OpRecording {
    std::string call_id;
    RecordingInfo recording;
    int64_t started_ms;
  };
  struct OpRecordingsDeleted {
    int64_t before_ms;
    int64_t at_ms;
  };
  using Op = std::variant<OpStart, OpRejected, OpAnswered, OpEnded, OpEvent, OpDigits, OpTurn,
                          OpAudit, OpRecording, OpRecordingsDeleted>;
  // How a write is let in. kOpen: call_started (admitted before). kCall: any other write
  // that names a call (its reserve if it is open, else the shared space). kShared: audit
  // rows (shared space). kRefused: call_rejected (only while the store keeps up).
  enum class Lane : uint8_t { kOpen, kCall, kShared, kRefused };
  struct Pending {
    Op op;
    bool tracked = false;  // counted in its open call's queued writes
  };
  // An open call: from call_started until its call_ended is committed and none of its
  // writes is waiting. Its unused reserve is what `reserved_` sums.
  struct OpenCall {
    uint32_t queued = 0;  // its writes accepted and not yet committed
    bool ending = false;  // call_ended accepted: the reserve shrinks to the tail
    bool ended = false;   // call_ended committed
  };
  struct Writer;  // the write connection's prepared statements
  using Steady = std::chrono::steady_clock;

  bool enqueue(Op op, Lane lane);
  size_t reserve_of(const OpenCall& c) const;  // call_reserve, or the tail once ending
  size_t unused_reserve(const OpenCall& c) const;
  bool keeping_up(size_t depth, Steady::time_point now) const;          // mutex_ held
  std::chrono::milliseconds oldest_wait(Steady::time_point now) const;  // mutex_ held
  void release(std::vector<Pending>& batch);  // the writer, after a commit
  void read_details(CallRecord& call);        // events and turns; read connection, lock held
  std::optional<RecordingInfo> read_recording(const std::string& call_id);  // lock held
  void count_drop(uint64_t n);
  void writer_loop();
  bool commit(std::optional<Writer>& w, std::vector<Pending>& batch, uint64_t& failed);
  void apply(Writer& w, Op& op);
  void lock_data_dir();
  void recover_open_calls();
  void report(Steady::time_point now, uint64_t& reported_drops, Steady::time_point& last_report);

  CallStoreOptions options_;
  int lock_fd_ = -1;
  Recovery recovery_;
  int64_t opened_at_ms_ = 0;
  std::unique_ptr<Database> write_db_;
  std::unique_ptr<Database> read_db_;
  std::mutex read_mutex_;

  mutable std::mutex mutex_;
  std::condition_variable wake_writer_;
  std::condition_variable written_;
  std::vector<Pending> queue_;
  Steady::time_point queue_first_at_{};      // when the oldest of queue_ was accepted
  size_t in_flight_ = 0;                     // taken by the writer, not yet committed
  Steady::time_point in_flight_first_at_{};  // when the oldest of those was accepted
  std::unordered_map<std::string, OpenCall> open_;
  size_t reserved_ = 0;        // the open calls' unused reserve
  uint64_t enqueued_seq_ = 0;  // ops accepted so far
  uint64_t done_seq_ = 0;      // ops the writer has finished (committed or failed)
  bool stopping_ = false;
  size_t flushing_ = 0;  // flush() callers waiting: the writer commits without gathering
  bool closed_ = false;
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> refused_{0};     // admit_new_call() said no
  std::atomic<uint64_t> unrecorded_{0};  // call_rejected() not written

  // Metrics (all optional).
  Counter* refused_by_via_[3] = {nullptr, nullptr, nullptr};
  Counter* unrecorded_counter_ = nullptr;
  Gauge* depth_gauge_ = nullptr;
  Histogram* commit_delay_ = nullptr;
  Counter* recovered_counter_ = nullptr;
  std::thread writer_;
};

}  // namespace atende::store
