#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "store/call_store.h"
#include "store/print_calls.h"
#include "store/schema.h"
#include "store/sqlite_db.h"
#include "test_store_temp_dir.h"

namespace atende::store {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

class CallStoreTest : public testing::StoreDirTest {
 protected:
  static WallTime t(int64_t ms) { return from_unix_ms(1'700'000'000'000 + ms); }
  static CallStart start(std::string id, int64_t at_ms) {
    return CallStart{.id = std::move(id),
                     .direction = CallDirection::kInbound,
                     .from = "sip:alice@example.com",
                     .to = "sip:ivr@atende",
                     .leg_kind = "sip",
                     .flow = "menu",
                     .at = t(at_ms)};
  }
};

// Group commit (min_commit_interval): a writer gathering a batch must not hold close() for
// the interval, and what it gathered is committed, not lost. With an hour's interval this
// test would hang (ctest's timeout) if close() waited for it.
TEST_F(CallStoreTest, GroupCommitGathersUntilCloseAndLosesNothing) {
  {
    CallStore store({.path = path_, .min_commit_interval = std::chrono::hours(1)});
    ASSERT_TRUE(store.call_started(start("c1", 0)));
    store.call_answered("c1", t(100));
    for (int i = 0; i < 20; ++i) store.add_event("c1", t(200 + i), "step", std::to_string(i));
    store.call_ended("c1", t(900), "local_bye", std::nullopt);
    store.close();
  }
  CallStore reopened({.path = path_});
  auto call = reopened.get_call("c1");
  ASSERT_TRUE(call.has_value());
  EXPECT_EQ(call->answered_at, t(100));
  EXPECT_EQ(call->ended_at, t(900));
  EXPECT_EQ(call->events.size(), 20u);
}

// flush() does not wait for a group commit's gathering: with an hour's interval it returns
// after one commit (this test would hang otherwise), twice in a row.
TEST_F(CallStoreTest, FlushCutsGroupCommitShort) {
  CallStore store({.path = path_, .min_commit_interval = std::chrono::hours(1)});
  ASSERT_TRUE(store.call_started(start("c1", 0)));
  store.add_event("c1", t(100), "step", "a");
  store.flush();
  auto call = store.get_call("c1");
  ASSERT_TRUE(call.has_value());
  EXPECT_EQ(call->events.size(), 1u);
  store.add_event("c1", t(200), "step", "b");
  store.flush();
  call = store.get_call("c1");
  ASSERT_TRUE(call.has_value());
  EXPECT_EQ(call->events.size(), 2u);
}

TEST_F(CallStoreTest, WritesFullCallLifecycleAndReadsItBack) {
  CallStore store({.path = path_});
  ASSERT_TRUE(store.call_started(start("c1", 0)));
  store.call_answered("c1", t(1500));
  store.add_event("c1", t(2000), "dtmf", "1");
  store.add_event("c1", t(1800), "flow.step", "greeting");
  store.add_event("c1", t(2000), "dtmf", "2");  // same time: insertion order decides
  store.set_digits("c1", "12");
  store.call_ended("c1", t(9000), "caller hangup", 200);
  store.flush();

  auto call = store.get_call("c1");
  ASSERT_TRUE(call.has_value());
  EXPECT_EQ(call->direction, "inbound");
  EXPECT_EQ(call->from_uri, "sip:alice@example.com");
  EXPECT_EQ(call->flow, "menu");
  EXPECT_EQ(call->started_at, t(0));
  EXPECT_EQ(call->answered_at, t(1500));
  EXPECT_EQ(call->ended_at, t(9000));
  EXPECT_EQ(call->end_reason, "caller hangup");
  EXPECT_EQ(call->sip_status, 200);
  EXPECT_EQ(call->digits, "12");
  ASSERT_EQ(call->events.size(), 3u);
  EXPECT_EQ(call->events[0].kind, "flow.step");
  EXPECT_EQ(call->events[1].detail, "1");
  EXPECT_EQ(call->events[2].detail, "2");

  const auto j = to_json(*call, true);
  EXPECT_EQ(j["id"], "c1");
  EXPECT_EQ(j["started_at"], "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(j["answered_at"], "2023-11-14T22:13:21.500Z");
  EXPECT_EQ(j["duration_ms"], 9000);
  EXPECT_EQ(j["sip_status"], 200);
  EXPECT_EQ(j["events"].size(), 3u);
  EXPECT_EQ(j["events"][0]["at"], "2023-11-14T22:13:21.800Z");
}

TEST_F(CallStoreTest, UnansweredCallHasNullsInJson) {
  CallStore store({.path = path_});
  store.call_started(start("c1", 0));
  store.flush();
  auto call = store.get_call("c1");
  ASSERT_TRUE(call);
  EXPECT_FALSE(call->answered_at);
  const auto j = to_json(*call, false);
  EXPECT_TRUE(j["answered_at"].is_null());
  EXPECT_TRUE(j["sip_status"].is_null());
  EXPECT_TRUE(j["duration_ms"].is_null());
  EXPECT_FALSE(j.contains("events"));
  EXPECT_FALSE(store.get_call("nope").has_value());
}

TEST_F(CallStoreTest, ManyThreadsWriteEverythingAndListNewestFirst) {
  CallStore store({.path = path_});
  constexpr int kThreads = 4, kCalls = 250;
  std::vector<std::thread> threads;
  for (int th = 0; th < kThreads; ++th) {
    threads.emplace_back([&, th] {
      for (int i = 0; i < kCalls; ++i) {
        const std::string id = "t" + std::to_string(th) + "-" + std::to_string(i);
        const int64_t at = (i * kThreads + th) * 10;
        store.call_started(start(id, at));
        store.add_event(id, t(at + 1), "a", "");
        store.add_event(id, t(at + 2), "b", "");
        store.call_ended(id, t(at + 5), "done", std::nullopt);
      }
    });
  }
  for (auto& th : threads) th.join();
  store.flush();
  EXPECT_EQ(store.dropped_writes(), 0u);

  auto all = store.list_calls(10000, 0);
  ASSERT_EQ(all.size(), size_t{kThreads * kCalls});
  std::set<std::string> ids;
  for (size_t i = 0; i < all.size(); ++i) {
    ids.insert(all[i].id);
    ASSERT_TRUE(all[i].ended_at);
    if (i > 0) {
      EXPECT_GE(all[i - 1].started_at, all[i].started_at);
    }
  }
  EXPECT_EQ(ids.size(), all.size());
  auto page = store.list_calls(10, 5);
  ASSERT_EQ(page.size(), 10u);
  EXPECT_EQ(page[0].id, all[5].id);
  auto one = store.get_call("t2-100");
  ASSERT_TRUE(one);
  ASSERT_EQ(one->events.size(), 2u);
  EXPECT_EQ(one->events[0].kind, "a");
}

TEST_F(CallStoreTest, CloseDrainsQueueAndReopenPersists) {
  {
    CallStore store({.path = path_});
    for (int i = 0; i < 2000; ++i) store.call_started(start("c" + std::to_string(i), i));
    // No flush: the destructor must drain what was accepted.
  }
  CallStore again({.path = path_});
  EXPECT_EQ(again.list_calls(10000, 0).size(), 2000u);
  EXPECT_EQ(again.list_calls(1, 0).at(0).id, "c1999");
  // Writes after close are refused and counted, never crash.
  again.close();
  EXPECT_FALSE(again.call_started(start("late", 1)));
  EXPECT_EQ(again.dropped_writes(), 1u);
  EXPECT_THROW(again.list_calls(1, 0), StoreError);
  again.flush();  // returns at once on a closed store
}

// The queue's bounds, admission and the restart sweep: test_store_no_record_lost.cpp.

TEST_F(CallStoreTest, DuplicateAndUnknownIdsAreHarmless) {
  CallStore store({.path = path_});
  store.call_started(start("c1", 0));
  auto dup = start("c1", 50);
  dup.flow = "other";
  store.call_started(dup);
  store.call_answered("ghost", t(1));
  store.call_ended("ghost", t(2), "x", 500);
  store.flush();
  EXPECT_EQ(store.get_call("c1")->flow, "menu");
  EXPECT_EQ(store.list_calls(10, 0).size(), 1u);
  EXPECT_EQ(store.dropped_writes(), 0u);
}

TEST_F(CallStoreTest, OpenRejectsGarbageFileAndNewerSchema) {
  {
    FILE* f = std::fopen(path_.c_str(), "wb");
    std::fputs("this is not a database, just some bytes that are long enough..........", f);
    std::fclose(f);
  }
  EXPECT_THROW(CallStore({.path = path_}), StoreError);
  fs::remove(path_);
  { CallStore store({.path = path_}); }
  {
    Database db(path_, false);
    EXPECT_EQ(read_schema_version(db), kSchemaVersion);
    db.exec("INSERT INTO schema_version(version) VALUES (999)");
  }
  EXPECT_THROW(CallStore({.path = path_}), StoreError);
  EXPECT_THROW(CallStore({.path = (dir_ / "missing" / "x.db").string()}), StoreError);
}

TEST_F(CallStoreTest, ReopenKeepsSchemaVersionAndWalMode) {
  { CallStore store({.path = path_}); }
  { CallStore store({.path = path_}); }
  Database db(path_, false);
  EXPECT_EQ(read_schema_version(db), kSchemaVersion);
  Statement s(db.handle(), "PRAGMA journal_mode");
  ASSERT_TRUE(s.step());
  EXPECT_EQ(s.column_text(0), "wal");
  // One row per migration: reopening applied none twice.
  Statement n(db.handle(), "SELECT COUNT(*) FROM schema_version");
  ASSERT_TRUE(n.step());
  EXPECT_EQ(n.column_int(0), kSchemaVersion);
}

TEST_F(CallStoreTest, PrintCallsShowsTableAndNeutralisesControlBytes) {
  CallStore store({.path = path_});
  std::ostringstream empty;
  print_calls(store, empty, 10);
  EXPECT_EQ(empty.str(), "no calls recorded\n");

  auto s = start("c1", 0);
  s.from = "sip:\x1b[31mevil@x";
  store.call_started(s);
  store.call_ended("c1", t(12345), "bye", 200);
  store.call_started(start("c2", 100000));
  store.flush();
  std::ostringstream out;
  print_calls(store, out, 10);
  const std::string text = out.str();
  EXPECT_NE(text.find("STARTED (UTC)"), std::string::npos);
  EXPECT_NE(text.find("12.3s"), std::string::npos) << text;
  EXPECT_NE(text.find("sip:?[31mevil@x"), std::string::npos) << text;
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_LT(text.find("c2"), text.find("c1"));  // newest first
}

TEST(CallRecordFormat, Iso8601HandlesEpochAndNegativeMillis) {
  EXPECT_EQ(format_iso8601(from_unix_ms(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_iso8601(from_unix_ms(-1)), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_iso8601(from_unix_ms(1'700'000'000'123)), "2023-11-14T22:13:20.123Z");
}

}  // namespace
}  // namespace atende::store
