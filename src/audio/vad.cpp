#include "audio/vad.h"

namespace atende::audio {

float zero_crossing_rate(std::span<const int16_t> pcm) {
  if (pcm.size() < 2) return 0.0f;
  int crossings = 0;
  for (size_t i = 1; i < pcm.size(); ++i) {
    // A zero sample counts as positive so digital silence has no crossings.
    crossings += (pcm[i - 1] < 0) != (pcm[i] < 0);
  }
  return float(crossings) / float(pcm.size() - 1);
}

VadDecision Vad::process(std::span<const int16_t> pcm) {
  VadDecision d;
  const double level = dbfs(pcm);
  d.level_dbfs = float(level);
  d.zero_crossing_rate = zero_crossing_rate(pcm);
  if (!vad_frame_ok(pcm.size(), sample_rate())) return d;
  const Verdict v = detect(pcm, level);
  d.speech = v.speech;
  d.probability = v.probability;
  return d;
}

VadDecision Vad::process(const AudioFrame& frame) {
  if (frame.sample_rate != sample_rate()) {
    VadDecision d;
    d.level_dbfs = float(dbfs(frame.data()));
    d.zero_crossing_rate = zero_crossing_rate(frame.data());
    return d;
  }
  return process(frame.data());
}

}  // namespace atende::audio
