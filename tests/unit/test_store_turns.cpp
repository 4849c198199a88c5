// Agent turns in the call store: written through the queue, read back in order with the
// call, replaced on a second write of the same index, and in the API's JSON.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "store/call_store.h"
#include "store/schema.h"
#include "test_store_temp_dir.h"

namespace atende::store {
namespace {

namespace fs = std::filesystem;

class TurnsTest : public testing::StoreDirTest {};

CallStart start(std::string id) {
  return {.id = std::move(id),
          .from = "sip:a@x",
          .to = "sip:sales@y",
          .flow = "sales",
          .at = from_unix_ms(1'700'000'000'000)};
}

TEST_F(TurnsTest, TurnsAreStoredAndReadBackInOrder) {
  CallStore store({.path = path()});
  store.call_started(start("c1"));
  store.add_turn("c1", {.index = 1,
                        .user_text = "a table for two",
                        .agent_text = "Sure.",
                        .speech_end_ms = 3000,
                        .stt_final_ms = 3400,
                        .first_token_ms = 3700,
                        .first_audio_ms = 3750,
                        .first_play_ms = 3760});
  store.add_turn("c1", {.index = 0, .agent_text = "Hello.", .first_play_ms = 5});
  store.add_turn("c1", {.index = 2,
                        .user_text = "hmm",
                        .agent_text = "Our menu",
                        .interrupted = true,
                        .error = "llm: Timeout",
                        .speech_end_ms = 9000});
  store.add_turn("other", {.index = 0, .agent_text = "not mine"});
  store.flush();
  auto call = store.get_call("c1");
  ASSERT_TRUE(call);
  ASSERT_EQ(call->turns.size(), 3u);
  EXPECT_EQ(call->turns[0].agent_text, "Hello.");
  EXPECT_FALSE(call->turns[0].speech_end_ms);
  EXPECT_EQ(call->turns[1].user_text, "a table for two");
  EXPECT_EQ(call->turns[1].first_token_ms, 3700);
  EXPECT_EQ(call->turns[1].first_play_ms, 3760);
  EXPECT_TRUE(call->turns[2].interrupted);
  EXPECT_EQ(call->turns[2].error, "llm: Timeout");
  EXPECT_FALSE(call->turns[2].first_play_ms);

  auto j = to_json(*call, true);
  ASSERT_EQ(j["turns"].size(), 3u);
  EXPECT_EQ(j["turns"][1]["stt_final_ms"], 3400);
  EXPECT_TRUE(j["turns"][0]["stt_final_ms"].is_null());
  EXPECT_EQ(j["turns"][2]["interrupted"], true);
  EXPECT_FALSE(to_json(*call, false).contains("turns"));
}

TEST_F(TurnsTest, SameIndexIsReplaced) {
  CallStore store({.path = path()});
  store.call_started(start("c1"));
  store.add_turn("c1", {.index = 1, .agent_text = "first"});
  store.add_turn("c1", {.index = 1, .agent_text = "second"});
  store.flush();
  auto call = store.get_call("c1");
  ASSERT_EQ(call->turns.size(), 1u);
  EXPECT_EQ(call->turns[0].agent_text, "second");
}

TEST_F(TurnsTest, VersionOneDatabaseIsMigrated) {
  {
    // A database as version 1 left it: no turns table.
    Database db(path(), true);
    db.exec("CREATE TABLE schema_version (version INTEGER NOT NULL)");
    db.exec(
        "CREATE TABLE calls (id TEXT PRIMARY KEY, direction TEXT NOT NULL, from_uri TEXT "
        "NOT NULL, to_uri TEXT NOT NULL, leg_kind TEXT NOT NULL, flow TEXT NOT NULL, "
        "started_at INTEGER NOT NULL, answered_at INTEGER, ended_at INTEGER, end_reason "
        "TEXT, sip_status INTEGER, digits TEXT NOT NULL DEFAULT '')");
    db.exec(
        "CREATE TABLE call_events (id INTEGER PRIMARY KEY AUTOINCREMENT, call_id TEXT NOT "
        "NULL, at INTEGER NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '')");
    db.exec("INSERT INTO schema_version VALUES (1)");
  }
  CallStore store({.path = path()});
  store.call_started(start("c1"));
  store.add_turn("c1", {.index = 0, .agent_text = "Hello."});
  store.flush();
  EXPECT_EQ(store.get_call("c1")->turns.size(), 1u);
  EXPECT_EQ(store.dropped_writes(), 0u);
}

}  // namespace
}  // namespace atende::store
