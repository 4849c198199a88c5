#include "recording/wav_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace atende::recording {

namespace {

void put_u32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void put_u16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
uint32_t get_u32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint16_t get_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }

std::array<uint8_t, kWavHeaderBytes> header(int rate, int channels, uint32_t data_bytes) {
  std::array<uint8_t, kWavHeaderBytes> h{};
  std::memcpy(h.data(), "RIFF", 4);
  put_u32(&h[4], 36 + data_bytes);
  std::memcpy(&h[8], "WAVEfmt ", 8);
  put_u32(&h[16], 16);
  put_u16(&h[20], 1);  // PCM
  put_u16(&h[22], static_cast<uint16_t>(channels));
  put_u32(&h[24], static_cast<uint32_t>(rate));
  put_u32(&h[28], static_cast<uint32_t>(rate * channels * 2));
  put_u16(&h[32], static_cast<uint16_t>(channels * 2));
  put_u16(&h[34], 16);
  std::memcpy(&h[36], "data", 4);
  put_u32(&h[40], data_bytes);
  return h;
}

bool write_all(int fd, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// The two size fields, for `data` bytes of PCM (a WAV's sizes are 32-bit: capped).
void write_sizes(int fd, uint64_t data) {
  const uint32_t d = data > 0xFFFFFFFFull - 36 ? 0xFFFFFFFFu - 36 : static_cast<uint32_t>(data);
  uint8_t riff[4], size[4];
  put_u32(riff, 36 + d);
  put_u32(size, d);
  [[maybe_unused]] ssize_t a = ::pwrite(fd, riff, 4, 4);
  [[maybe_unused]] ssize_t b = ::pwrite(fd, size, 4, 40);
}

}  // namespace

WavFile::~WavFile() {
  if (fd_ >= 0) ::close(fd_);
}

bool WavFile::open(const std::string& path, int sample_rate, int channels, std::string* error) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd_ < 0) {
    if (error) *error = path + ": " + std::strerror(errno);
    return false;
  }
  channels_ = channels;
  data_bytes_ = 0;
  const auto h = header(sample_rate, channels, 0);
  if (!write_all(fd_, h.data(), h.size())) {
    if (error) *error = path + ": " + std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  return true;
}

bool WavFile::append(const void* data, size_t bytes) {
  if (fd_ < 0) return false;
  if (!write_all(fd_, data, bytes)) return false;
  data_bytes_ += bytes;
  return true;
}

uint64_t WavFile::finish() {
  if (fd_ < 0) return data_bytes_;
  write_sizes(fd_, data_bytes_);
  ::close(fd_);
  fd_ = -1;
  return data_bytes_;
}

int64_t repair_wav(const std::string& path, std::string* error) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    if (error) *error = path + ": " + std::strerror(errno);
    return -1;
  }
  struct stat st {};
  uint8_t h[kWavHeaderBytes];
  const bool read_ok = ::fstat(fd, &st) == 0 && st.st_size >= static_cast<off_t>(kWavHeaderBytes) &&
                       ::pread(fd, h, sizeof h, 0) == static_cast<ssize_t>(sizeof h);
  if (!read_ok || std::memcmp(h, "RIFF", 4) != 0 || std::memcmp(h + 8, "WAVEfmt ", 8) != 0 ||
      get_u32(h + 16) != 16 || std::memcmp(h + 36, "data", 4) != 0 || get_u16(h + 34) != 16) {
    ::close(fd);
    if (error) *error = path + ": not a recording this server wrote";
    return -1;
  }
  const uint64_t frame = uint64_t(get_u16(h + 32)) == 0 ? 2 : get_u16(h + 32);
  uint64_t data = static_cast<uint64_t>(st.st_size) - kWavHeaderBytes;
  data -= data % frame;  // the last sample frame may have been cut by the crash
  if (::ftruncate(fd, static_cast<off_t>(kWavHeaderBytes + data)) != 0 && error) {
    *error = path + ": " + std::strerror(errno);
  }
  write_sizes(fd, data);
  ::close(fd);
  return static_cast<int64_t>(data);
}

}  // namespace atende::recording
