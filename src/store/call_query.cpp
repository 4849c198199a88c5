#include "store/call_query.h"

namespace atende::store {

namespace {

// The number index (schema.cpp, version 6) is on this very expression: SQLite uses an
// expression index only where the query spells the expression the same way.
std::string number_of(const char* column) {
  return std::string("substr(") + column + ", instr(" + column + ", ':') + 1)";
}

}  // namespace

std::string prefix_upper_bound(std::string prefix) {
  prefix.back() = static_cast<char>(prefix.back() + 1);
  return prefix;
}

CallQuerySql build_call_query(const CallQuery& q, const std::optional<CallCursor>& cursor,
                              std::string_view columns, bool broad_number) {
  CallQuerySql out;
  std::string where;
  auto add = [&](const std::string& clause) {
    where += where.empty() ? " WHERE " : " AND ";
    where += clause;
  };
  // Without statistics SQLite would pick any equality index; the most selective filter
  // present gets its index (flow, then outcome, then number, then direction) and the others
  // are written `+column`, which SQLite never serves from an index, so they filter the rows
  // that index walks.
  bool indexed = false;
  auto equality = [&](const char* column, const std::string& value) {
    if (value.empty()) return;
    add(std::string(indexed ? "+" : "") + column + " = ?");
    out.params.emplace_back(value);
    indexed = true;
  };
  equality("flow", q.flow);
  equality("end_reason", q.outcome);
  if (!q.number.empty()) {
    const std::string from = number_of("from_uri"), to = number_of("to_uri");
    const std::string hi = prefix_upper_bound(q.number);
    if (indexed || broad_number) {
      add("(+" + from + " >= ? AND +" + from + " < ? OR +" + to + " >= ? AND +" + to + " < ?)");
    } else {
      add("((" + from + " >= ? AND " + from + " < ?) OR (" + to + " >= ? AND " + to + " < ?))");
    }
    for (int i = 0; i < 2; ++i) {
      out.params.emplace_back(q.number);
      out.params.emplace_back(hi);
    }
    indexed = indexed || !broad_number;
  }
  equality("direction", q.direction);
  if (q.since_ms) {
    add("started_at >= ?");
    out.params.emplace_back(*q.since_ms);
  }
  if (q.until_ms) {
    add("started_at < ?");
    out.params.emplace_back(*q.until_ms);
  }
  if (cursor) {
    // Strictly after the cursor in the list order (started_at DESC, rowid DESC); SQLite
    // turns the row value into a range on the index's (started_at, rowid).
    add("(started_at, rowid) < (?, ?)");
    out.params.emplace_back(cursor->started_at);
    out.params.emplace_back(cursor->rowid);
  }
  out.sql = "SELECT " + std::string(columns) + " FROM calls" + where +
            " ORDER BY started_at DESC, rowid DESC LIMIT ? OFFSET ?";
  out.params.emplace_back(int64_t{q.limit});
  out.params.emplace_back(int64_t{q.offset});
  return out;
}

}  // namespace atende::store
