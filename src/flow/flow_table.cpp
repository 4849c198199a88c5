#include "flow/flow_table.h"

namespace atende::flow {

int FlowTable::column(std::string_view n) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == n) return static_cast<int>(i);
  }
  return -1;
}

namespace {

// One line into fields; false (and `error`) on a malformed quote or an oversized field.
bool split_line(std::string_view line, std::vector<std::string>* fields, std::string* error) {
  fields->clear();
  std::string field;
  bool quoted = false, was_quoted = false;
  for (size_t i = 0; i <= line.size(); ++i) {
    char c = i < line.size() ? line[i] : ',';
    if (quoted) {
      if (i == line.size()) {
        *error = "unterminated quote";
        return false;
      }
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field.push_back(c);
      }
    } else if (c == ',') {
      // Spaces around an unquoted field are layout, not content.
      size_t b = field.find_first_not_of(' '), e = field.find_last_not_of(' ');
      fields->push_back(was_quoted || b == std::string::npos ? (was_quoted ? field : "")
                                                             : field.substr(b, e - b + 1));
      field.clear();
      was_quoted = false;
      if (fields->size() > TableLimits::kMaxColumns) {
        *error = "too many fields";
        return false;
      }
    } else if (c == '"' && field.find_first_not_of(' ') == std::string::npos && !was_quoted) {
      field.clear();
      quoted = was_quoted = true;
    } else if (was_quoted) {
      if (c != ' ') {
        *error = "text after a closing quote";
        return false;
      }
    } else {
      field.push_back(c);
    }
    if (field.size() > TableLimits::kMaxFieldChars) {
      *error = "field too long";
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<FlowTable> parse_table(std::string_view text, std::string* error) {
  if (text.size() > TableLimits::kMaxBytes) {
    *error = "file too large";
    return std::nullopt;
  }
  FlowTable table;
  std::vector<std::string> fields;
  size_t at = 0;
  int line_no = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(at, end - at);
    at = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    std::string why;
    if (!split_line(line, &fields, &why)) {
      *error = "line " + std::to_string(line_no) + ": " + why;
      return std::nullopt;
    }
    if (table.columns.empty()) {
      for (const std::string& f : fields) {
        if (f.empty()) {
          *error = "line " + std::to_string(line_no) + ": empty column name";
          return std::nullopt;
        }
      }
      table.columns = fields;
      continue;
    }
    if (fields.size() != table.columns.size()) {
      *error = "line " + std::to_string(line_no) + ": " + std::to_string(fields.size()) +
               " fields, the header has " + std::to_string(table.columns.size());
      return std::nullopt;
    }
    if (table.rows.size() >= TableLimits::kMaxRows) {
      *error = "too many rows";
      return std::nullopt;
    }
    table.rows.push_back(fields);
  }
  if (table.columns.empty()) {
    *error = "no header line";
    return std::nullopt;
  }
  return table;
}

}  // namespace atende::flow
