// No record lost (docs/security.md): the store refuses new calls before its queue can
// overflow, calls that are up keep their reserve, a busy database is retried rather than
// dropped, and calls a crash left open are closed at the next start-up.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "core/metrics.h"
#include "store/call_store.h"
#include "store/schema.h"
#include "store/sqlite_db.h"
#include "test_store_temp_dir.h"

namespace atende::store {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

class NoRecordLostTest : public testing::StoreDirTest {
 protected:
  static WallTime t(int64_t ms) { return from_unix_ms(1'700'000'000'000 + ms); }
  static CallStart start(std::string id, int64_t at_ms = 0, std::string session = {}) {
    return CallStart{.id = std::move(id),
                     .direction = CallDirection::kInbound,
                     .from = "sip:alice@example.com",
                     .to = "sip:echo@atende",
                     .leg_kind = "sip",
                     .flow = "echo",
                     .at = t(at_ms),
                     .session_id = std::move(session)};
  }
  // Options for a store whose writer a test stalls: a short busy timeout, so it retries
  // (every 100 ms) instead of waiting 5 s inside one BEGIN.
  CallStoreOptions small(size_t high, size_t reserve, size_t capacity) const {
    return CallStoreOptions{.path = path_,
                            .high_watermark = high,
                            .call_reserve = reserve,
                            .queue_capacity = capacity,
                            .busy_timeout_ms = 20};
  }
  static int64_t count(const std::string& path, const std::string& sql) {
    Database db(path, false);
    Statement s(db.handle(), sql);
    return s.step() ? s.column_int(0) : -1;
  }
};

AuditEntry audit_row(std::string method, std::string path) {
  AuditEntry e;
  e.at = std::chrono::system_clock::now();
  e.method = std::move(method);
  e.path = std::move(path);
  e.status = 200;
  return e;
}

// Another connection holds the write lock: the writer cannot commit while it lives.
struct WriteLockHolder {
  explicit WriteLockHolder(const std::string& path) : db(path, false) {
    sqlite3_busy_timeout(db.handle(), 5000);  // the writer may be committing right now
    db.exec("BEGIN IMMEDIATE");
  }
  void release() {
    if (held) db.exec("COMMIT");
    held = false;
  }
  ~WriteLockHolder() { release(); }
  Database db;
  bool held = true;
};

TEST_F(NoRecordLostTest, DefaultCapacityHoldsEveryCallsReserveAboveTheWatermark) {
  CallStore store({.path = path_, .max_open_calls = 1000});
  const auto q = store.queue_state();
  // 2 x 10,000 + (64 + 8 tail) x (1,000 + 8 racing admissions).
  EXPECT_EQ(q.capacity, 2u * 10000 + 72u * 1008);
  EXPECT_EQ(q.depth, 0u);
  EXPECT_EQ(q.reserved, 0u);
  EXPECT_TRUE(store.admit_new_call(AdmitVia::kSip));
}

TEST_F(NoRecordLostTest, OpenCallHoldsItsReserveUntilItsEndIsCommitted) {
  CallStore store(small(100, 16, 1000));
  ASSERT_TRUE(store.admit_new_call(AdmitVia::kSip));
  store.call_started(start("c1"));
  auto q = store.queue_state();
  EXPECT_EQ(q.open_calls, 1u);
  EXPECT_LE(q.reserved, 16u);
  store.flush();
  q = store.queue_state();
  EXPECT_EQ(q.open_calls, 1u);  // up: its reserve stays
  EXPECT_EQ(q.reserved, 16u);   // nothing of it waits: all of it unused
  store.call_ended("c1", t(10), "remote_bye", 200);
  store.flush();
  q = store.queue_state();
  EXPECT_EQ(q.open_calls, 0u);  // ended and nothing waiting: given back
  EXPECT_EQ(q.reserved, 0u);
  // A write after its end (the flow's hangup event) still lands, from the shared space.
  EXPECT_TRUE(store.add_event("c1", t(11), "hangup", "caller: remote_bye"));
  store.flush();
  EXPECT_EQ(store.get_call("c1")->events.size(), 1u);
  EXPECT_EQ(store.dropped_writes(), 0u);
}

TEST_F(NoRecordLostTest, BehindTheHighWatermarkNewCallsAreRefusedAndCallsUpLoseNothing) {
  MetricsRegistry reg;
  CallStoreOptions o = small(20, 8, 1000);
  o.metrics = &reg;
  CallStore store(o);
  for (const char* id : {"a", "b", "c"}) {
    ASSERT_TRUE(store.admit_new_call(AdmitVia::kSip));
    store.call_started(start(id));
  }
  store.flush();

  WriteLockHolder blocker(path_);
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(store.add_event("a", t(i), "tick", std::to_string(i)));
  EXPECT_GE(store.queue_state().depth, 20u);
  EXPECT_FALSE(store.admit_new_call(AdmitVia::kSip));
  EXPECT_FALSE(store.admit_new_call(AdmitVia::kApi));
  EXPECT_FALSE(store.admit_new_call(AdmitVia::kFlow));
  // The calls already up go on writing: all of it is kept.
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(store.add_event("b", t(i), "tick", std::to_string(i)));
    ASSERT_TRUE(store.add_event("c", t(i), "tick", std::to_string(i)));
  }
  ASSERT_TRUE(store.call_ended("b", t(100), "remote_bye", 200));
  blocker.release();
  store.flush();

  EXPECT_EQ(store.dropped_writes(), 0u);
  EXPECT_EQ(store.get_call("a")->events.size(), 30u);
  EXPECT_EQ(store.get_call("b")->events.size(), 8u);
  EXPECT_EQ(store.get_call("b")->end_reason, "remote_bye");
  EXPECT_EQ(store.get_call("c")->events.size(), 8u);
  EXPECT_TRUE(store.admit_new_call(AdmitVia::kSip));  // caught up: calls are welcome again
  const std::string text = reg.render();
  EXPECT_NE(text.find("atende_store_refused_calls_total{via=\"sip\"} 1"), std::string::npos)
      << text;
  EXPECT_NE(text.find("atende_store_refused_calls_total{via=\"api\"} 1"), std::string::npos);
  EXPECT_NE(text.find("atende_store_refused_calls_total{via=\"flow\"} 1"), std::string::npos);
  EXPECT_NE(text.find("atende_store_commit_delay_seconds_count"), std::string::npos);
}

TEST_F(NoRecordLostTest, AStalledWriterRefusesNewCallsAfterTheCommitLag) {
  CallStoreOptions o = small(10000, 8, 100000);
  o.max_commit_lag = milliseconds(300);
  CallStore store(o);
  store.call_started(start("a"));
  store.flush();
  WriteLockHolder blocker(path_);
  store.add_event("a", t(1), "tick", "");  // one write, far below the watermark
  std::this_thread::sleep_for(milliseconds(600));
  EXPECT_GE(store.queue_state().oldest_wait, milliseconds(300));
  EXPECT_FALSE(store.admit_new_call(AdmitVia::kSip));
  blocker.release();
  store.flush();
  EXPECT_TRUE(store.admit_new_call(AdmitVia::kSip));
  EXPECT_EQ(store.get_call("a")->events.size(), 1u);
}

TEST_F(NoRecordLostTest, ACallBeyondItsReserveCannotTakeAnotherCallsReserve) {
  // capacity 40, reserve 4 per open call: with a and b open and the writer stalled, a's
  // flood fills the shared space; b still has all of its own reserve.
  MetricsRegistry reg;
  Counter& dropped = reg.counter("atende_store_dropped_writes_total", "h");
  CallStoreOptions o = small(1000, 4, 40);
  o.dropped_writes = &dropped;
  CallStore store(o);
  store.call_started(start("a"));
  store.call_started(start("b"));
  store.flush();
  ASSERT_EQ(store.queue_state().reserved, 8u);

  WriteLockHolder blocker(path_);
  int accepted = 0;
  for (int i = 0; i < 100; ++i) accepted += store.add_event("a", t(i), "flood", "");
  // a: 4 in its reserve, then shared space until depth + b's 4 unused == 40.
  EXPECT_EQ(accepted, 36);
  EXPECT_EQ(store.dropped_writes(), 64u);
  EXPECT_EQ(dropped.value(), 64u);
  EXPECT_FALSE(store.admit_new_call(AdmitVia::kSip));  // and no new call could fit
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(store.add_event("b", t(i), "mine", "")) << i;
  EXPECT_FALSE(store.add_event("b", t(5), "beyond", ""));  // b's fifth needs shared space
  // An audit row only ever uses the shared space.
  EXPECT_FALSE(store.audit(audit_row("POST", "/x")));
  blocker.release();
  store.flush();
  EXPECT_EQ(store.get_call("a")->events.size(), 36u);
  EXPECT_EQ(store.get_call("b")->events.size(), 4u);
}

TEST_F(NoRecordLostTest, EndedCallKeepsATailForTheWritesAfterItsEnd) {
  CallStore store(small(1000, 16, 1000));
  store.call_started(start("a"));
  store.flush();
  WriteLockHolder blocker(path_);
  store.call_ended("a", t(5), "remote_bye", 200);
  auto q = store.queue_state();
  EXPECT_EQ(q.open_calls, 1u);
  EXPECT_EQ(q.reserved, 8u - 1u);  // the tail (8) less the end itself
  EXPECT_TRUE(store.add_event("a", t(6), "hangup", "caller: remote_bye"));
  EXPECT_TRUE(store.set_digits("a", "12#"));
  blocker.release();
  store.flush();
  q = store.queue_state();
  EXPECT_EQ(q.open_calls, 0u);
  EXPECT_EQ(q.reserved, 0u);
  EXPECT_EQ(store.get_call("a")->digits, "12#");
}

TEST_F(NoRecordLostTest, RefusedCallsAreOneRowAndOnlyWrittenWhileTheStoreKeepsUp) {
  MetricsRegistry reg;
  CallStoreOptions o = small(5, 8, 1000);
  o.metrics = &reg;
  CallStore store(o);
  ASSERT_TRUE(store.call_rejected(start("r1", 10), "rejected: Busy Here", 486));
  store.call_started(start("up"));
  store.flush();
  auto r1 = store.get_call("r1");
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->started_at, t(10));
  EXPECT_EQ(r1->ended_at, t(10));
  EXPECT_EQ(r1->end_reason, "rejected: Busy Here");
  EXPECT_EQ(r1->sip_status, 486);
  EXPECT_EQ(store.queue_state().open_calls, 1u);  // a refused call holds no reserve

  // A refusal with the id of a call that is up never touches that call's row.
  EXPECT_TRUE(store.call_rejected(start("up", 20), "rejected: Not Acceptable Here", 488));
  store.flush();
  EXPECT_FALSE(store.get_call("up")->ended_at);

  WriteLockHolder blocker(path_);
  for (int i = 0; i < 6; ++i) store.add_event("up", t(i), "tick", "");
  EXPECT_FALSE(store.call_rejected(start("r2"), "rejected: Service Unavailable", 503));
  blocker.release();
  store.flush();
  EXPECT_FALSE(store.get_call("r2"));
  EXPECT_EQ(store.dropped_writes(), 0u);  // not a dropped write: counted apart
  EXPECT_NE(reg.render().find("atende_store_unrecorded_refusals_total 1"), std::string::npos);
}

TEST_F(NoRecordLostTest, ABusyDatabaseIsRetriedNotDropped) {
  CallStore store(small(1000, 8, 1000));
  store.call_started(start("a"));
  {
    WriteLockHolder blocker(path_);
    for (int i = 0; i < 50; ++i) store.add_event("a", t(i), "tick", "");
    // Many times the busy timeout: the writer fails BEGIN and retries.
    std::this_thread::sleep_for(milliseconds(400));
    EXPECT_GE(store.queue_state().depth, 50u);
  }
  store.flush();
  EXPECT_EQ(store.dropped_writes(), 0u);
  EXPECT_EQ(store.get_call("a")->events.size(), 50u);
}

TEST_F(NoRecordLostTest, CloseDrainsWhatIsQueuedOnceTheDatabaseFreesUp) {
  {
    CallStore store(small(1000, 8, 1000));
    store.call_started(start("a"));
    WriteLockHolder blocker(path_);
    for (int i = 0; i < 20; ++i) store.add_event("a", t(i), "tick", "");
    std::thread later([&] {
      std::this_thread::sleep_for(milliseconds(300));
      blocker.release();
    });
    store.close();  // waits for the writer, which retries until the lock is gone
    later.join();
    EXPECT_EQ(store.dropped_writes(), 0u);
  }
  EXPECT_EQ(count(path_, "SELECT COUNT(*) FROM call_events"), 20);
}

// ---- the restart sweep ------------------------------------------------------------------

TEST_F(NoRecordLostTest, OwnStoreClosesTheCallsAPreviousProcessLeftOpen) {
  int64_t heartbeat = 0;
  {
    CallStoreOptions o{.path = path_, .own_database = true};
    CallStore store(o);
    EXPECT_EQ(store.recovered().calls, 0u);
    const auto now = std::chrono::system_clock::now();
    auto caller = start("caller");
    caller.at = now;
    store.call_started(caller);
    store.call_answered("caller", now + milliseconds(1));
    store.add_event("caller", now + milliseconds(2), "step", "ask");
    auto resident = start("resident", 0, "caller");
    resident.direction = CallDirection::kOutbound;
    resident.at = now + milliseconds(3);
    store.call_started(resident);
    auto done = start("done");
    done.at = now;
    store.call_started(done);
    store.call_ended("done", now + milliseconds(4), "remote_bye", 200);
    store.flush();
    // The process is still alive a little later (its heartbeat says so), then "dies":
    // nothing ends the open calls (a destructor only drains the queue).
    std::this_thread::sleep_for(milliseconds(60));
    store.audit(audit_row("GET", "/"));
    store.flush();
  }
  heartbeat = count(path_, "SELECT last_seen FROM store_heartbeat");
  ASSERT_GT(heartbeat, 0);

  CallStore again({.path = path_, .own_database = true});
  EXPECT_EQ(again.recovered().calls, 2u);
  ASSERT_TRUE(again.recovered().last_seen);
  EXPECT_EQ(to_unix_ms(*again.recovered().last_seen), heartbeat);
  for (const char* id : {"caller", "resident"}) {
    auto c = again.get_call(id);
    ASSERT_TRUE(c) << id;
    EXPECT_EQ(c->end_reason, "server_restart") << id;
    ASSERT_TRUE(c->ended_at);
    EXPECT_EQ(to_unix_ms(*c->ended_at), heartbeat) << id;
    ASSERT_FALSE(c->events.empty());
    EXPECT_EQ(c->events.back().kind, "server_restart");
    EXPECT_FALSE(c->sip_status);
  }
  // The session's legs are all closed, and read back as one call.
  EXPECT_EQ(again.get_call("caller")->legs.size(), 1u);
  EXPECT_EQ(again.get_call("done")->end_reason, "remote_bye");
  EXPECT_EQ(again.get_call("caller")->events.front().kind, "step");  // nothing else lost
}

TEST_F(NoRecordLostTest, CallsOlderThanTheLastProcessEndAtTheirOwnLastMoment) {
  { CallStore create({.path = path_}); }
  {
    Database db(path_, false);
    // The last process opened at 1000 and was last seen at 5000. Call "old" is from an
    // earlier one (started at 100, last event at 400); "mine" from the last (2000).
    db.exec("INSERT INTO store_heartbeat VALUES (1, 42, 1000, 5000)");
    db.exec(
        "INSERT INTO calls(id, direction, from_uri, to_uri, leg_kind, flow, started_at,"
        " answered_at) VALUES ('old','inbound','a','b','sip','echo',100,200),"
        " ('mine','inbound','a','b','sip','echo',2000,NULL),"
        " ('late','inbound','a','b','sip','echo',3000,NULL)");
    db.exec(
        "INSERT INTO call_events(call_id, at, kind) VALUES ('old', 400, 'step'),"
        " ('late', 7000, 'step')");  // an event stamped after the heartbeat (clock step)
  }
  CallStore store({.path = path_, .own_database = true});
  EXPECT_EQ(store.recovered().calls, 3u);
  EXPECT_EQ(to_unix_ms(*store.get_call("old")->ended_at), 400);
  EXPECT_EQ(to_unix_ms(*store.get_call("mine")->ended_at), 5000);
  EXPECT_EQ(to_unix_ms(*store.get_call("late")->ended_at), 7000);  // never before its events
}

TEST_F(NoRecordLostTest, WithoutAHeartbeatOpenCallsEndAtTheirLastRecordedMoment) {
  { CallStore create({.path = path_}); }  // a store that keeps no heartbeat (`atende calls`)
  {
    Database db(path_, false);
    db.exec(
        "INSERT INTO calls(id, direction, from_uri, to_uri, leg_kind, flow, started_at,"
        " answered_at) VALUES ('x','inbound','a','b','sip','echo',100,250)");
  }
  CallStore store({.path = path_, .own_database = true});
  EXPECT_EQ(store.recovered().calls, 1u);
  EXPECT_FALSE(store.recovered().last_seen);
  EXPECT_EQ(to_unix_ms(*store.get_call("x")->ended_at), 250);
  EXPECT_EQ(store.get_call("x")->end_reason, "server_restart");
}

TEST_F(NoRecordLostTest, OneServerPerDataDirAndReadersNeverSweep) {
  CallStore server({.path = path_, .own_database = true});
  server.call_started(start("live"));
  server.flush();
  try {
    CallStore second({.path = path_, .own_database = true});
    FAIL() << "a second server opened the same store";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("in use by another atende"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find(std::to_string(::getpid())), std::string::npos);
  }
  {
    CallStore reader({.path = path_});  // `atende calls` while the server runs
    EXPECT_EQ(reader.recovered().calls, 0u);
    EXPECT_FALSE(reader.get_call("live")->ended_at);
  }
  EXPECT_FALSE(server.get_call("live")->ended_at);
}

TEST_F(NoRecordLostTest, TheHeartbeatAdvancesWhileIdle) {
  CallStore store({.path = path_, .own_database = true, .heartbeat_interval = milliseconds(50)});
  const int64_t first = count(path_, "SELECT last_seen FROM store_heartbeat");
  int64_t later = first;
  for (int i = 0; i < 100 && later - first < 100; ++i) {  // no write needed for it to move
    std::this_thread::sleep_for(milliseconds(50));
    later = count(path_, "SELECT last_seen FROM store_heartbeat");
  }
  EXPECT_GE(later - first, 100);
  EXPECT_EQ(count(path_, "SELECT pid FROM store_heartbeat"), ::getpid());
}

}  // namespace
}  // namespace atende::store
