// Server-Sent Events (the WHATWG "text/event-stream" format) as streamed by
// OpenAI-compatible chat completions: `data: {json}\n\n` ... `data: [DONE]\n\n`.
//
// The parser is fed whatever byte chunks the network delivers (split anywhere, even inside
// a CRLF) and calls back once per complete event. Input is untrusted: a line or an event
// larger than the limits puts the parser in a sticky error state (the rest of the stream is
// ignored, the caller aborts the request) instead of growing without bound. Never throws
// (except std::bad_alloc under the limits, like any std::string).
//
//   SseParser sse;
//   sse.feed(chunk, [&](const SseEvent& e) { if (is_done(e)) ...; else parse(e.data); });
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace atende::llm {

struct SseEvent {
  std::string event;  // "event:" field; empty means the default type "message"
  std::string data;   // "data:" lines joined by '\n' (no trailing newline)
  std::string id;     // "id:" field (last one seen, per event)
};

struct SseLimits {
  // One line (a chat completion chunk is a few hundred bytes; a tool call's arguments can
  // arrive in one chunk, so leave generous room).
  size_t max_line_bytes = 256 * 1024;
  // One event's accumulated data.
  size_t max_event_bytes = 1024 * 1024;
};

enum class SseError { None, LineTooLong, EventTooLarge };

class SseParser {
 public:
  using Handler = std::function<void(const SseEvent&)>;

  explicit SseParser(SseLimits limits = {}) : limits_(limits) {}

  // Parses `bytes`, calling `on_event` for every event completed by them. Does nothing
  // once error() is set.
  void feed(std::string_view bytes, const Handler& on_event);

  // End of stream. Per the spec an event not terminated by a blank line is discarded;
  // returns true if such a partial event (or partial line) was pending.
  bool finish();

  SseError error() const { return error_; }
  // Events dispatched so far (comments and empty events not counted).
  size_t events() const { return events_; }
  void reset();

 private:
  void line(std::string_view text, const Handler& on_event);
  void fail(SseError e);

  SseLimits limits_;
  std::string line_;        // the current, unterminated line
  SseEvent pending_;        // the event being built
  bool have_data_ = false;  // a data: field was seen for pending_
  bool after_cr_ = false;   // last byte was CR: a following LF belongs to the same break
  bool bom_checked_ = false;
  SseError error_ = SseError::None;
  size_t events_ = 0;
};

// True for the OpenAI end-of-stream sentinel `data: [DONE]`.
inline bool is_done(const SseEvent& e) { return e.data == "[DONE]"; }

}  // namespace atende::llm
