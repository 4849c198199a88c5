// A WAV file written as it grows (call recordings): a canonical 44-byte header whose sizes
// are 0 until finish() writes them, then 16-bit PCM appended as it comes. A file a crash
// left unfinished (sizes 0, or not matching the bytes present) is made valid again by
// repair_wav(): whatever reached the file is kept.
#pragma once
#include <cstdint>
#include <string>

namespace atende::recording {

inline constexpr uint64_t kWavHeaderBytes = 44;

class WavFile {
 public:
  WavFile() = default;
  ~WavFile();  // closes without finishing (the header keeps its placeholder sizes)
  WavFile(const WavFile&) = delete;
  WavFile& operator=(const WavFile&) = delete;

  // Creates (truncates) `path` and writes the placeholder header. False with `error`.
  bool open(const std::string& path, int sample_rate, int channels, std::string* error);
  // Appends raw little-endian PCM16 bytes. False on a write error (disk full).
  bool append(const void* data, size_t bytes);
  // Writes the real sizes into the header and closes. The data bytes written.
  uint64_t finish();
  bool is_open() const { return fd_ >= 0; }
  uint64_t data_bytes() const { return data_bytes_; }

 private:
  int fd_ = -1;
  int channels_ = 1;
  uint64_t data_bytes_ = 0;
};

// Makes the header of `path` (one of ours: 44-byte canonical header) describe the PCM in
// the file, cutting a trailing partial sample frame. Returns the data bytes, or -1 with
// `error` when the file is not a WAV we wrote.
int64_t repair_wav(const std::string& path, std::string* error);

}  // namespace atende::recording
