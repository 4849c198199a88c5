// ITU-T G.711 µ-law and A-law, following the ITU/Sun reference code (14-bit µ-law and
// 13-bit A-law magnitudes taken from the top of a 16-bit sample). Lost frames are
// concealed by Concealer (G.711 Appendix I style).
#include <algorithm>
#include <array>
#include <memory>

#include "rtp/builtin_codecs.h"
#include "rtp/concealment.h"

namespace atende::rtp {
namespace {

constexpr int kSignBit = 0x80;
constexpr int kQuantMask = 0x0F;
constexpr int kSegShift = 4;
constexpr int kSegMask = 0x70;

// Index of the first segment whose end is >= value (8 when beyond the last).
constexpr int segment(int value, const int (&ends)[8]) {
  for (int i = 0; i < 8; ++i)
    if (value <= ends[i]) return i;
  return 8;
}

constexpr int kUlawBias = 0x21;  // in the 14-bit domain
constexpr int kUlawClip = 8159;
constexpr int kUlawSegEnd[8] = {0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF};
constexpr int kAlawSegEnd[8] = {0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF};

// The reference algorithms; the codecs below use tables built from them at compile time.

constexpr uint8_t linear_to_ulaw_ref(int16_t sample) {
  int value = sample >> 2;
  int mask;
  if (value < 0) {
    value = -value;
    mask = 0x7F;
  } else {
    mask = 0xFF;
  }
  if (value > kUlawClip) value = kUlawClip;
  value += kUlawBias;
  const int seg = segment(value, kUlawSegEnd);
  if (seg >= 8) return static_cast<uint8_t>(0x7F ^ mask);
  const int code = (seg << 4) | ((value >> (seg + 1)) & 0xF);
  return static_cast<uint8_t>(code ^ mask);
}

constexpr int16_t ulaw_to_linear_ref(uint8_t code) {
  const int u = ~code & 0xFF;
  int t = ((u & kQuantMask) << 3) + (kUlawBias << 2);
  t <<= (u & kSegMask) >> kSegShift;
  return static_cast<int16_t>((u & kSignBit) ? ((kUlawBias << 2) - t) : (t - (kUlawBias << 2)));
}

constexpr uint8_t linear_to_alaw_ref(int16_t sample) {
  int value = sample >> 3;
  int mask;
  if (value >= 0) {
    mask = 0xD5;  // sign bit set, even bits inverted
  } else {
    mask = 0x55;
    value = -value - 1;
  }
  const int seg = segment(value, kAlawSegEnd);
  if (seg >= 8) return static_cast<uint8_t>(0x7F ^ mask);
  int code = seg << kSegShift;
  code |= (seg < 2) ? ((value >> 1) & kQuantMask) : ((value >> seg) & kQuantMask);
  return static_cast<uint8_t>(code ^ mask);
}

constexpr int16_t alaw_to_linear_ref(uint8_t code) {
  const int a = code ^ 0x55;
  int t = (a & kQuantMask) << 4;
  const int seg = (a & kSegMask) >> kSegShift;
  if (seg == 0) {
    t += 8;
  } else {
    t += 0x108;
    t <<= seg - 1;
  }
  return static_cast<int16_t>((a & kSignBit) ? t : -t);
}

// Tables: the media path converts 160 samples each way per call every 20 ms, and a lookup
// is several times cheaper than the segment search. Compression tables are indexed by the
// magnitude bits the reference keeps (14 for µ-law, 13 for A-law), so they agree exactly.
template <typename Out, int kBits, Out (*kFn)(int16_t)>
constexpr std::array<Out, (1 << kBits)> compress_table() {
  std::array<Out, (1 << kBits)> t{};
  for (int i = 0; i < (1 << kBits); ++i) {
    const int v = i - (1 << (kBits - 1));  // signed kBits-bit value
    t[i] = kFn(static_cast<int16_t>(v * (1 << (16 - kBits))));
  }
  return t;
}

template <int16_t (*kFn)(uint8_t)>
constexpr std::array<int16_t, 256> expand_table() {
  std::array<int16_t, 256> t{};
  for (int i = 0; i < 256; ++i) t[i] = kFn(static_cast<uint8_t>(i));
  return t;
}

constexpr auto kUlawCompress = compress_table<uint8_t, 14, linear_to_ulaw_ref>();
constexpr auto kAlawCompress = compress_table<uint8_t, 13, linear_to_alaw_ref>();
constexpr auto kUlawExpand = expand_table<ulaw_to_linear_ref>();
constexpr auto kAlawExpand = expand_table<alaw_to_linear_ref>();

}  // namespace

uint8_t linear_to_ulaw(int16_t sample) { return kUlawCompress[(sample >> 2) + (1 << 13)]; }
int16_t ulaw_to_linear(uint8_t code) { return kUlawExpand[code]; }
uint8_t linear_to_alaw(int16_t sample) { return kAlawCompress[(sample >> 3) + (1 << 12)]; }
int16_t alaw_to_linear(uint8_t code) { return kAlawExpand[code]; }

namespace {

constexpr int kG711Rate = 8000;
constexpr int kG711FrameSamples = samples_per_frame(kG711Rate);  // 160 = 160 bytes

template <uint8_t (*kCompress)(int16_t)>
class G711Encoder final : public Encoder {
 public:
  size_t encode(const AudioFrame& frame, std::span<uint8_t> out) override {
    if (frame.sample_rate != kG711Rate || frame.samples <= 0 || frame.samples > kMaxFrameSamples ||
        out.size() < static_cast<size_t>(frame.samples))
      return 0;
    for (int i = 0; i < frame.samples; ++i) out[i] = kCompress(frame.pcm[i]);
    return static_cast<size_t>(frame.samples);
  }
};

template <int16_t (*kExpand)(uint8_t)>
class G711Decoder final : public Decoder {
 public:
  int decode(std::span<const uint8_t> payload, AudioFrame& frame) override {
    const size_t n = std::min(payload.size(), static_cast<size_t>(kG711FrameSamples));
    frame.sample_rate = kG711Rate;
    frame.samples = static_cast<int>(n);
    for (size_t i = 0; i < n; ++i) frame.pcm[i] = kExpand(payload[i]);
    concealer_.on_good({frame.pcm.data(), n});
    return static_cast<int>(n);
  }

  void conceal(AudioFrame& frame) override {
    frame.sample_rate = kG711Rate;
    frame.samples = kG711FrameSamples;
    concealer_.fill({frame.pcm.data(), static_cast<size_t>(kG711FrameSamples)});
  }

 private:
  Concealer concealer_{kG711Rate};
};

std::unique_ptr<Encoder> make_pcmu_encoder() {
  return std::make_unique<G711Encoder<linear_to_ulaw>>();
}
std::unique_ptr<Decoder> make_pcmu_decoder() {
  return std::make_unique<G711Decoder<ulaw_to_linear>>();
}
std::unique_ptr<Encoder> make_pcma_encoder() {
  return std::make_unique<G711Encoder<linear_to_alaw>>();
}
std::unique_ptr<Decoder> make_pcma_decoder() {
  return std::make_unique<G711Decoder<alaw_to_linear>>();
}

}  // namespace

namespace detail {
const Codec kPcmu{"PCMU",           0, kG711Rate, kG711Rate, kG711FrameSamples, make_pcmu_encoder,
                  make_pcmu_decoder};
const Codec kPcma{"PCMA",           8, kG711Rate, kG711Rate, kG711FrameSamples, make_pcma_encoder,
                  make_pcma_decoder};
}  // namespace detail

}  // namespace atende::rtp
