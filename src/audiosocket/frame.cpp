#include "audiosocket/frame.h"

#include <cstring>

namespace atende::audiosocket {

int audio_rate(uint8_t type) {
  switch (type) {
    case 0x10:
      return 8000;
    case 0x11:
      return 12000;
    case 0x12:
      return 16000;
    case 0x13:
      return 24000;
    case 0x14:
      return 32000;
    case 0x15:
      return 44100;
    case 0x16:
      return 48000;
    case 0x17:
      return 96000;
    case 0x18:
      return 192000;
    default:
      return 0;
  }
}

uint8_t audio_kind_for_rate(int rate) {
  for (uint8_t t = 0x10; t <= 0x18; ++t) {
    if (audio_rate(t) == rate) return t;
  }
  return 0;
}

bool is_known_kind(uint8_t type) {
  return type == 0x00 || type == 0x01 || type == 0x03 || type == 0xff || audio_rate(type) != 0;
}

std::string kind_name(uint8_t type) {
  switch (type) {
    case 0x00:
      return "hangup";
    case 0x01:
      return "uuid";
    case 0x03:
      return "dtmf";
    case 0xff:
      return "error";
    default:
      break;
  }
  if (int rate = audio_rate(type)) return "audio" + std::to_string(rate);
  static const char* hex = "0123456789abcdef";
  return std::string("0x") + hex[type >> 4] + hex[type & 15];
}

const char* to_string(ReadStatus s) {
  switch (s) {
    case ReadStatus::kFrame:
      return "frame";
    case ReadStatus::kNeedMore:
      return "need_more";
    case ReadStatus::kTooLong:
      return "frame_too_long";
    case ReadStatus::kUnknown:
      return "unknown_frame_type";
    case ReadStatus::kBadLength:
      return "bad_frame_length";
  }
  return "?";
}

std::span<uint8_t> FrameReader::space() {
  if (begin_ == end_) begin_ = end_ = 0;
  // Room is made only when the tail is short of a whole frame: a move per read at most,
  // of less than one frame.
  if (buf_.size() - end_ < kMaxFrameSize) compact();
  return {buf_.data() + end_, buf_.size() - end_};
}

void FrameReader::commit(size_t n) { end_ += std::min(n, buf_.size() - end_); }

size_t FrameReader::append(std::span<const uint8_t> data) {
  auto room = space();
  const size_t n = std::min(room.size(), data.size());
  if (n) std::memcpy(room.data(), data.data(), n);
  commit(n);
  return n;
}

void FrameReader::compact() {
  if (begin_ == 0) return;
  std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
  end_ -= begin_;
  begin_ = 0;
}

ReadStatus FrameReader::next(Frame& out) {
  if (failed_ != ReadStatus::kNeedMore) return failed_;
  if (pending() < kHeaderSize) return ReadStatus::kNeedMore;
  const uint8_t* h = buf_.data() + begin_;
  const uint8_t type = h[0];
  const size_t length = (size_t(h[1]) << 8) | h[2];
  // Judged on the header alone, before waiting for a payload that may never come.
  if (!is_known_kind(type)) return failed_ = ReadStatus::kUnknown;
  if (length > kMaxPayload) return failed_ = ReadStatus::kTooLong;
  const bool bad_length = (type == 0x01 && length != kUuidSize) || (type == 0x03 && length != 1) ||
                          (audio_rate(type) && (length == 0 || length % 2 != 0));
  if (bad_length) return failed_ = ReadStatus::kBadLength;
  if (pending() < kHeaderSize + length) return ReadStatus::kNeedMore;
  out.type = type;
  out.payload = {h + kHeaderSize, length};
  begin_ += kHeaderSize + length;
  return ReadStatus::kFrame;
}

void write_header(uint8_t* out, uint8_t type, size_t payload_size) {
  out[0] = type;
  out[1] = static_cast<uint8_t>(payload_size >> 8);
  out[2] = static_cast<uint8_t>(payload_size & 0xff);
}

size_t write_frame(std::span<uint8_t> out, uint8_t type, std::span<const uint8_t> payload) {
  if (payload.size() > kMaxPayload || out.size() < kHeaderSize + payload.size()) return 0;
  write_header(out.data(), type, payload.size());
  if (!payload.empty()) std::memcpy(out.data() + kHeaderSize, payload.data(), payload.size());
  return kHeaderSize + payload.size();
}

std::string uuid_to_string(std::span<const uint8_t> b) {
  static const char* hex = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (size_t i = 0; i < b.size() && i < kUuidSize; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
    s += hex[b[i] >> 4];
    s += hex[b[i] & 15];
  }
  return s;
}

bool uuid_from_string(std::string_view t, std::array<uint8_t, kUuidSize>& out) {
  if (t.size() != 36) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  size_t o = 0;
  for (size_t i = 0; i < t.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (t[i] != '-') return false;
      ++i;
      continue;
    }
    const int hi = nibble(t[i]), lo = nibble(t[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[o++] = static_cast<uint8_t>(hi << 4 | lo);
    i += 2;
  }
  return o == kUuidSize;
}

}  // namespace atende::audiosocket
