// WAV files: read 16-bit PCM (mono, or stereo mixed down to mono), write 16-bit PCM mono.
// Readers face files we did not write (softphone recordings, uploaded prompts), so parsing
// is bounded: every length is checked against the bytes actually present, unknown chunks
// are skipped, and anything unsupported comes back as an error message, never a crash.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/clip.h"

namespace atende::audio {

// Refuse files above this size before reading them (about 35 minutes of 16 kHz stereo).
constexpr size_t kMaxWavFileBytes = 128u * 1024 * 1024;

struct WavResult {
  Clip clip;          // mono PCM16 at the file's rate; empty on error
  std::string error;  // empty on success
  bool ok() const { return error.empty(); }
};

// Parses a whole WAV file held in memory. Accepts format 1 (PCM) and EXTENSIBLE with the
// PCM sub-format, 16 bits, 1 or 2 channels, 1..384000 Hz. A data chunk whose declared size
// runs past the end of the file (streamed recordings, 0xFFFFFFFF sizes) is read up to the
// end of the file.
WavResult parse_wav(std::span<const uint8_t> bytes);

// Reads and parses a file (refusing files over kMaxWavFileBytes). The clip's label is
// the path.
WavResult read_wav_file(const std::string& path);

// A canonical 44-byte-header PCM16 mono WAV.
std::vector<uint8_t> encode_wav(std::span<const int16_t> pcm, int sample_rate);

// Writes encode_wav() to `path`. False with `error` filled on failure.
bool write_wav_file(const std::string& path, std::span<const int16_t> pcm, int sample_rate,
                    std::string* error = nullptr);

}  // namespace atende::audio
