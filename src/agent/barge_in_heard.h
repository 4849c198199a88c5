// What the caller actually heard of an answer that was cut off. After a barge-in the
// conversation history must keep only the part of the agent's answer that was played,
// or the model believes it said things the caller never heard ("...and your appointment
// is at 3" when playback stopped before "3").
//
// The agent plays an answer as a sequence of sentence clips. PlayedSpeech records each
// clip's text and length as it is queued, and how much audio has gone out (the agent
// counts frames sent while the leg is playing). heard_text() is every finished sentence
// plus the proportional part of the current one, cut at a word boundary: a word counts as
// heard when the playout passed its middle (by its byte position in the text: speech rate
// is even enough across a sentence for this, and it is never off by more than a word or
// two).
//
// Example:
//   PlayedSpeech said(8000);
//   said.queued("Your table is booked.", clip1_samples);
//   said.queued("We will see you at eight.", clip2_samples);
//   ... every frame while playing: said.advance(frame.samples);
//   on barge-in: history.push_back(said.heard_text());   // "Your table is booked. We will"
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace atende::agent {

// The first `fraction` (0..1) of `text`, cut after the last word whose middle lies within
// it; trailing spaces dropped. "" for fraction <= 0; the whole text for fraction >= 1.
std::string heard_prefix(std::string_view text, double fraction);

class PlayedSpeech {
 public:
  // `sample_rate`: the rate of the sample counts given to queued() and advance().
  explicit PlayedSpeech(int sample_rate) : sample_rate_(sample_rate) {}

  // A sentence clip queued for playback, after those already queued. Allocates (once per
  // sentence, not per frame).
  void queued(std::string text, size_t samples);
  // More audio of the last queued sentence (a streamed sentence arrives in pieces). Without
  // a queued sentence it does nothing.
  void extend(size_t samples);
  // Audio sent to the caller since the last call. No allocation.
  void advance(size_t samples);

  size_t played_samples() const { return played_; }
  size_t total_samples() const { return total_; }
  bool finished() const { return played_ >= total_; }
  double played_seconds() const { return sample_rate_ ? double(played_) / sample_rate_ : 0; }

  // Finished sentences joined by a space, then the heard part of the current one.
  std::string heard_text() const;
  // The whole answer as queued.
  std::string full_text() const;
  // Sentences queued so far, and the heard text from sentence `first_part` on (the part of
  // an answer given after a tool round: the earlier sentences belong to another message).
  size_t parts() const { return parts_.size(); }
  std::string heard_text_from(size_t first_part) const;

  // Forget everything (a new answer).
  void clear();

 private:
  struct Part {
    std::string text;
    size_t samples = 0;
  };
  int sample_rate_;
  std::vector<Part> parts_;
  size_t played_ = 0;
  size_t total_ = 0;
};

}  // namespace atende::agent
