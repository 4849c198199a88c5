// Audio codecs, found by name in a tiny registry (the baresip way): the SIP/SDP side picks
// a name, media asks find_codec() for it and gets an Encoder/Decoder pair per call, and
// nothing else in atende knows which codec it is. Built-in: PCMU, PCMA (G.711), G722.
//
// Encoders and decoders are created at call setup (that allocates once); encode() and
// decode() then run every 20 ms on the media thread without allocating or throwing.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "core/audio_frame.h"

namespace atende::rtp {

// Payload type field value for codecs with no static PT (negotiated in SDP, 96..127).
constexpr int kDynamicPayloadType = -1;

class Encoder {
 public:
  virtual ~Encoder() = default;
  // Encodes one frame at the codec's sample_rate into `out`. Returns bytes written, or 0
  // if the frame has the wrong rate/size or `out` is too small (nothing is written then).
  virtual size_t encode(const AudioFrame& frame, std::span<uint8_t> out) = 0;
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Decodes one payload into `frame` (sample_rate set to the codec's). Samples beyond one
  // 20 ms frame are dropped, a short payload gives a short frame (frame.samples tells).
  // Returns the number of samples written; 0 for an empty payload.
  virtual int decode(std::span<const uint8_t> payload, AudioFrame& frame) = 0;
  // A frame for a lost packet. Default: silence; codecs with a concealment do better.
  virtual void conceal(AudioFrame& frame);
};

struct Codec {
  std::string_view name;  // SDP encoding name, matched case-insensitively ("PCMU")
  int payload_type;       // static RTP payload type, or kDynamicPayloadType
  int clock_rate;         // RTP timestamp rate (G.722: 8000, RFC 3551 4.5.2)
  int sample_rate;        // PCM rate of frames in and out (G.722: 16000)
  size_t frame_bytes;     // encoded size of one 20 ms frame
  std::unique_ptr<Encoder> (*make_encoder)();
  std::unique_ptr<Decoder> (*make_decoder)();

  // RTP timestamp advance per 20 ms frame.
  uint32_t timestamp_step() const { return static_cast<uint32_t>(clock_rate / 50); }
};

// Looks up a codec by SDP name (case-insensitive). nullptr if unknown.
const Codec* find_codec(std::string_view name);
// Looks up a codec by static payload type (0 -> PCMU, 8 -> PCMA, 9 -> G722).
const Codec* find_codec_by_payload_type(int payload_type);
// All registered codecs, built-ins first, in preference order.
std::span<const Codec* const> codecs();
// Adds a codec at startup (before media threads run; not thread-safe). The Codec must
// outlive the process. Returns false if the name is taken or the registry is full.
bool register_codec(const Codec& codec);

// G.711 sample conversions, ITU-T G.711 exactly (exposed for tests and for tone/DTMF code).
uint8_t linear_to_ulaw(int16_t sample);
int16_t ulaw_to_linear(uint8_t code);
uint8_t linear_to_alaw(int16_t sample);
int16_t alaw_to_linear(uint8_t code);

}  // namespace atende::rtp
