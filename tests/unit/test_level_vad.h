// Tone "speech" for unit tests of turn-taking (turn::Endpointer, the agent's engines): a VAD
// that calls every loud frame speech, so the test decides what the caller says, not a model;
// and the loud frame, a 200 Hz tone at 8 kHz. Zeros (AudioFrame::silence()) are silence.
#pragma once
#include <cmath>
#include <cstdint>
#include <span>

#include "audio/vad.h"
#include "core/audio_frame.h"

namespace atende::testing {

class LevelVad : public audio::Vad {
 public:
  int sample_rate() const override { return 8000; }
  void reset() override {}

 protected:
  Verdict detect(std::span<const int16_t>, double level_dbfs) override {
    return {level_dbfs > -40, level_dbfs > -40 ? 1.0f : 0.0f};
  }
};

inline AudioFrame tone_frame() {
  AudioFrame f = AudioFrame::silence();
  for (int i = 0; i < f.samples; ++i)
    f.pcm[size_t(i)] = int16_t(8000 * std::sin(2 * M_PI * 200 * i / 8000.0));
  return f;
}

}  // namespace atende::testing
