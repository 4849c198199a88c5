// What GET /api/calls asks the store for: a page of calls, newest first, narrowed by
// filters. Every filter has an index (schema version 6) whose order is the list order, so
// a page costs about `limit` index steps however many calls are stored.
//
//   store::CallQuery q{.limit = 50, .flow = "menu"};
//   auto page = store.list_calls(q);                 // newest 50 calls of flow "menu"
//   q.before = page.calls.back().id;                 // the next page
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "store/call_record.h"

namespace atende::store {

struct CallQuery {
  int limit = 50;        // clamped to [0, 10000]
  int offset = 0;        // legacy paging (skips rows: cost grows with it); prefer `before`
  std::string before{};  // a call id: only calls after it in the list order (older)
  std::optional<int64_t> since_ms{};  // started_at >= since (unix ms)
  std::optional<int64_t> until_ms{};  // started_at < until (unix ms)
  std::string flow{};                 // exact flow name
  std::string outcome{};              // exact end_reason
  std::string direction{};            // "inbound" / "outbound"
  std::string number{};  // prefix of the from or to number (the URI's part after its scheme)
};

struct CallPage {
  std::vector<CallRecord> calls;
  bool before_found = true;  // false: `before` names no stored call (the API answers 400)
};

// Where a `before` call sits in the list order: its started_at and rowid.
struct CallCursor {
  int64_t started_at = 0;
  int64_t rowid = 0;
};

// The SELECT for `q` (columns as in the store's call rows) and its parameters in order,
// exposed so a unit test can EXPLAIN QUERY PLAN it. `cursor` is where `q.before` sits.
struct CallQuerySql {
  std::string sql;
  std::vector<std::variant<int64_t, std::string>> params;
};
// `broad_number`: the number prefix matches many calls, so it filters rows the list order
// walks instead of choosing the plan (CallStore probes its indexes to decide).
CallQuerySql build_call_query(const CallQuery& q, const std::optional<CallCursor>& cursor,
                              std::string_view columns, bool broad_number = false);

// The first string after every string starting with `prefix` ("+551" -> "+552"): the
// upper bound of an index range for a prefix match. `prefix` is non-empty ASCII without
// 0x7f (the API admits digits and '+').
std::string prefix_upper_bound(std::string prefix);

}  // namespace atende::store
