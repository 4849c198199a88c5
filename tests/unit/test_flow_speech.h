// Real caller speech for flow tests: espeak-ng audio fed to the flow one 20 ms frame per
// tick, so the real VAD and turn detector hear it (the recogniser stays scripted).
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "speech/espeak_synthesizer.h"
#include "test_flow_fakes.h"

namespace atende::flow::testing {

// `text` spoken by espeak-ng (en-us, 165 wpm) at 8 kHz; empty if synthesis failed.
inline std::vector<int16_t> speech_pcm(const std::string& text) {
  static speech::EspeakSynthesizer tts;
  ClipPtr clip = tts.synthesize({text, {"en-us", 165}, 8000});
  return clip ? clip->pcm : std::vector<int16_t>{};
}

// The caller says `text`, one frame per tick, then stays silent for `silence`.
inline void say_then_silence(Harness& h, const std::string& text, Millis silence) {
  auto pcm = speech_pcm(text);
  ASSERT_FALSE(pcm.empty()) << "espeak-ng could not say: " << text;
  for (size_t at = 0; at + 160 <= pcm.size() && h.call_up(); at += 160) {
    AudioFrame f = AudioFrame::silence();
    std::copy(pcm.begin() + at, pcm.begin() + at + 160, f.pcm.begin());
    h.tick(f);
  }
  h.run_for(silence);
}

}  // namespace atende::flow::testing
