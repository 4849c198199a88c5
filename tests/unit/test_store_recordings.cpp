// A call's recording in the store (docs/recording.md): written through the queue, read
// with the call and on its own, in the API's JSON, and gone once retention deleted it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "store/call_store.h"
#include "test_store_temp_dir.h"

namespace atende::store {
namespace {

namespace fs = std::filesystem;

class RecordingsTest : public testing::StoreDirTest {};

TEST_F(RecordingsTest, KeptUntilRetentionDeletesIt) {
  CallStore store({.path = path()});
  const WallTime day1 = from_unix_ms(1'700'000'000'000);
  const WallTime day3 = day1 + std::chrono::hours(48);
  for (const char* id : {"old", "new", "none"}) {
    store.call_started({.id = id, .from = "a", .to = "b", .flow = "f", .at = day1});
  }
  store.set_recording("old", {.path = "2023/11/14/old.wav", .bytes = 1044}, day1);
  store.set_recording("new", {.path = "2023/11/16/new.wav", .bytes = 2044}, day3);
  store.flush();

  auto rec = store.get_call("old");
  ASSERT_TRUE(rec && rec->recording);
  EXPECT_EQ(rec->recording->path, "2023/11/14/old.wav");
  EXPECT_EQ(rec->recording->bytes, 1044);
  const nlohmann::json j = to_json(*rec, true);
  EXPECT_EQ(j["recording"]["url"], "/api/calls/old/recording");
  EXPECT_EQ(j["recording"]["bytes"], 1044);
  EXPECT_EQ(j["recording"]["format"], "wav");
  EXPECT_TRUE(to_json(*store.get_call("none"), true)["recording"].is_null());
  EXPECT_FALSE(store.get_recording("none"));

  store.recordings_deleted(day1 + std::chrono::hours(24), day3);
  store.flush();
  EXPECT_FALSE(store.get_recording("old"));
  EXPECT_FALSE(store.get_call("old")->recording);
  ASSERT_TRUE(store.get_recording("new"));
  EXPECT_EQ(store.get_recording("new")->bytes, 2044);
}

}  // namespace
}  // namespace atende::store
