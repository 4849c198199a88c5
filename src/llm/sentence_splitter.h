// Cuts streamed LLM text into sentences so text-to-speech can start on the first one while
// the rest is still being generated.
//
// A sentence ends at '.', '!', '?', '…' (or a run of them, optionally followed by closing
// quotes/brackets) when whitespace follows, and at a line break. Not at abbreviations
// ("Mr.", "Dr.", "Sr.", "Sra.", "apto.", single initials "J."), not inside numbers ("3.5",
// "10.30" have no space after the dot), not after a list marker ("1. "). Because the cut
// needs the character after the terminator, the last sentence of a delta is held until the
// next delta (or flush()).
//
// A long clause without a terminator is cut at the first ", ; :" once it is `soft_max_chars`
// long, and at the last space once it is `hard_max_chars` long, so speech starts early even
// on run-on text.
//
//   SentenceSplitter split;
//   for (delta : stream) split.push(delta, [&](std::string s) { tts.say(s); });
//   split.flush([&](std::string s) { tts.say(s); });
#pragma once
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace atende::llm {

struct SentenceSplitterOptions {
  size_t soft_max_chars = 100;  // bytes; cut at a comma/semicolon/colon beyond this
  size_t hard_max_chars = 240;  // bytes; cut at a space beyond this
  // Extra words (lower case, no dot) never ending a sentence, on top of the built-in
  // English and Portuguese list.
  std::vector<std::string> abbreviations;
};

class SentenceSplitter {
 public:
  using Emit = std::function<void(std::string)>;

  explicit SentenceSplitter(SentenceSplitterOptions options = {});

  // Appends a text delta; emits (trimmed, non-empty) sentences that are now complete.
  void push(std::string_view delta, const Emit& emit);
  // End of the stream: emits whatever is left.
  void flush(const Emit& emit);
  // Forget pending text (barge-in: the rest of the answer will not be spoken).
  void reset() { buffer_.clear(); }

  // Text received but not emitted yet.
  std::string_view pending() const { return buffer_; }

 private:
  // Offset just past the first complete sentence in buffer_, or 0 if none is complete yet.
  size_t find_cut() const;
  bool is_abbreviation(size_t dot) const;
  void emit_prefix(size_t n, const Emit& emit);

  SentenceSplitterOptions options_;
  std::string buffer_;
};

}  // namespace atende::llm
