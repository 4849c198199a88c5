#include "llm/sse_parser.h"

namespace atende::llm {

void SseParser::reset() {
  line_.clear();
  pending_ = {};
  have_data_ = false;
  after_cr_ = false;
  bom_checked_ = false;
  error_ = SseError::None;
  events_ = 0;
}

void SseParser::fail(SseError e) {
  error_ = e;
  line_.clear();
  pending_ = {};
  have_data_ = false;
}

void SseParser::feed(std::string_view bytes, const Handler& on_event) {
  size_t i = 0;
  while (i < bytes.size() && error_ == SseError::None) {
    if (after_cr_) {
      after_cr_ = false;
      if (bytes[i] == '\n') {  // the LF of a CRLF split across two chunks
        ++i;
        continue;
      }
    }
    // Copy the run up to the next line break in one go.
    const size_t brk = bytes.find_first_of("\r\n", i);
    const size_t end = brk == std::string_view::npos ? bytes.size() : brk;
    if (line_.size() + (end - i) > limits_.max_line_bytes) {
      fail(SseError::LineTooLong);
      return;
    }
    line_.append(bytes.substr(i, end - i));
    if (brk == std::string_view::npos) return;
    after_cr_ = bytes[brk] == '\r';
    i = brk + 1;
    if (after_cr_ && i < bytes.size() && bytes[i] == '\n') {
      after_cr_ = false;
      ++i;
    }
    line(line_, on_event);  // keeps line_'s capacity for the next line
    line_.clear();
  }
}

void SseParser::line(std::string_view text, const Handler& on_event) {
  if (!bom_checked_) {
    bom_checked_ = true;
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  }
  if (text.empty()) {  // blank line: dispatch
    if (have_data_) {
      if (!pending_.data.empty() && pending_.data.back() == '\n') pending_.data.pop_back();
      ++events_;
      if (on_event) on_event(pending_);
    }
    pending_.event.clear();
    pending_.data.clear();
    have_data_ = false;
    return;
  }
  if (text.front() == ':') return;  // comment (servers send ": keep-alive")
  const size_t colon = text.find(':');
  std::string_view field = text.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = text.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (pending_.data.size() + value.size() + 1 > limits_.max_event_bytes) {
      fail(SseError::EventTooLarge);
      return;
    }
    pending_.data.append(value);
    pending_.data.push_back('\n');
    have_data_ = true;
  } else if (field == "event") {
    pending_.event.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) pending_.id.assign(value);
  }
  // "retry" and unknown fields are ignored (we never reconnect a completion).
}

bool SseParser::finish() {
  const bool partial = !line_.empty() || have_data_;
  line_.clear();
  pending_.event.clear();
  pending_.data.clear();
  have_data_ = false;
  after_cr_ = false;
  return partial && error_ == SseError::None;
}

}  // namespace atende::llm
