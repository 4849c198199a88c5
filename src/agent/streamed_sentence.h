// One sentence of an answer whose audio streams in from the TTS (speech::StreamingTts),
// held on the media thread between the network and the leg.
//
// Chunks are appended as they arrive; take() hands them to the leg in pieces: the first
// piece at once (the caller hears the first chunk, not the whole sentence), later ones only
// when the leg is about to run dry, and the rest when the stream ends. So the leg's clip
// queue holds a few pieces of a sentence whatever the chunk size, and what is buffered here
// is bounded (max_samples; more is cut and the caller should cancel the stream).
//
//   StreamedSentence s("We have a table at eight.", 8000);
//   on chunk:  if (!s.append(pcm)) stream->cancel();
//   on done:   s.finish(result.ok ? "" : result.error);
//   each tick: if (ClipPtr piece = s.take(samples_still_queued_on_the_leg)) leg.play(piece);
//              if (s.drained()) next sentence;
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/clip.h"

namespace atende::agent {

struct StreamedSentenceLimits {
  // At most this much audio is kept for a sentence (60 s at 8 kHz); more is cut.
  size_t max_samples = 60 * 8000;
  // A later piece goes to the leg once less than this is still queued there (400 ms at
  // 8 kHz): early enough that the leg never starves on a 20 ms tick.
  size_t low_water_samples = 3200;
};

class StreamedSentence {
 public:
  StreamedSentence(std::string text, int sample_rate, StreamedSentenceLimits limits = {});

  // A chunk (at the sentence's rate). False once the bound is passed: the chunk was cut
  // and no more is taken.
  bool append(std::span<const int16_t> pcm);
  // The stream ended: "" when it completed, else why not (the audio received stays).
  void finish(std::string error);

  // The next piece for the leg, given how many samples are still queued there, or nullptr
  // when nothing should be handed over now.
  ClipPtr take(size_t leg_queued_samples);

  const std::string& text() const { return text_; }
  bool finished() const { return finished_; }
  // Finished and every sample handed over.
  bool drained() const { return finished_ && buffer_.empty(); }
  size_t buffered() const { return buffer_.size(); }
  size_t received() const { return received_; }
  size_t taken() const { return taken_; }
  bool cut() const { return cut_; }
  const std::string& error() const { return error_; }

 private:
  std::string text_;
  int sample_rate_;
  StreamedSentenceLimits limits_;
  std::vector<int16_t> buffer_;  // received, not yet handed to the leg
  size_t received_ = 0;
  size_t taken_ = 0;
  bool finished_ = false;
  bool cut_ = false;
  std::string error_;
};

}  // namespace atende::agent
