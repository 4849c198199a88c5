#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "llm/sse_parser.h"

namespace atende::llm {
namespace {

std::vector<SseEvent> parse_chunks(const std::vector<std::string>& chunks, SseLimits limits = {}) {
  SseParser p(limits);
  std::vector<SseEvent> out;
  for (const auto& c : chunks) p.feed(c, [&](const SseEvent& e) { out.push_back(e); });
  return out;
}

std::vector<SseEvent> parse(const std::string& text) { return parse_chunks({text}); }

const std::string kStream =
    ": keep-alive\r\n"
    "data: {\"a\":1}\r\n\r\n"
    "event: note\n"
    "data: line one\n"
    "data: line two\n"
    "id: 7\n\n"
    "data:no-space\r\rdata: [DONE]\n\n";

void expect_stream(const std::vector<SseEvent>& ev) {
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[0].data, "{\"a\":1}");
  EXPECT_EQ(ev[0].event, "");
  EXPECT_EQ(ev[1].event, "note");
  EXPECT_EQ(ev[1].data, "line one\nline two");
  EXPECT_EQ(ev[1].id, "7");
  EXPECT_EQ(ev[2].data, "no-space");  // CR alone ends a line too
  EXPECT_EQ(ev[2].event, "");         // event type does not carry over
  EXPECT_TRUE(is_done(ev[3]));
}

TEST(SseParser, ParsesFieldsCommentsAndAllLineEndings) { expect_stream(parse(kStream)); }

TEST(SseParser, SameEventsWhateverTheChunkBoundaries) {
  // Every split into two chunks, including between the CR and LF of a CRLF.
  for (size_t cut = 0; cut <= kStream.size(); ++cut) {
    SCOPED_TRACE(cut);
    expect_stream(parse_chunks({kStream.substr(0, cut), kStream.substr(cut)}));
  }
  // And byte by byte.
  std::vector<std::string> bytes;
  for (char c : kStream) bytes.emplace_back(1, c);
  expect_stream(parse_chunks(bytes));
}

TEST(SseParser, CrlfSplitAcrossChunksIsOneLineBreak) {
  // "data: a\r" | "\n\r\n": if the LF were taken as a second break, the event would be
  // dispatched early — same result here — but "\r" | "\n" | "data" must not double-dispatch.
  auto ev = parse_chunks({"data: a\r", "\n", "data: b\r", "\n\r", "\n"});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "a\nb");
}

TEST(SseParser, MalformedLinesAreIgnoredNotFatal) {
  auto ev = parse(
      "garbage without colon\n"
      "retry: 100\n"
      "unknown: field\n"
      "data: ok\n\n"
      "\n\n"             // empty events are not dispatched
      "event: only\n\n"  // an event without data is not dispatched
      "data\n\n");       // "data" without colon: an empty data line
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].data, "ok");
  EXPECT_EQ(ev[1].data, "");
}

TEST(SseParser, StripsByteOrderMarkOnlyAtStart) {
  auto ev = parse(
      "\xEF\xBB\xBF"
      "data: x\n\n");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "x");
}

TEST(SseParser, UnterminatedEventAtEndIsDiscarded) {
  SseParser p;
  int n = 0;
  p.feed("data: complete\n\ndata: partial\n", [&](const SseEvent&) { ++n; });
  EXPECT_EQ(n, 1);
  EXPECT_TRUE(p.finish());
  EXPECT_EQ(p.events(), 1u);
}

TEST(SseParser, LineOverLimitIsAStickyError) {
  SseParser p({.max_line_bytes = 16, .max_event_bytes = 1000});
  int n = 0;
  p.feed("data: 0123456789", [&](const SseEvent&) { ++n; });
  EXPECT_EQ(p.error(), SseError::None);  // exactly 16: fine
  p.feed("X", [&](const SseEvent&) { ++n; });
  EXPECT_EQ(p.error(), SseError::LineTooLong);
  p.feed("\n\ndata: y\n\n", [&](const SseEvent&) { ++n; });
  EXPECT_EQ(n, 0);
}

TEST(SseParser, EventOverLimitIsAnError) {
  SseParser p({.max_line_bytes = 100, .max_event_bytes = 10});
  int n = 0;
  p.feed("data: 12345\ndata: 6789\n", [&](const SseEvent&) { ++n; });
  EXPECT_EQ(p.error(), SseError::EventTooLarge);
  EXPECT_EQ(n, 0);
}

TEST(SseParser, ResetStartsOver) {
  SseParser p({.max_line_bytes = 4, .max_event_bytes = 100});
  p.feed("data: too long", nullptr);
  ASSERT_NE(p.error(), SseError::None);
  p.reset();
  int n = 0;
  p.feed("a\n\n", [&](const SseEvent&) { ++n; });
  EXPECT_EQ(p.error(), SseError::None);
}

}  // namespace
}  // namespace atende::llm
