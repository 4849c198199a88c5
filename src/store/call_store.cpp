#include "store/call_store.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "store/schema.h"
#include "store/sqlite_db.h"

namespace atende::store {

namespace {

// Room for this many admissions racing between admit_new_call() and their call_started()
// (the SIP thread, the HTTP thread, flows on media workers).
constexpr size_t kAdmissionSlack = 8;
// What an ended call keeps of its reserve for the writes that follow its end (the flow's
// hangup and counts events, the digits).
constexpr size_t kTailReserve = 8;
// Tries of a batch the database refuses for now, on shutdown: then it is given up.
constexpr auto kStopGiveUp = std::chrono::seconds(10);
constexpr auto kReportEvery = std::chrono::seconds(10);
// A group commit (min_commit_interval) does not wait for more once this many writes are
// queued: the batch is big enough to amortise its transaction.
constexpr size_t kGatherEnough = 512;

const std::string* call_id_of(const auto& op) {
  if constexpr (requires { op.start; }) {
    return &op.start.id;
  } else if constexpr (requires { op.call_id; }) {
    return &op.call_id;
  } else if constexpr (requires { op.id; }) {
    return &op.id;
  } else {
    return nullptr;  // an audit row
  }
}

int64_t wall_now_ms() { return to_unix_ms(std::chrono::system_clock::now()); }

}  // namespace

// Prepared once on the writer thread and reused for every batch.
struct CallStore::Writer {
  explicit Writer(sqlite3* db)
      : insert_call(db,
                    "INSERT INTO calls(id, direction, from_uri, to_uri, leg_kind, flow, started_at,"
                    " session_id) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(id) DO NOTHING"),
        rejected(db,
                 "INSERT INTO calls(id, direction, from_uri, to_uri, leg_kind, flow, started_at,"
                 " session_id, ended_at, end_reason, sip_status) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
                 " ON CONFLICT(id) DO NOTHING"),
        answered(db, "UPDATE calls SET answered_at = ? WHERE id = ?"),
        ended(db, "UPDATE calls SET ended_at = ?, end_reason = ?, sip_status = ? WHERE id = ?"),
        event(db, "INSERT INTO call_events(call_id, at, kind, detail) VALUES (?,?,?,?)"),
        digits(db, "UPDATE calls SET digits = ? WHERE id = ?"),
        turn(db,
             "INSERT OR REPLACE INTO call_turns(call_id, idx, user_text, agent_text, interrupted,"
             " error, speech_end_ms, stt_final_ms, first_token_ms, first_audio_ms, first_play_ms)"
             " VALUES (?,?,?,?,?,?,?,?,?,?,?)"),
        audit(db,
              "INSERT INTO audit(at, token_name, source, method, path, status, detail)"
              " VALUES (?,?,?,?,?,?,?)"),
        heartbeat(db,
                  "INSERT INTO store_heartbeat(id, pid, started_at, last_seen) VALUES (1,?,?,?)"
                  " ON CONFLICT(id) DO UPDATE SET pid = excluded.pid,"
                  " started_at = excluded.started_at, last_seen = excluded.last_seen"),
        recording(db,
                  "INSERT OR REPLACE INTO recordings(call_id, path, bytes, format, started_at,"
                  " deleted_at) VALUES (?,?,?,?,?,NULL)"),
        recordings_deleted(db,
                           "UPDATE recordings SET deleted_at = ? WHERE started_at < ?"
                           " AND deleted_at IS NULL") {}
  Statement insert_call, rejected, answered, ended, event, digits, turn, audit, heartbeat,
      recording, recordings_deleted;
};

CallStore::CallStore(CallStoreOptions options) : options_(std::move(options)) {
  options_.high_watermark = std::max<size_t>(options_.high_watermark, 1);
  options_.call_reserve = std::max<size_t>(options_.call_reserve, 1);
  if (options_.queue_capacity == 0) {
    options_.queue_capacity =
        2 * options_.high_watermark +
        (options_.call_reserve + kTailReserve) * (options_.max_open_calls + kAdmissionSlack);
  }
  if (MetricsRegistry* m = options_.metrics) {
    const char* refused_help =
        "New calls refused because the call store was behind (SIP 503, API 503, a flow's "
        "dial failed).";
    refused_by_via_[0] =
        &m->counter("atende_store_refused_calls_total", refused_help, {{"via", "sip"}});
    refused_by_via_[1] =
        &m->counter("atende_store_refused_calls_total", refused_help, {{"via", "api"}});
    refused_by_via_[2] =
        &m->counter("atende_store_refused_calls_total", refused_help, {{"via", "flow"}});
    unrecorded_counter_ = &m->counter(
        "atende_store_unrecorded_refusals_total",
        "Refused calls not written to the store because it was behind (counted instead).");
    depth_gauge_ =
        &m->gauge("atende_store_queue_depth", "Call-store writes accepted and not yet committed.");
    commit_delay_ = &m->histogram(
        "atende_store_commit_delay_seconds",
        "Per committed batch: how long its oldest write waited from accepted to committed.",
        {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
    recovered_counter_ = &m->counter(
        "atende_store_recovered_calls_total",
        "Calls (legs) a previous process left open, closed at start-up as server_restart.");
  }
  if (options_.own_database) lock_data_dir();
  try {
    write_db_ = std::make_unique<Database>(options_.path, /*create=*/true);
    open_schema(*write_db_, options_.busy_timeout_ms);
    opened_at_ms_ = wall_now_ms();
    if (options_.own_database) recover_open_calls();
    read_db_ = std::make_unique<Database>(options_.path, /*create=*/false);
    sqlite3_busy_timeout(read_db_->handle(), options_.busy_timeout_ms);
    read_db_->exec("PRAGMA query_only=1");
  } catch (...) {
    if (lock_fd_ >= 0) ::close(lock_fd_);
    throw;
  }
  queue_.reserve(std::min<size_t>(options_.queue_capacity, 1024));
  writer_ = std::thread([this] { writer_loop(); });
}

CallStore::~CallStore() {
  close();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

void CallStore::lock_data_dir() {
  const std::string lock_path = options_.path + ".lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) {
    throw StoreError("cannot open '" + lock_path + "': " + std::strerror(errno));
  }
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char pid[32] = {};
    [[maybe_unused]] auto n = ::pread(lock_fd_, pid, sizeof pid - 1, 0);
    ::close(lock_fd_);
    lock_fd_ = -1;
    if (err == EWOULDBLOCK) {
      throw StoreError("call store '" + options_.path + "' is in use by another atende (pid " +
                       std::string(pid, ::strnlen(pid, sizeof pid)) + "): one server per data dir");
    }
    throw StoreError("cannot lock '" + lock_path + "': " + std::strerror(err));
  }
  const std::string me = std::to_string(::getpid());
  if (::ftruncate(lock_fd_, 0) == 0) {
    [[maybe_unused]] auto n = ::pwrite(lock_fd_, me.data(), me.size(), 0);
  }
}

// Before the writer starts, on the constructing thread: every row still open was left by a
// process that is gone (the lock says no other server has the data dir). It ends at the
// last time that process was seen alive (its heartbeat), or, for a call it did not start
// (older than its heartbeat row's start) or with no heartbeat at all, at the call's own
// last recorded moment (answer, last event), never before either.
void CallStore::recover_open_calls() {
  Database& db = *write_db_;
  db.exec("BEGIN IMMEDIATE");
  try {
    std::optional<int64_t> hb_pid, hb_started, hb_seen;
    {
      Statement hb(db.handle(), "SELECT pid, started_at, last_seen FROM store_heartbeat");
      if (hb.step()) {
        hb_pid = hb.column_int(0);
        hb_started = hb.column_int(1);
        hb_seen = hb.column_int(2);
        recovery_.last_seen = from_unix_ms(*hb_seen);
      }
    }
    struct Open {
      std::string id;
      int64_t started_at;
      int64_t last_activity;
    };
    std::vector<Open> open;
    {
      Statement q(db.handle(),
                  "SELECT id, started_at, MAX(started_at, COALESCE(answered_at, 0),"
                  " COALESCE((SELECT MAX(at) FROM call_events WHERE call_id = calls.id), 0))"
                  " FROM calls WHERE ended_at IS NULL");
      while (q.step()) open.push_back({q.column_text(0), q.column_int(1), q.column_int(2)});
    }
    Statement end(db.handle(),
                  "UPDATE calls SET ended_at = ?, end_reason = 'server_restart', sip_status = NULL"
                  " WHERE id = ?");
    Statement event(db.handle(),
                    "INSERT INTO call_events(call_id, at, kind, detail) VALUES (?,?,?,?)");
    for (const Open& c : open) {
      const bool theirs = hb_seen && c.started_at >= *hb_started;
      const int64_t at = theirs ? std::max(c.last_activity, *hb_seen) : c.last_activity;
      end.bind(1, at).bind(2, c.id).run();
      const std::string detail =
          theirs ? "open when atende (pid " + std::to_string(*hb_pid) +
                       ") stopped; ended at its last heartbeat"
                 : "open when an earlier atende stopped; ended at its last recorded moment";
      event.bind(1, c.id).bind(2, at).bind(3, "server_restart").bind(4, detail).run();
    }
    // Our own heartbeat from now on: a later recovery knows which calls were ours.
    Statement mine(db.handle(),
                   "INSERT INTO store_heartbeat(id, pid, started_at, last_seen) VALUES (1,?,?,?)"
                   " ON CONFLICT(id) DO UPDATE SET pid = excluded.pid,"
                   " started_at = excluded.started_at, last_seen = excluded.last_seen");
    mine.bind(1, int64_t{::getpid()}).bind(2, opened_at_ms_).bind(3, opened_at_ms_).run();
    db.exec("COMMIT");
    recovery_.calls = open.size();
  } catch (...) {
    sqlite3_exec(db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  if (recovered_counter_ && recovery_.calls) recovered_counter_->inc(recovery_.calls);
}

void CallStore::count_drop(uint64_t n) {
  // No logging here: this runs on SIP/media threads. The writer reports drops.
  dropped_.fetch_add(n, std::memory_order_relaxed);
  if (options_.dropped_writes) options_.dropped_writes->inc(n);
}

size_t CallStore::reserve_of(const OpenCall& c) const {
  return c.ending ? std::min(kTailReserve, options_.call_reserve) : options_.call_reserve;
}

size_t CallStore::unused_reserve(const OpenCall& c) const {
  const size_t reserve = reserve_of(c);
  return c.queued < reserve ? reserve - c.queued : 0;
}

std::chrono::milliseconds CallStore::oldest_wait(Steady::time_point now) const {
  Steady::time_point oldest;
  if (in_flight_ > 0) {
    oldest = in_flight_first_at_;
  } else if (!queue_.empty()) {
    oldest = queue_first_at_;
  } else {
    return std::chrono::milliseconds(0);
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - oldest);
}

bool CallStore::keeping_up(size_t depth, Steady::time_point now) const {
  return depth < options_.high_watermark && oldest_wait(now) < options_.max_commit_lag;
}

bool CallStore::admit_new_call(AdmitVia via) {
  bool ok;
  {
    std::lock_guard lock(mutex_);
    const size_t depth = enqueued_seq_ - done_seq_;
    ok = !stopping_ && keeping_up(depth, Steady::now()) &&
         depth + reserved_ + options_.call_reserve * (1 + kAdmissionSlack) <=
             options_.queue_capacity;
  }
  if (!ok) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    if (Counter* c = refused_by_via_[static_cast<int>(via)]) c->inc();
  }
  return ok;
}

QueueState CallStore::queue_state() const {
  std::lock_guard lock(mutex_);
  return QueueState{.depth = enqueued_seq_ - done_seq_,
                    .reserved = reserved_,
                    .open_calls = open_.size(),
                    .capacity = options_.queue_capacity,
                    .oldest_wait = oldest_wait(Steady::now())};
}

bool CallStore::enqueue(Op op, Lane lane) {
  const std::string* id = std::visit([](const auto& o) { return call_id_of(o); }, op);
  const bool ends = std::holds_alternative<OpEnded>(op);
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      const size_t depth = enqueued_seq_ - done_seq_;
      const bool shared_room = depth + reserved_ < options_.queue_capacity;
      OpenCall* call = nullptr;
      if (id && (lane == Lane::kOpen || lane == Lane::kCall)) {
        auto it = open_.find(*id);
        if (it != open_.end()) {
          call = &it->second;
          if (lane == Lane::kOpen && call->ended) {
            // The id again (a peer reusing a Call-ID) after the last one ended: a new call.
            const size_t before = unused_reserve(*call);
            call->ending = call->ended = false;
            reserved_ = reserved_ - before + unused_reserve(*call);
          }
        } else if (lane == Lane::kOpen) {
          call = &open_.emplace(*id, OpenCall{}).first->second;
          reserved_ += unused_reserve(*call);
        }
      }
      const auto now = Steady::now();
      bool fits = false;
      switch (lane) {
        case Lane::kOpen:
          fits = true;  // admit_new_call() left room for it
          break;
        case Lane::kCall:
          fits = (call && call->queued < reserve_of(*call)) || shared_room;
          break;
        case Lane::kShared:
          fits = shared_room;
          break;
        case Lane::kRefused:
          fits = shared_room && keeping_up(depth, now);
          break;
      }
      if (fits) {
        if (call) {
          const size_t before = unused_reserve(*call);
          ++call->queued;
          if (ends) call->ending = true;
          reserved_ = reserved_ - before + unused_reserve(*call);
        }
        if (queue_.empty()) queue_first_at_ = now;
        queue_.push_back(Pending{std::move(op), call != nullptr});
        ++enqueued_seq_;
        if (depth_gauge_) depth_gauge_->inc();
        // The writer waits for the first write, or, gathering a group commit, for enough of
        // them: other pushes would only wake it to sleep again.
        if (queue_.size() == 1 || queue_.size() == kGatherEnough) wake_writer_.notify_one();
        return true;
      }
      if (lane == Lane::kRefused) {
        unrecorded_.fetch_add(1, std::memory_order_relaxed);
        if (unrecorded_counter_) unrecorded_counter_->inc();
        return false;
      }
    }
  }
  count_drop(1);  // no room (the writer stalled for long) or store closed
  return false;
}

bool CallStore::call_started(CallStart start) {
  return enqueue(OpStart{std::move(start)}, Lane::kOpen);
}

bool CallStore::call_rejected(CallStart start, std::string reason, std::optional<int> sip_status) {
  return enqueue(OpRejected{std::move(start), std::move(reason), sip_status}, Lane::kRefused);
}

bool CallStore::call_answered(std::string id, WallTime at) {
  return enqueue(OpAnswered{std::move(id), to_unix_ms(at)}, Lane::kCall);
}

bool CallStore::call_ended(std::string id, WallTime at, std::string reason,
                           std::optional<int> sip_status) {
  return enqueue(OpEnded{std::move(id), to_unix_ms(at), std::move(reason), sip_status},
                 Lane::kCall);
}

bool CallStore::add_event(std::string call_id, WallTime at, std::string kind, std::string detail) {
  return enqueue(OpEvent{std::move(call_id), to_unix_ms(at), std::move(kind), std::move(detail)},
                 Lane::kCall);
}

bool CallStore::set_digits(std::string id, std::string digits) {
  return enqueue(OpDigits{std::move(id), std::move(digits)}, Lane::kCall);
}

bool CallStore::add_turn(std::string call_id, CallTurn turn) {
  return enqueue(OpTurn{std::move(call_id), std::move(turn)}, Lane::kCall);
}

bool CallStore::audit(AuditEntry entry) {
  return enqueue(OpAudit{std::move(entry)}, Lane::kShared);
}

bool CallStore::set_recording(std::string call_id, RecordingInfo recording, WallTime started) {
  return enqueue(OpRecording{std::move(call_id), std::move(recording), to_unix_ms(started)},
                 Lane::kCall);
}

bool CallStore::recordings_deleted(WallTime before, WallTime at) {
  return enqueue(OpRecordingsDeleted{to_unix_ms(before), to_unix_ms(at)}, Lane::kShared);
}

// The columns a call's first row starts with (1-8), the same for a call and a refused one.
static Statement& bind_call_start(Statement& st, const CallStart& c) {
  return st.bind(1, c.id)
      .bind(2, to_string(c.direction))
      .bind(3, c.from)
      .bind(4, c.to)
      .bind(5, c.leg_kind)
      .bind(6, c.flow)
      .bind(7, to_unix_ms(c.at))
      .bind(8, c.session_id.empty() ? c.id : c.session_id);
}

void CallStore::apply(Writer& w, Op& op) {
  if (auto* s = std::get_if<OpStart>(&op)) {
    const CallStart& c = s->start;
    bind_call_start(w.insert_call, c).run();
    if (write_db_->changes() == 0) spdlog::warn("call={} store: duplicate call id ignored", c.id);
  } else if (auto* r = std::get_if<OpRejected>(&op)) {
    const CallStart& c = r->start;
    bind_call_start(w.rejected, c).bind(9, to_unix_ms(c.at)).bind(10, r->reason);
    if (r->sip_status) {
      w.rejected.bind(11, int64_t{*r->sip_status});
    } else {
      w.rejected.bind_null(11);
    }
    w.rejected.run();
  } else if (auto* a = std::get_if<OpAnswered>(&op)) {
    w.answered.bind(1, a->at_ms).bind(2, a->id).run();
    if (write_db_->changes() == 0) spdlog::warn("call={} store: answered for unknown call", a->id);
  } else if (auto* e = std::get_if<OpEnded>(&op)) {
    w.ended.bind(1, e->at_ms).bind(2, e->reason);
    if (e->sip_status) {
      w.ended.bind(3, int64_t{*e->sip_status});
    } else {
      w.ended.bind_null(3);
    }
    w.ended.bind(4, e->id).run();
    if (write_db_->changes() == 0) spdlog::warn("call={} store: ended for unknown call", e->id);
  } else if (auto* ev = std::get_if<OpEvent>(&op)) {
    w.event.bind(1, ev->call_id).bind(2, ev->at_ms).bind(3, ev->kind).bind(4, ev->detail).run();
  } else if (auto* d = std::get_if<OpDigits>(&op)) {
    w.digits.bind(1, d->digits).bind(2, d->id).run();
  } else if (auto* t = std::get_if<OpTurn>(&op)) {
    const CallTurn& c = t->turn;
    w.turn.bind(1, t->call_id)
        .bind(2, int64_t{c.index})
        .bind(3, c.user_text)
        .bind(4, c.agent_text)
        .bind(5, int64_t{c.interrupted})
        .bind(6, c.error)
        .bind(7, c.speech_end_ms)
        .bind(8, c.stt_final_ms)
        .bind(9, c.first_token_ms)
        .bind(10, c.first_audio_ms)
        .bind(11, c.first_play_ms)
        .run();
  } else if (auto* au = std::get_if<OpAudit>(&op)) {
    const AuditEntry& e = au->entry;
    w.audit.bind(1, to_unix_ms(e.at))
        .bind(2, e.token_name)
        .bind(3, e.source)
        .bind(4, e.method)
        .bind(5, e.path)
        .bind(6, int64_t{e.status})
        .bind(7, e.detail)
        .run();
  } else if (auto* rec = std::get_if<OpRecording>(&op)) {
    w.recording.bind(1, rec->call_id)
        .bind(2, rec->recording.path)
        .bind(3, rec->recording.bytes)
        .bind(4, rec->recording.format)
        .bind(5, rec->started_ms)
        .run();
  } else if (auto* del = std::get_if<OpRecordingsDeleted>(&op)) {
    w.recordings_deleted.bind(1, del->at_ms).bind(2, del->before_ms).run();
  }
}

// One transaction: the batch (may be empty) and, for the server's store, the heartbeat.
// True when committed; `failed` counts the writes SQLite refused one by one (a bad row:
// dropped). False when the database refused the whole transaction for now: nothing of it
// stands and the caller tries the same batch again.
bool CallStore::commit(std::optional<Writer>& w, std::vector<Pending>& batch, uint64_t& failed) {
  failed = 0;
  try {
    write_db_->exec("BEGIN IMMEDIATE");
    for (Pending& p : batch) {
      try {
        apply(*w, p.op);
      } catch (const StoreError& e) {
        if (e.transient()) throw;
        ++failed;
        spdlog::error("store: write failed: {}", e.what());
      }
    }
    if (options_.own_database) {
      w->heartbeat.bind(1, int64_t{::getpid()}).bind(2, opened_at_ms_).bind(3, wall_now_ms()).run();
    }
    write_db_->exec("COMMIT");
    return true;
  } catch (const StoreError& e) {
    sqlite3_exec(write_db_->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    if (!e.transient()) {
      // Not one write's fault and not going away (the file is not a database any more):
      // this batch is lost, counted; later ones are tried anew.
      spdlog::error("store: batch of {} writes lost: {}", batch.size(), e.what());
      failed = batch.size();
      return true;
    }
    static thread_local Steady::time_point last_warned{};
    const auto now = Steady::now();
    if (now - last_warned >= std::chrono::seconds(5)) {
      spdlog::warn("store: cannot commit {} writes for now ({}); keeping them and retrying",
                   batch.size(), e.what());
      last_warned = now;
    }
    return false;
  }
}

// After a commit: the writes leave their calls' queued counts; a call whose end is
// committed and who has nothing left waiting gives its reserve back. In chunks, so the
// mutex is never held for long (SIP and media threads take it to enqueue).
void CallStore::release(std::vector<Pending>& batch) {
  constexpr size_t kChunk = 256;
  size_t i = 0;
  while (i < batch.size()) {
    std::lock_guard lock(mutex_);
    for (size_t n = 0; i < batch.size() && n < kChunk; ++i) {
      Pending& p = batch[i];
      if (!p.tracked) continue;
      ++n;
      const std::string* id = std::visit([](const auto& o) { return call_id_of(o); }, p.op);
      auto it = open_.find(*id);
      if (it == open_.end()) continue;  // cannot happen: tracked calls stay until released
      OpenCall& c = it->second;
      const size_t before = unused_reserve(c);
      if (c.queued > 0) --c.queued;
      if (std::holds_alternative<OpEnded>(p.op)) c.ended = true;
      if (c.ended && c.queued == 0) {
        reserved_ -= before;
        open_.erase(it);
      } else {
        reserved_ = reserved_ - before + unused_reserve(c);
      }
    }
  }
}

void CallStore::report(Steady::time_point now, uint64_t& reported_drops,
                       Steady::time_point& last_report) {
  const uint64_t drops = dropped_.load(std::memory_order_relaxed);
  if (drops != reported_drops) {
    spdlog::error("store: {} call-store writes dropped so far (queue capacity {})", drops,
                  options_.queue_capacity);
    reported_drops = drops;
  }
  if (now - last_report < kReportEvery) return;
  last_report = now;
  const uint64_t refused = refused_.exchange(0, std::memory_order_relaxed);
  const uint64_t unrecorded = unrecorded_.exchange(0, std::memory_order_relaxed);
  if (refused == 0 && unrecorded == 0) return;
  const QueueState q = queue_state();
  spdlog::warn(
      "store: behind ({} writes waiting, oldest {} ms, {} open calls): refused {} new calls "
      "(503) and left {} refusals unrecorded in the last {} s",
      q.depth, q.oldest_wait.count(), q.open_calls, refused, unrecorded,
      std::chrono::duration_cast<std::chrono::seconds>(kReportEvery).count());
}

void CallStore::writer_loop() {
  std::optional<Writer> w;
  try {
    w.emplace(write_db_->handle());
  } catch (const StoreError& e) {
    spdlog::error("store: cannot prepare statements, all writes will drop: {}", e.what());
  }
  std::vector<Pending> batch;
  batch.reserve(queue_.capacity());
  uint64_t reported_drops = 0;
  auto last_report = Steady::now();
  auto last_commit = Steady::now();
  const auto wake_every = std::min<std::chrono::milliseconds>(
      std::max(options_.heartbeat_interval, std::chrono::milliseconds(10)),
      std::chrono::milliseconds(1000));
  for (;;) {
    Steady::time_point first_at{};
    {
      std::unique_lock lock(mutex_);
      // Wake at least once a second so drops and refusals get reported and the heartbeat
      // kept even when no writes arrive.
      wake_writer_.wait_for(lock, wake_every, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) break;
      if (!queue_.empty() && options_.min_commit_interval.count() > 0) {
        // Group commit: until min_commit_interval after the last commit (at once if that
        // was longer ago), unless closing, the batch is already big or a reader flushes.
        wake_writer_.wait_until(lock, last_commit + options_.min_commit_interval, [&] {
          return stopping_ || flushing_ > 0 || queue_.size() >= kGatherEnough;
        });
      }
      batch.swap(queue_);  // both vectors keep their capacity: no steady-state allocation
      first_at = queue_first_at_;
      in_flight_ = batch.size();
      in_flight_first_at_ = first_at;
    }
    const auto now = Steady::now();
    const bool heartbeat_due =
        options_.own_database && now - last_commit >= options_.heartbeat_interval;
    if (!batch.empty() || heartbeat_due) {
      uint64_t failed = 0;
      if (!w) {
        failed = batch.size();
      } else {
        const auto first_try = Steady::now();
        while (!commit(w, batch, failed)) {
          if (batch.empty()) break;  // only the heartbeat: the next one will do
          report(Steady::now(), reported_drops, last_report);
          std::unique_lock lock(mutex_);
          if (stopping_ && Steady::now() - first_try >= kStopGiveUp) {
            lock.unlock();
            spdlog::error(
                "store: shutting down with the database still refusing writes: {} "
                "writes lost",
                batch.size());
            failed = batch.size();
            break;
          }
          // Back off 100 ms (new writes do not cut it short; close() does, and from then
          // on the batch gets kStopGiveUp more).
          const bool was_stopping = stopping_;
          wake_writer_.wait_for(lock, std::chrono::milliseconds(100),
                                [&] { return stopping_ != was_stopping; });
        }
      }
      last_commit = Steady::now();
      if (failed) count_drop(failed);  // bad rows, or a batch given up
      if (commit_delay_ && !batch.empty()) {
        commit_delay_->observe(std::chrono::duration<double>(last_commit - first_at).count());
      }
      const uint64_t n = batch.size();
      release(batch);
      batch.clear();
      {
        std::lock_guard lock(mutex_);
        done_seq_ += n;
        in_flight_ = 0;
      }
      if (depth_gauge_) depth_gauge_->add(-static_cast<int64_t>(n));
      written_.notify_all();
    }
    report(Steady::now(), reported_drops, last_report);
  }
  report(Steady::now() + kReportEvery, reported_drops, last_report);
}

void CallStore::flush() {
  std::unique_lock lock(mutex_);
  const uint64_t target = enqueued_seq_;
  if (done_seq_ >= target || closed_) return;
  ++flushing_;
  wake_writer_.notify_one();  // cut a group commit's gathering short
  written_.wait(lock, [&] { return done_seq_ >= target || closed_; });
  --flushing_;
}

void CallStore::close() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_writer_.notify_all();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard read_lock(read_mutex_);
    read_db_.reset();
  }
  write_db_.reset();
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  written_.notify_all();
}

uint64_t CallStore::dropped_writes() const { return dropped_.load(std::memory_order_relaxed); }

namespace {

constexpr const char* kCallColumns =
    "id, direction, from_uri, to_uri, leg_kind, flow, started_at, answered_at, ended_at, "
    "end_reason, sip_status, digits, session_id";

CallRecord read_call_row(const Statement& s) {
  CallRecord c;
  c.id = s.column_text(0);
  c.direction = s.column_text(1);
  c.from_uri = s.column_text(2);
  c.to_uri = s.column_text(3);
  c.leg_kind = s.column_text(4);
  c.flow = s.column_text(5);
  c.started_at = from_unix_ms(s.column_int(6));
  if (!s.column_is_null(7)) c.answered_at = from_unix_ms(s.column_int(7));
  if (!s.column_is_null(8)) c.ended_at = from_unix_ms(s.column_int(8));
  if (!s.column_is_null(9)) c.end_reason = s.column_text(9);
  if (!s.column_is_null(10)) c.sip_status = static_cast<int>(s.column_int(10));
  c.digits = s.column_text(11);
  c.session_id = s.column_text(12);
  return c;
}

}  // namespace

std::vector<CallRecord> CallStore::list_calls(int limit, int offset) {
  return list_calls(CallQuery{.limit = limit, .offset = offset}).calls;
}

namespace {

// Whether q's number prefix matches so many calls that walking the list order and testing
// each row beats merging the two number indexes and sorting every match: a bounded count
// on those indexes (at most 2 x kBroadNumber index steps) decides.
constexpr int kBroadNumber = 1000;

bool broad_number(Database& db, const CallQuery& q) {
  if (q.number.empty() || !q.flow.empty() || !q.outcome.empty()) return false;
  CallQuery probe;
  probe.number = q.number;
  const CallQuerySql count = build_call_query(probe, std::nullopt, "1");
  // The probe's own LIMIT/OFFSET are its last two parameters: replaced by the bound.
  Statement s(db.handle(), "SELECT COUNT(*) FROM (" +
                               count.sql.substr(0, count.sql.rfind(" ORDER BY")) + " LIMIT ?)");
  int i = 1;
  for (size_t k = 0; k + 2 < count.params.size(); ++k) {
    std::visit([&](const auto& v) { s.bind(i++, v); }, count.params[k]);
  }
  s.bind(i, int64_t{kBroadNumber});
  return s.step() && s.column_int(0) >= kBroadNumber;
}

}  // namespace

CallPage CallStore::list_calls(CallQuery q) {
  q.limit = std::clamp(q.limit, 0, 10000);
  q.offset = std::max(q.offset, 0);
  std::lock_guard lock(read_mutex_);
  if (!read_db_) throw StoreError("call store is closed");
  CallPage page;
  // One read transaction: the cursor and the page come from the same snapshot.
  read_db_->exec("BEGIN");
  try {
    std::optional<CallCursor> cursor;
    if (!q.before.empty()) {
      Statement c(read_db_->handle(), "SELECT started_at, rowid FROM calls WHERE id = ?");
      c.bind(1, q.before);
      if (c.step()) {
        cursor = CallCursor{c.column_int(0), c.column_int(1)};
      } else {
        page.before_found = false;
      }
    }
    if (page.before_found) {
      const CallQuerySql built =
          build_call_query(q, cursor, kCallColumns, broad_number(*read_db_, q));
      Statement s(read_db_->handle(), built.sql);
      int i = 1;
      for (const auto& p : built.params) {
        std::visit([&](const auto& v) { s.bind(i++, v); }, p);
      }
      while (s.step()) page.calls.push_back(read_call_row(s));
    }
    read_db_->exec("COMMIT");
  } catch (...) {
    sqlite3_exec(read_db_->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  return page;
}

std::optional<RecordingInfo> CallStore::read_recording(const std::string& call_id) {
  Statement s(read_db_->handle(),
              "SELECT path, bytes, format FROM recordings WHERE call_id = ?"
              " AND deleted_at IS NULL");
  s.bind(1, call_id);
  if (!s.step()) return std::nullopt;
  return RecordingInfo{s.column_text(0), s.column_int(1), s.column_text(2)};
}

std::optional<RecordingInfo> CallStore::get_recording(const std::string& call_id) {
  std::lock_guard lock(read_mutex_);
  if (!read_db_) throw StoreError("call store is closed");
  return read_recording(call_id);
}

void CallStore::read_details(CallRecord& c) {
  Statement e(read_db_->handle(),
              "SELECT id, at, kind, detail FROM call_events WHERE call_id = ?"
              " ORDER BY at, id");
  e.bind(1, c.id);
  while (e.step()) {
    c.events.push_back(
        {e.column_int(0), from_unix_ms(e.column_int(1)), e.column_text(2), e.column_text(3)});
  }
  Statement t(read_db_->handle(),
              "SELECT idx, user_text, agent_text, interrupted, error, speech_end_ms,"
              " stt_final_ms, first_token_ms, first_audio_ms, first_play_ms"
              " FROM call_turns WHERE call_id = ? ORDER BY idx");
  t.bind(1, c.id);
  while (t.step()) {
    CallTurn turn;
    turn.index = static_cast<int>(t.column_int(0));
    turn.user_text = t.column_text(1);
    turn.agent_text = t.column_text(2);
    turn.interrupted = t.column_int(3) != 0;
    turn.error = t.column_text(4);
    std::optional<int64_t>* stages[] = {&turn.speech_end_ms, &turn.stt_final_ms,
                                        &turn.first_token_ms, &turn.first_audio_ms,
                                        &turn.first_play_ms};
    for (int i = 0; i < 5; ++i) {
      if (!t.column_is_null(5 + i)) *stages[i] = t.column_int(5 + i);
    }
    c.turns.push_back(std::move(turn));
  }
}

std::optional<CallRecord> CallStore::get_call(const std::string& id) {
  std::lock_guard lock(read_mutex_);
  if (!read_db_) throw StoreError("call store is closed");
  // One read transaction so the call and its events are a consistent snapshot.
  read_db_->exec("BEGIN");
  try {
    std::optional<CallRecord> call;
    {
      Statement s(read_db_->handle(),
                  std::string("SELECT ") + kCallColumns + " FROM calls WHERE id = ?");
      s.bind(1, id);
      if (s.step()) call = read_call_row(s);
    }
    if (call) {
      read_details(*call);
      call->recording = read_recording(call->id);
      // The other legs of its session (the gate's call to the resident, a transfer).
      if (!call->session_id.empty()) {
        // "session_id != ''" lets SQLite use the partial index calls_session: with only a
        // bound parameter it cannot prove the index's WHERE, and scans every call.
        Statement l(read_db_->handle(), std::string("SELECT ") + kCallColumns +
                                            " FROM calls WHERE session_id = ? AND session_id != ''"
                                            " AND id != ? ORDER BY started_at, rowid LIMIT 16");
        l.bind(1, call->session_id).bind(2, call->id);
        while (l.step()) call->legs.push_back(read_call_row(l));
        for (auto& leg : call->legs) read_details(leg);
      }
    }
    read_db_->exec("COMMIT");
    return call;
  } catch (...) {
    sqlite3_exec(read_db_->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

std::vector<AuditEntry> CallStore::list_audit(int limit, int offset) {
  limit = std::clamp(limit, 0, 10000);
  offset = std::max(offset, 0);
  std::lock_guard lock(read_mutex_);
  if (!read_db_) throw StoreError("call store is closed");
  // By id, not `at`: ids follow the order the writes were accepted, even if the wall clock
  // stepped back.
  Statement s(read_db_->handle(),
              "SELECT id, at, token_name, source, method, path, status, detail FROM audit"
              " ORDER BY id DESC LIMIT ? OFFSET ?");
  s.bind(1, int64_t{limit}).bind(2, int64_t{offset});
  std::vector<AuditEntry> out;
  while (s.step()) {
    AuditEntry e;
    e.id = s.column_int(0);
    e.at = from_unix_ms(s.column_int(1));
    e.token_name = s.column_text(2);
    e.source = s.column_text(3);
    e.method = s.column_text(4);
    e.path = s.column_text(5);
    e.status = static_cast<int>(s.column_int(6));
    e.detail = s.column_text(7);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace atende::store
