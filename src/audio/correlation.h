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

// The same search on loudness envelopes instead of waveforms: the 10 ms RMS of five
// telephone bands (100 Hz to 4 kHz), correlated band by band and averaged. Use it when the
// needle is a separate rendering of the same words: espeak-ng's pitch flutter runs on
// across calls, so two syntheses of one phrase differ in waveform (r ~ 0.5-0.8) but keep
// their band envelopes. The offset is in samples, a multiple of 10 ms. Both spans at
// `sample_rate`; a rate under 100 Hz gives {0, 0.0}.
ClipMatch find_clip_envelope(std::span<const int16_t> needle, std::span<const int16_t> haystack,
                             int sample_rate);

}  // namespace atende::audio
