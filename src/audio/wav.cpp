#include "audio/wav.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>

namespace atende::audio {
namespace {

constexpr uint16_t kFormatPcm = 1;
constexpr uint16_t kFormatExtensible = 0xFFFE;
constexpr int kMaxSampleRate = 384000;

uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
void put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v));
  out.push_back(static_cast<uint8_t>(v >> 8));
}
void put32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put_tag(std::vector<uint8_t>& out, const char* tag) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(tag[i]));
}

WavResult fail(std::string message) {
  WavResult r;
  r.error = "wav: " + std::move(message);
  return r;
}

struct Format {
  uint16_t channels = 0;
  uint32_t sample_rate = 0;
  uint16_t block_align = 0;
};

// Checks a fmt chunk body; returns an empty string when we can read this format.
std::string check_format(std::span<const uint8_t> body, Format& fmt) {
  if (body.size() < 16) return "fmt chunk too short";
  uint16_t tag = le16(&body[0]);
  fmt.channels = le16(&body[2]);
  fmt.sample_rate = le32(&body[4]);
  fmt.block_align = le16(&body[12]);
  uint16_t bits = le16(&body[14]);
  if (tag == kFormatExtensible) {
    // cbSize(2) validBits(2) channelMask(4) subFormat GUID(16): first 2 bytes = real tag.
    if (body.size() < 40) return "EXTENSIBLE fmt chunk too short";
    tag = le16(&body[24]);
  }
  if (tag != kFormatPcm) return "unsupported format tag " + std::to_string(tag) + " (need PCM)";
  if (bits != 16) return "unsupported bits per sample " + std::to_string(bits) + " (need 16)";
  if (fmt.channels != 1 && fmt.channels != 2) {
    return "unsupported channel count " + std::to_string(fmt.channels) + " (need 1 or 2)";
  }
  if (fmt.sample_rate == 0 || fmt.sample_rate > kMaxSampleRate) {
    return "unsupported sample rate " + std::to_string(fmt.sample_rate);
  }
  if (fmt.block_align != 2 * fmt.channels) return "inconsistent block align";
  return {};
}

}  // namespace

WavResult parse_wav(std::span<const uint8_t> bytes) {
  if (bytes.size() < 12) return fail("file too short for a RIFF header");
  if (std::memcmp(bytes.data(), "RIFF", 4) != 0 || std::memcmp(bytes.data() + 8, "WAVE", 4) != 0) {
    return fail("not a RIFF/WAVE file");
  }
  Format fmt;
  bool have_fmt = false;
  size_t pos = 12;
  // Each iteration consumes at least an 8-byte header, so the loop ends on any input.
  while (bytes.size() - pos >= 8) {
    const uint8_t* header = bytes.data() + pos;
    const size_t declared = le32(header + 4);
    pos += 8;
    const size_t available = bytes.size() - pos;
    if (std::memcmp(header, "fmt ", 4) == 0) {
      if (declared > available) return fail("fmt chunk runs past end of file");
      if (std::string why = check_format(bytes.subspan(pos, declared), fmt); !why.empty()) {
        return fail(why);
      }
      have_fmt = true;
    } else if (std::memcmp(header, "data", 4) == 0) {
      if (!have_fmt) return fail("data chunk before fmt chunk");
      const size_t size = std::min(declared, available);
      const size_t frames = size / fmt.block_align;
      WavResult r;
      r.clip.sample_rate = static_cast<int>(fmt.sample_rate);
      r.clip.pcm.resize(frames);
      const uint8_t* p = bytes.data() + pos;
      for (size_t i = 0; i < frames; ++i, p += fmt.block_align) {
        if (fmt.channels == 1) {
          r.clip.pcm[i] = static_cast<int16_t>(le16(p));
        } else {
          int left = static_cast<int16_t>(le16(p));
          int right = static_cast<int16_t>(le16(p + 2));
          r.clip.pcm[i] = static_cast<int16_t>((left + right) / 2);
        }
      }
      return r;
    }
    // Chunks are padded to an even size.
    const size_t skip = declared + (declared & 1);
    if (skip >= available) break;
    pos += skip;
  }
  return fail(have_fmt ? "no data chunk" : "no fmt chunk");
}

WavResult read_wav_file(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) return fail("cannot open " + path + ": " + std::strerror(errno));
  std::vector<uint8_t> bytes;
  uint8_t buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, file.get())) > 0) {
    if (bytes.size() + n > kMaxWavFileBytes) return fail(path + " is larger than the limit");
    bytes.insert(bytes.end(), buf, buf + n);
  }
  if (std::ferror(file.get())) return fail("read error on " + path);
  WavResult r = parse_wav(bytes);
  if (r.ok()) {
    r.clip.label = path;
  } else {
    r.error += " (" + path + ")";
  }
  return r;
}

std::vector<uint8_t> encode_wav(std::span<const int16_t> pcm, int sample_rate) {
  const auto data_bytes = static_cast<uint32_t>(pcm.size() * 2);
  std::vector<uint8_t> out;
  out.reserve(44 + data_bytes);
  put_tag(out, "RIFF");
  put32(out, 36 + data_bytes);
  put_tag(out, "WAVE");
  put_tag(out, "fmt ");
  put32(out, 16);
  put16(out, kFormatPcm);
  put16(out, 1);  // channels
  put32(out, static_cast<uint32_t>(sample_rate));
  put32(out, static_cast<uint32_t>(sample_rate) * 2);  // byte rate
  put16(out, 2);                                       // block align
  put16(out, 16);                                      // bits per sample
  put_tag(out, "data");
  put32(out, data_bytes);
  for (int16_t s : pcm) put16(out, static_cast<uint16_t>(s));
  return out;
}

bool write_wav_file(const std::string& path, std::span<const int16_t> pcm, int sample_rate,
                    std::string* error) {
  auto set_error = [&](const std::string& msg) {
    if (error) *error = "wav: " + msg;
    return false;
  };
  // The RIFF size fields are 32-bit.
  if (pcm.size() > (UINT32_MAX - 36) / 2) return set_error("too many samples for a WAV file");
  if (sample_rate <= 0 || sample_rate > kMaxSampleRate) return set_error("bad sample rate");
  std::vector<uint8_t> bytes = encode_wav(pcm, sample_rate);
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!file) return set_error("cannot create " + path + ": " + std::strerror(errno));
  if (std::fwrite(bytes.data(), 1, bytes.size(), file.get()) != bytes.size()) {
    return set_error("short write to " + path);
  }
  if (std::fclose(file.release()) != 0) return set_error("close failed for " + path);
  return true;
}

}  // namespace atende::audio
