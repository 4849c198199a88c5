// Where does clip A occur inside recording B? Normalised cross-correlation (Pearson's r
// of the needle against every same-length window of the haystack), computed with FFTs so
// a few seconds of prompt can be searched in minutes of recording. Tests use it (through
// tools/audiotool) to check that what a softphone heard contains the prompt we played,
// after G.711 and resampling have changed the exact samples.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

namespace atende::audio {

struct ClipMatch {
  size_t offset = 0;   // haystack sample where the best-matching window starts
  double score = 0.0;  // correlation there, -1..1; ~1 = same waveform, ~0 = unrelated
};

// Both spans at the same sample rate. A needle longer than the haystack, an empty or
// constant (silent) needle gives {0, 0.0}. Windows of the haystack that are silent score 0.
// Allocates O(haystack + needle) working memory; not for the media path.
ClipMatch find_clip(std::span<const int16_t> needle, std::span<const int16_t> haystack);

}  // namespace atende::audio
