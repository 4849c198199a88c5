#include "store/call_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "store/schema.h"
#include "store/sqlite_db.h"

namespace atende::store {

// Prepared once on the writer thread and reused for every batch.
struct CallStore::Writer {
  explicit Writer(sqlite3* db)
      : insert_call(db,
                    "INSERT INTO calls(id, direction, from_uri, to_uri, leg_kind, flow, started_at,"
                    " session_id) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(id) DO NOTHING"),
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
              " VALUES (?,?,?,?,?,?,?)") {}
  Statement insert_call, answered, ended, event, digits, turn, audit;
};

CallStore::CallStore(CallStoreOptions options) : options_(std::move(options)) {
  options_.queue_capacity = std::max<size_t>(options_.queue_capacity, 1);
  write_db_ = std::make_unique<Database>(options_.path, /*create=*/true);
  open_schema(*write_db_, options_.busy_timeout_ms);
  read_db_ = std::make_unique<Database>(options_.path, /*create=*/false);
  sqlite3_busy_timeout(read_db_->handle(), options_.busy_timeout_ms);
  read_db_->exec("PRAGMA query_only=1");
  queue_.reserve(std::min<size_t>(options_.queue_capacity, 1024));
  writer_ = std::thread([this] { writer_loop(); });
}

CallStore::~CallStore() { close(); }

void CallStore::count_drop(uint64_t n) {
  // No logging here: this runs on SIP/media threads. The writer reports drops.
  dropped_.fetch_add(n, std::memory_order_relaxed);
  if (options_.dropped_writes) options_.dropped_writes->inc(n);
}

bool CallStore::enqueue(Op op) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_ && queue_.size() < options_.queue_capacity) {
      queue_.push_back(std::move(op));
      ++enqueued_seq_;
      wake_writer_.notify_one();
      return true;
    }
  }
  count_drop(1);  // queue full or store closed
  return false;
}

bool CallStore::call_started(CallStart start) { return enqueue(OpStart{std::move(start)}); }

bool CallStore::call_answered(std::string id, WallTime at) {
  return enqueue(OpAnswered{std::move(id), to_unix_ms(at)});
}

bool CallStore::call_ended(std::string id, WallTime at, std::string reason,
                           std::optional<int> sip_status) {
  return enqueue(OpEnded{std::move(id), to_unix_ms(at), std::move(reason), sip_status});
}

bool CallStore::add_event(std::string call_id, WallTime at, std::string kind, std::string detail) {
  return enqueue(OpEvent{std::move(call_id), to_unix_ms(at), std::move(kind), std::move(detail)});
}

bool CallStore::set_digits(std::string id, std::string digits) {
  return enqueue(OpDigits{std::move(id), std::move(digits)});
}

bool CallStore::add_turn(std::string call_id, CallTurn turn) {
  return enqueue(OpTurn{std::move(call_id), std::move(turn)});
}

bool CallStore::audit(AuditEntry entry) { return enqueue(OpAudit{std::move(entry)}); }

void CallStore::apply(Writer& w, Op& op) {
  if (auto* s = std::get_if<OpStart>(&op)) {
    const CallStart& c = s->start;
    w.insert_call.bind(1, c.id)
        .bind(2, to_string(c.direction))
        .bind(3, c.from)
        .bind(4, c.to)
        .bind(5, c.leg_kind)
        .bind(6, c.flow)
        .bind(7, to_unix_ms(c.at))
        .bind(8, c.session_id.empty() ? c.id : c.session_id)
        .run();
    if (write_db_->changes() == 0) spdlog::warn("call={} store: duplicate call id ignored", c.id);
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
  }
}

void CallStore::writer_loop() {
  std::optional<Writer> w;
  try {
    w.emplace(write_db_->handle());
  } catch (const StoreError& e) {
    spdlog::error("store: cannot prepare statements, all writes will drop: {}", e.what());
  }
  std::vector<Op> batch;
  batch.reserve(queue_.capacity());
  uint64_t reported_drops = 0;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      // Wake at least once a second so drops get reported even when no writes arrive.
      wake_writer_.wait_for(lock, std::chrono::seconds(1),
                            [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) break;
      batch.swap(queue_);  // both vectors keep their capacity: no steady-state allocation
    }
    if (!batch.empty()) {
      uint64_t failed = 0;
      if (!w) {
        failed = batch.size();
      } else {
        try {
          write_db_->exec("BEGIN IMMEDIATE");
          for (Op& op : batch) {
            try {
              apply(*w, op);
            } catch (const StoreError& e) {
              ++failed;
              spdlog::error("store: write failed: {}", e.what());
            }
          }
          write_db_->exec("COMMIT");
        } catch (const StoreError& e) {
          sqlite3_exec(write_db_->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
          spdlog::error("store: batch of {} writes lost: {}", batch.size(), e.what());
          failed = batch.size();
        }
      }
      if (failed) count_drop(failed);  // database error
      const uint64_t n = batch.size();
      batch.clear();
      {
        std::lock_guard lock(mutex_);
        done_seq_ += n;
      }
      written_.notify_all();
    }
    const uint64_t drops = dropped_.load(std::memory_order_relaxed);
    if (drops != reported_drops) {
      spdlog::warn("store: {} call-store writes dropped so far (queue capacity {})", drops,
                   options_.queue_capacity);
      reported_drops = drops;
    }
  }
}

void CallStore::flush() {
  std::unique_lock lock(mutex_);
  const uint64_t target = enqueued_seq_;
  written_.wait(lock, [&] { return done_seq_ >= target || closed_; });
}

void CallStore::close() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_writer_.notify_one();
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
  limit = std::clamp(limit, 0, 10000);
  offset = std::max(offset, 0);
  std::lock_guard lock(read_mutex_);
  if (!read_db_) throw StoreError("call store is closed");
  Statement s(read_db_->handle(), std::string("SELECT ") + kCallColumns +
                                      " FROM calls ORDER BY started_at DESC, rowid DESC"
                                      " LIMIT ? OFFSET ?");
  s.bind(1, int64_t{limit}).bind(2, int64_t{offset});
  std::vector<CallRecord> calls;
  while (s.step()) calls.push_back(read_call_row(s));
  return calls;
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
      // The other legs of its session (the gate's call to the resident, a transfer).
      if (!call->session_id.empty()) {
        Statement l(read_db_->handle(), std::string("SELECT ") + kCallColumns +
                                            " FROM calls WHERE session_id = ? AND id != ?"
                                            " ORDER BY started_at, rowid LIMIT 16");
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
