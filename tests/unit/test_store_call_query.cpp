// GET /api/calls' filters and keyset paging against a real SQLite file: every filter
// returns the right calls, newest first; paging by `before` walks every call once; and
// every query plan walks an index in list order (no full scan, no sort) except the number
// filter, which merges its two indexes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "store/call_query.h"
#include "store/call_store.h"
#include "store/schema.h"
#include "store/sqlite_db.h"
#include "test_store_temp_dir.h"

namespace atende::store {
namespace {

namespace fs = std::filesystem;

class CallQueryTest : public testing::StoreDirTest {
 protected:
  static WallTime t(int64_t s) { return from_unix_ms(1'700'000'000'000 + s * 1000); }

  // 40 calls, one a second (several share a second: ties are broken by rowid); flows
  // alternate, every third is outbound, numbers differ by call.
  void fill(CallStore& store) {
    for (int i = 0; i < 40; ++i) {
      const std::string id = "c" + std::to_string(100 + i);
      const std::string number = "+55119" + std::to_string(1000 + i);
      store.call_started(
          {.id = id,
           .direction = i % 3 == 0 ? CallDirection::kOutbound : CallDirection::kInbound,
           .from = i % 3 == 0 ? "sip:gate@atende" : "sip:" + number + "@pbx",
           .to = i % 3 == 0 ? "sip:" + number + "@trunk" : "sip:menu@atende",
           .leg_kind = "sip",
           .flow = i % 2 ? "menu" : "echo",
           .at = t(i / 2)});
      store.call_ended(id, t(i / 2 + 1), i % 4 ? "caller hangup" : "no_answer", 200);
    }
    store.flush();
  }

  std::vector<std::string> ids(const CallPage& page) {
    std::vector<std::string> out;
    for (const auto& c : page.calls) out.push_back(c.id);
    return out;
  }
};

TEST_F(CallQueryTest, PagingByBeforeVisitsEveryCallOnceNewestFirst) {
  CallStore store({.path = path_});
  fill(store);
  std::vector<std::string> seen;
  CallQuery q{.limit = 7};
  for (int pages = 0; pages < 20; ++pages) {
    const CallPage page = store.list_calls(q);
    ASSERT_TRUE(page.before_found);
    for (const auto& id : ids(page)) seen.push_back(id);
    if (static_cast<int>(page.calls.size()) < q.limit) break;
    q.before = page.calls.back().id;
  }
  ASSERT_EQ(seen.size(), 40u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 40u);
  // Newest first; two calls in the same second: the later insert first.
  EXPECT_EQ(seen.front(), "c139");
  EXPECT_EQ(seen[1], "c138");
  EXPECT_EQ(seen.back(), "c100");
}

TEST_F(CallQueryTest, UnknownBeforeIsReported) {
  CallStore store({.path = path_});
  fill(store);
  const CallPage page = store.list_calls(CallQuery{.before = "c999"});
  EXPECT_FALSE(page.before_found);
  EXPECT_TRUE(page.calls.empty());
}

TEST_F(CallQueryTest, EachFilterSelectsItsCalls) {
  CallStore store({.path = path_});
  fill(store);
  const auto all_match = [&](const CallQuery& q, auto pred, size_t expected) {
    const CallPage page = store.list_calls(q);
    EXPECT_EQ(page.calls.size(), expected);
    for (const auto& c : page.calls) EXPECT_TRUE(pred(c)) << c.id;
    for (size_t i = 1; i < page.calls.size(); ++i) {
      EXPECT_GE(page.calls[i - 1].started_at, page.calls[i].started_at);
    }
  };
  all_match(
      CallQuery{.limit = 100, .flow = "menu"}, [](auto& c) { return c.flow == "menu"; }, 20);
  all_match(
      CallQuery{.limit = 100, .outcome = "no_answer"},
      [](auto& c) { return c.end_reason == "no_answer"; }, 10);
  all_match(
      CallQuery{.limit = 100, .direction = "outbound"},
      [](auto& c) { return c.direction == "outbound"; }, 14);
  // The number is the part after the scheme: from for inbound, to for outbound calls.
  all_match(
      CallQuery{.limit = 100, .number = "+55119103"},
      [](auto& c) {
        return c.from_uri.find("+55119103") != std::string::npos ||
               c.to_uri.find("+55119103") != std::string::npos;
      },
      10);  // 1030..1039
  all_match(
      CallQuery{.limit = 100, .number = "+551191003"}, [](auto&) { return true; }, 1);
  all_match(
      CallQuery{.limit = 100, .number = "+5511910"}, [](auto&) { return true; }, 40);
  all_match(
      CallQuery{.limit = 100, .number = "+5521"}, [](auto&) { return true; }, 0);
  all_match(
      CallQuery{.limit = 100, .since_ms = to_unix_ms(t(5)), .until_ms = to_unix_ms(t(8))},
      [](auto& c) { return c.started_at >= t(5) && c.started_at < t(8); }, 6);
  all_match(
      CallQuery{.limit = 100, .flow = "echo", .outcome = "no_answer", .direction = "outbound"},
      [](auto& c) {
        return c.flow == "echo" && c.end_reason == "no_answer" && c.direction == "outbound";
      },
      4);  // i % 12 == 0
  // Filters and paging together.
  const CallPage first = store.list_calls(CallQuery{.limit = 3, .flow = "menu"});
  ASSERT_EQ(first.calls.size(), 3u);
  const CallPage next =
      store.list_calls(CallQuery{.limit = 100, .before = first.calls.back().id, .flow = "menu"});
  EXPECT_EQ(next.calls.size(), 17u);
}

// The plan SQLite picks for each filter, on an empty database of the current schema (the
// plans do not depend on the data: there are no statistics).
std::string plan(Database& db, const CallQuery& q, bool cursor, bool broad_number = false) {
  const auto built = build_call_query(q, cursor ? std::optional(CallCursor{5, 7}) : std::nullopt,
                                      "id", broad_number);
  Statement s(db.handle(), "EXPLAIN QUERY PLAN " + built.sql);
  int i = 1;
  for (const auto& p : built.params) std::visit([&](const auto& v) { s.bind(i++, v); }, p);
  std::string out;
  while (s.step()) out += s.column_text(3) + "\n";
  return out;
}

TEST_F(CallQueryTest, EveryFilterWalksAnIndex) {
  Database db(path_, true);
  open_schema(db, 1000);
  struct Case {
    CallQuery q;
    const char* index;
  };
  const Case cases[] = {
      {CallQuery{}, "calls_started_at"},
      {CallQuery{.since_ms = 1, .until_ms = 9}, "calls_started_at"},
      {CallQuery{.flow = "menu"}, "calls_flow"},
      {CallQuery{.outcome = "no_answer"}, "calls_outcome"},
      {CallQuery{.direction = "inbound"}, "calls_direction"},
      {CallQuery{.flow = "menu", .outcome = "x", .direction = "inbound"}, "calls_flow"},
      {CallQuery{.outcome = "x", .direction = "inbound", .number = "+55"}, "calls_outcome"},
      {CallQuery{.direction = "inbound", .number = "+55"}, "calls_from_number"},
  };
  for (const auto& c : cases) {
    for (bool cursor : {false, true}) {
      const std::string p = plan(db, c.q, cursor);
      // Never the table itself row by row ("SCAN calls" alone); walking an index in order
      // ("SCAN calls USING INDEX calls_started_at") stops after `limit` rows.
      EXPECT_EQ(p.find("SCAN calls\n"), std::string::npos) << p;
      if (c.q.number.empty() || !c.q.outcome.empty()) {
        EXPECT_EQ(p.find("TEMP B-TREE"), std::string::npos) << p;  // the index gives the order
      }
      // With a cursor SQLite may prefer the (started_at, rowid) range of the list order.
      if (!cursor) {
        EXPECT_NE(p.find(std::string("USING INDEX ") + c.index), std::string::npos) << p;
      }
    }
  }
}

// A number prefix that matches many calls filters the rows of the list order's walk rather
// than merging and sorting every match.
TEST_F(CallQueryTest, ABroadNumberFiltersTheOrderedWalk) {
  Database db(path_, true);
  open_schema(db, 1000);
  for (bool cursor : {false, true}) {
    std::string p = plan(db, CallQuery{.number = "+55"}, cursor, /*broad_number=*/true);
    EXPECT_NE(p.find("USING INDEX calls_started_at"), std::string::npos) << p;
    EXPECT_EQ(p.find("TEMP B-TREE"), std::string::npos) << p;
    p = plan(db, CallQuery{.direction = "outbound", .number = "+55"}, cursor, true);
    EXPECT_EQ(p.find("TEMP B-TREE"), std::string::npos) << p;
  }
}

TEST_F(CallQueryTest, BroadAndNarrowNumbersFindTheSameCalls) {
  CallStore store({.path = path_});
  for (int i = 0; i < 1500; ++i) {  // more than the probe's bound: the broad plan runs
    const std::string id = "b" + std::to_string(10000 + i);
    store.call_started({.id = id,
                        .direction = CallDirection::kInbound,
                        .from = "sip:+5511" + std::to_string(10000 + i) + "@pbx",
                        .to = "sip:menu@atende",
                        .leg_kind = "sip",
                        .flow = "menu",
                        .at = t(i)});
  }
  store.flush();
  const CallPage broad = store.list_calls(CallQuery{.limit = 1000, .number = "+5511"});
  ASSERT_EQ(broad.calls.size(), 1000u);
  EXPECT_EQ(broad.calls.front().id, "b11499");
  const CallPage also_broad = store.list_calls(CallQuery{.limit = 1000, .number = "+551110"});
  EXPECT_EQ(also_broad.calls.size(), 1000u);  // 10000..10999
  EXPECT_EQ(also_broad.calls.front().id, "b10999");
  const CallPage narrow = store.list_calls(CallQuery{.limit = 1000, .number = "+5511114"});
  ASSERT_EQ(narrow.calls.size(), 100u);  // 11400..11499: the index merge
  EXPECT_EQ(narrow.calls.front().id, "b11499");
  EXPECT_EQ(narrow.calls.back().id, "b11400");
}

TEST(CallQuerySql, PrefixUpperBound) {
  EXPECT_EQ(prefix_upper_bound("+551"), "+552");
  EXPECT_EQ(prefix_upper_bound("9"), ":");
  EXPECT_EQ(prefix_upper_bound("+"), ",");
}

}  // namespace
}  // namespace atende::store
