// A small CSV table a flow reads at load (residents: name, apartment, extension). Parsed
// defensively: it is configuration, but a mistake must be an error with a line number,
// never a crash or a huge allocation.
//
// Format: the first line names the columns; fields are separated by commas; a field may be
// double-quoted ("Silva, João") with "" for a quote inside; blank lines are skipped.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace atende::flow {

struct TableLimits {
  static constexpr size_t kMaxBytes = 1 << 20;
  static constexpr size_t kMaxRows = 10000;
  static constexpr size_t kMaxColumns = 32;
  static constexpr size_t kMaxFieldChars = 200;
};

struct FlowTable {
  std::string name;  // as the flow names it: "data/residents.csv"
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;  // each exactly columns.size() fields

  // Index of a column, -1 if there is none.
  int column(std::string_view name) const;
};

// Parses `text`; on failure returns nullopt and sets `error` to "line N: ...".
std::optional<FlowTable> parse_table(std::string_view text, std::string* error);

}  // namespace atende::flow
