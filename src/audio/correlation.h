// Where does clip A occur inside recording B? Normalised cross-correlation (Pearson's r
// of the needle against every same-length window of the haystack), computed with FFTs so
// a few seconds of prompt can be searched in minutes of recording. Tests use it (through
// tools/audiotool) to check that what a softphone heard contains the prompt we played,
// after G.711 and resampling have changed the exact samples.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace atende::audio {

struct ClipMatch {
  size_t offset = 0;   // haystack sample where the best-matching window starts
  double score = 0.0;  // correlation there, -1..1; ~1 = same waveform, ~0 = unrelated
};

// Both spans at the same sample rate. A needle longer than the haystack, an empty or
// constant (silent) needle gives {0, 0.0}. Windows of the haystack that are silent score 0.
// Allocates O(haystack + needle) working memory; not for the media path.
ClipMatch find_clip(std::span<const int16_t> needle, std::span<const int16_t> haystack);

// The same search on loudness envelopes (RMS of each `hop` samples, e.g. 10 ms) instead of
// waveforms. Use it when the needle is a separate rendering of the same words: espeak-ng's
// pitch flutter runs on across calls, so two syntheses of one phrase differ in waveform
// (r ~ 0.5-0.8) but keep the same envelope (r > 0.99; different phrases ~0.3). The offset
// is in samples, a multiple of `hop`. hop 0 gives {0, 0.0}.
ClipMatch find_clip_envelope(std::span<const int16_t> needle, std::span<const int16_t> haystack,
                             size_t hop);

// RMS of each whole `hop`-sample block, saturated to int16 (for find_clip_envelope).
std::vector<int16_t> rms_envelope(std::span<const int16_t> pcm, size_t hop);

}  // namespace atende::audio
