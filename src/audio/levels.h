// Signal level of a stretch of PCM: what tests and the flow use to tell speech from
// silence ("did the caller hear anything?", "is this frame loud enough to be voice?").
#pragma once
#include <cstdint>
#include <span>

namespace atende::audio {

// What dbfs() returns for digital silence (log of zero), far below any real signal.
constexpr double kSilenceDbfs = -120.0;

// Root mean square of the samples, in sample units (0..32768). 0 for an empty span.
double rms(std::span<const int16_t> pcm);

// RMS relative to full scale: a full-scale square wave is 0 dBFS, a full-scale sine about
// -3 dBFS. Never below kSilenceDbfs.
double dbfs(std::span<const int16_t> pcm);

// Largest absolute sample value (0..32768).
int peak(std::span<const int16_t> pcm);

}  // namespace atende::audio
