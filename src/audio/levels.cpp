#include "audio/levels.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace atende::audio {

double rms(std::span<const int16_t> pcm) {
  if (pcm.empty()) return 0.0;
  double sum = 0.0;
  for (int16_t s : pcm) sum += double(s) * s;
  return std::sqrt(sum / double(pcm.size()));
}

double dbfs(std::span<const int16_t> pcm) {
  const double level = rms(pcm) / 32768.0;
  if (level <= 0.0) return kSilenceDbfs;
  return std::max(kSilenceDbfs, 20.0 * std::log10(level));
}

int peak(std::span<const int16_t> pcm) {
  int best = 0;
  for (int16_t s : pcm) best = std::max(best, std::abs(int(s)));
  return best;
}

}  // namespace atende::audio
