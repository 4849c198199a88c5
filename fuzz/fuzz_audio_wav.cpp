// Hostile WAV files: parse_wav must never crash, read out of bounds or allocate beyond
// the input's size, and whatever it accepts must survive a write/read round trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "audio/wav.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const atende::audio::WavResult r = atende::audio::parse_wav({data, size});
  if (!r.ok()) return 0;
  // Accepted: at most one mono sample per 2 input bytes, and a sane rate.
  if (r.clip.pcm.size() > size / 2 || r.clip.sample_rate <= 0) std::abort();
  const auto again =
      atende::audio::parse_wav(atende::audio::encode_wav(r.clip.pcm, r.clip.sample_rate));
  if (!again.ok() || again.clip.pcm != r.clip.pcm) std::abort();
  return 0;
}
