// Streaming text to speech: a sentence goes in, its audio comes back in chunks while the
// provider is still synthesising, so the caller can hear the first words before the last
// ones exist. HttpTts (/v1/audio/speech, response_format pcm) implements it; the agent
// plays the chunks as they arrive (agent/streamed_sentence.h).
//
//   auto s = tts.speak({"Hello!", {"en-us", 165}, 8000},
//                      [&](std::span<const int16_t> pcm) { post_to_media(copy(pcm)); },
//                      [&](const TtsResult& r) { post_to_media(r); });
//   s->cancel();   // barge-in
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "speech/synthesizer.h"

namespace atende::speech {

struct TtsResult {
  bool ok = false;
  std::string error;  // "" when ok
  int http_status = 0;
  double first_audio_seconds = -1;  // speak() → first samples delivered
  double seconds = 0;               // speak() → end
  size_t samples = 0;               // delivered, at the phrase's rate
  bool cancelled = false;
};

class TtsStream {
 public:
  virtual ~TtsStream() = default;
  // Thread-safe, never blocks: no on_audio starts after it returns (one in progress may
  // finish); on_done follows with cancelled = true unless the stream had already ended.
  virtual void cancel() = 0;
};
using TtsStreamPtr = std::shared_ptr<TtsStream>;

using TtsAudioCallback = std::function<void(std::span<const int16_t> pcm)>;
using TtsDoneCallback = std::function<void(const TtsResult& result)>;

class StreamingTts {
 public:
  virtual ~StreamingTts() = default;
  // Streams `phrase` at phrase.sample_rate. Callbacks run on the engine's own thread, must
  // be quick and must not block; on_audio gets the chunks in order, then on_done exactly
  // once (also for a refused phrase). Never blocks the caller.
  virtual TtsStreamPtr speak(const Phrase& phrase, TtsAudioCallback on_audio,
                             TtsDoneCallback on_done) = 0;
};

}  // namespace atende::speech
