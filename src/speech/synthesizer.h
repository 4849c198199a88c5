// Text to speech as the rest of atende sees it. Engines (espeak-ng embedded, HTTP later)
// implement Synthesizer; PhraseSource adds the cache in front of one.
#pragma once
#include <functional>
#include <string>

#include "core/clip.h"

namespace atende::speech {

struct Voice {
  std::string name = "en-us";  // espeak-ng voice: "en-us", "pt-br", ...
  int rate_wpm = 165;          // words per minute
  bool operator==(const Voice&) const = default;
};

struct Phrase {
  std::string text;
  Voice voice;
  int sample_rate = 8000;  // rate of the clip wanted (the leg's rate)
  bool operator==(const Phrase&) const = default;
};

// Called on a speech worker thread, never on the caller's thread. nullptr on failure.
using ClipCallback = std::function<void(ClipPtr)>;

class Synthesizer {
 public:
  virtual ~Synthesizer() = default;
  // Blocking synthesis; only ever called on a worker thread.
  virtual ClipPtr synthesize(const Phrase& phrase) = 0;
};

// What flows use: cached phrases come back at once, others are synthesised on a worker.
class PhraseSource {
 public:
  virtual ~PhraseSource() = default;
  // The cached clip, or nullptr if it is not cached yet. Never blocks.
  virtual ClipPtr cached(const Phrase& phrase) = 0;
  // Synthesise (or fetch from cache) off-thread; `done` runs on a speech worker.
  virtual void fetch(const Phrase& phrase, ClipCallback done) = 0;
  // Blocking: synthesise and cache now (used at flow load to pre-synthesise fixed phrases).
  virtual ClipPtr prepare(const Phrase& phrase) = 0;
};

}  // namespace atende::speech
