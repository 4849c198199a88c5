// The API audit log in the call store: rows round-trip newest first, paging, and a
// database left by version 2 (calls, events, turns) gains the audit table on open.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "store/call_store.h"
#include "store/schema.h"
#include "store/sqlite_db.h"
#include "test_store_temp_dir.h"

namespace atende::store {
namespace {

namespace fs = std::filesystem;

class AuditTest : public testing::StoreDirTest {
 protected:
  static AuditEntry entry(int status, std::string detail) {
    return AuditEntry{.at = from_unix_ms(1'700'000'000'000 + status),
                      .token_name = "crm",
                      .source = "10.0.0.7",
                      .method = "POST",
                      .path = "/api/calls",
                      .status = status,
                      .detail = std::move(detail)};
  }
};

TEST_F(AuditTest, RowsRoundTripNewestFirstWithPaging) {
  CallStore store({.path = path()});
  EXPECT_TRUE(store.list_audit(10, 0).empty());
  EXPECT_TRUE(store.audit(entry(202, "to=+5511999990000 flow=menu")));
  EXPECT_TRUE(store.audit(entry(403, "to=+4420 refused")));
  EXPECT_TRUE(store.audit(entry(401, "")));
  store.flush();

  const auto all = store.list_audit(10, 0);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].status, 401);
  EXPECT_EQ(all[2].status, 202);
  EXPECT_GT(all[0].id, all[1].id);
  EXPECT_EQ(all[2].detail, "to=+5511999990000 flow=menu");
  EXPECT_EQ(all[2].token_name, "crm");
  EXPECT_EQ(all[2].source, "10.0.0.7");
  EXPECT_EQ(all[2].method, "POST");
  EXPECT_EQ(all[2].path, "/api/calls");
  EXPECT_EQ(to_unix_ms(all[2].at), 1'700'000'000'202);

  const auto page = store.list_audit(1, 1);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].status, 403);
  EXPECT_TRUE(store.list_audit(10, 5).empty());
  EXPECT_EQ(store.list_audit(-3, -1).size(), 0u);  // clamped, not an error

  const auto j = to_json(all[2]);
  EXPECT_EQ(j["token"], "crm");
  EXPECT_EQ(j["status"], 202);
  EXPECT_EQ(j["at"], "2023-11-14T22:13:20.202Z");
  EXPECT_EQ(store.dropped_writes(), 0u);
}

TEST_F(AuditTest, AuditWritesAfterCloseAreDroppedAndCounted) {
  CallStore store({.path = path()});
  store.close();
  EXPECT_FALSE(store.audit(entry(202, "")));
  EXPECT_EQ(store.dropped_writes(), 1u);
}

TEST_F(AuditTest, VersionTwoDatabaseIsMigrated) {
  {
    // A database exactly as version 2 left it, with one call in it.
    Database db(path(), true);
    db.exec("CREATE TABLE schema_version (version INTEGER NOT NULL)");
    db.exec(
        "CREATE TABLE calls (id TEXT PRIMARY KEY, direction TEXT NOT NULL, from_uri TEXT "
        "NOT NULL, to_uri TEXT NOT NULL, leg_kind TEXT NOT NULL, flow TEXT NOT NULL, "
        "started_at INTEGER NOT NULL, answered_at INTEGER, ended_at INTEGER, end_reason "
        "TEXT, sip_status INTEGER, digits TEXT NOT NULL DEFAULT '')");
    db.exec("CREATE INDEX calls_started_at ON calls(started_at)");
    db.exec(
        "CREATE TABLE call_events (id INTEGER PRIMARY KEY AUTOINCREMENT, call_id TEXT NOT "
        "NULL, at INTEGER NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '')");
    db.exec("CREATE INDEX call_events_call ON call_events(call_id, at, id)");
    db.exec(
        "CREATE TABLE call_turns (call_id TEXT NOT NULL, idx INTEGER NOT NULL, user_text TEXT "
        "NOT NULL DEFAULT '', agent_text TEXT NOT NULL DEFAULT '', interrupted INTEGER NOT "
        "NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '', speech_end_ms INTEGER, stt_final_ms "
        "INTEGER, first_token_ms INTEGER, first_audio_ms INTEGER, first_play_ms INTEGER, "
        "PRIMARY KEY (call_id, idx))");
    db.exec(
        "INSERT INTO calls(id, direction, from_uri, to_uri, leg_kind, flow, started_at) "
        "VALUES ('old', 'inbound', 'sip:a@b', 'sip:c@d', 'sip', 'menu', 1000)");
    db.exec("INSERT INTO schema_version VALUES (1)");
    db.exec("INSERT INTO schema_version VALUES (2)");
  }
  {
    CallStore store({.path = path()});
    EXPECT_EQ(store.get_call("old")->flow, "menu");  // nothing lost
    store.audit(entry(202, "after upgrade"));
    store.flush();
    ASSERT_EQ(store.list_audit(10, 0).size(), 1u);
    EXPECT_EQ(store.dropped_writes(), 0u);
  }
  Database db(path(), false);
  EXPECT_EQ(read_schema_version(db), kSchemaVersion);
  Statement idx(db.handle(),
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'audit_at'");
  ASSERT_TRUE(idx.step());
  EXPECT_EQ(idx.column_int(0), 1);
}

}  // namespace
}  // namespace atende::store
