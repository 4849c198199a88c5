// Asterisk AudioSocket framing (docs/audiosocket.md): every message is a 3-byte header (type,
// then payload length as big-endian uint16) and the payload. FrameReader takes bytes as they
// come off a TCP stream, in any split, and hands out whole messages; it holds at most one
// message plus a header in a fixed buffer, so a peer can never make it grow. write_frame()
// builds a message into a caller's buffer. No allocation anywhere here.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace atende::audiosocket {

enum class Kind : uint8_t {
  kHangup = 0x00,
  kUuid = 0x01,
  kDtmf = 0x03,
  kAudio = 0x10,  // signed linear 16-bit little-endian, 8 kHz
  // 0x11..0x18: the same at 12, 16, 24, 32, 44.1, 48, 96 and 192 kHz (Asterisk 20.x+ /
  // 21.x+ send these from chan_audiosocket when the channel's format is slinNN).
  kAudioSlin12 = 0x11,
  kAudioSlin16 = 0x12,
  kAudioSlin24 = 0x13,
  kAudioSlin32 = 0x14,
  kAudioSlin44 = 0x15,
  kAudioSlin48 = 0x16,
  kAudioSlin96 = 0x17,
  kAudioSlin192 = 0x18,
  kError = 0xff,
};

constexpr size_t kHeaderSize = 3;
constexpr size_t kUuidSize = 16;
// The largest payload we accept: 40 ms at 96 kHz, 20 ms at 192 kHz (7,680 bytes), with room
// to spare. Asterisk sends 20 ms frames; anything longer is a broken or hostile peer.
constexpr size_t kMaxPayload = 8192;
constexpr size_t kMaxFrameSize = kHeaderSize + kMaxPayload;

// Sample rate of an audio kind; 0 when `type` is not audio.
int audio_rate(uint8_t type);
// The audio kind for a rate we can send; 0 (kHangup) when there is none.
uint8_t audio_kind_for_rate(int rate);
bool is_known_kind(uint8_t type);
// A printable name for logs ("audio8k", "uuid", "0x42").
std::string kind_name(uint8_t type);

struct Frame {
  uint8_t type = 0;
  std::span<const uint8_t> payload;  // valid until the reader's next append()/compact()
};

enum class ReadStatus {
  kFrame,      // `out` holds a whole message
  kNeedMore,   // no whole message buffered yet
  kTooLong,    // the header announces more than kMaxPayload: the stream cannot go on
  kUnknown,    // a type this protocol does not define: the stream cannot go on
  kBadLength,  // a known type with a length it cannot have (UUID not 16, DTMF not 1, odd audio)
};
const char* to_string(ReadStatus s);

class FrameReader {
 public:
  // Where the next bytes from the socket go (may be empty when the buffer is full; then the
  // caller must take frames with next() first).
  std::span<uint8_t> space();
  // `n` bytes were written into space().
  void commit(size_t n);
  // Copies what fits of `data` (for tests and the fuzzer); returns bytes taken.
  size_t append(std::span<const uint8_t> data);
  // The next message, or why there is none. After an error status the reader stays in it.
  ReadStatus next(Frame& out);
  // Bytes buffered and not yet handed out (a non-zero count at EOF is a truncated message).
  size_t pending() const { return end_ - begin_; }
  // Those bytes (what followed the UUID in the same read, handed on to the leg).
  std::span<const uint8_t> unread() const { return {buf_.data() + begin_, end_ - begin_}; }
  bool failed() const { return failed_ != ReadStatus::kNeedMore; }

 private:
  void compact();
  std::array<uint8_t, kMaxFrameSize * 2> buf_{};
  size_t begin_ = 0;
  size_t end_ = 0;
  ReadStatus failed_ = ReadStatus::kNeedMore;
};

// Writes one message into `out`; returns its size, or 0 when it does not fit or the payload
// is longer than kMaxPayload.
size_t write_frame(std::span<uint8_t> out, uint8_t type, std::span<const uint8_t> payload);
// The header alone (for audio written straight after it).
void write_header(uint8_t* out, uint8_t type, size_t payload_size);

// "8-4-4-4-12" lowercase hex of 16 bytes, as Asterisk's ${UUID()} prints it.
std::string uuid_to_string(std::span<const uint8_t> bytes);
// The reverse; false unless `text` is exactly that form (either case).
bool uuid_from_string(std::string_view text, std::array<uint8_t, kUuidSize>& out);

}  // namespace atende::audiosocket
