#include "audio/vad_energy.h"

#include <algorithm>
#include <cmath>

namespace atende::audio {

EnergyVad::EnergyVad(EnergyVadOptions options)
    : options_(options), floor_(options.initial_floor_dbfs) {}

void EnergyVad::reset() { floor_ = options_.initial_floor_dbfs; }

Vad::Verdict EnergyVad::detect(std::span<const int16_t> pcm, double level) {
  const double threshold = std::max(options_.min_speech_dbfs, floor_ + options_.margin_db);
  // Logistic around the threshold: 0.5 at it, ~0.95 three dB above.
  const double probability = 1.0 / (1.0 + std::exp(-(level - threshold)));
  const bool speech = level >= threshold;

  // Track the floor after deciding, so a frame is judged against what came before it.
  const double seconds = double(pcm.size()) / options_.sample_rate;
  if (level < floor_) {
    floor_ = std::max(level, floor_ - options_.floor_fall_db_per_s * seconds);
  } else {
    floor_ = std::min(level, floor_ + options_.floor_rise_db_per_s * seconds);
  }
  floor_ = std::max(floor_, options_.lowest_floor_dbfs);
  return {speech, float(probability)};
}

}  // namespace atende::audio
