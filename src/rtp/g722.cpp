// G.722 at 64 kbit/s through spandsp. Audio is 16 kHz, but the RTP clock is 8000 (an
// historical error frozen by RFC 3551 4.5.2), so a 20 ms frame is 320 samples, 160 bytes,
// and advances the RTP timestamp by 160.
#include <spandsp.h>

#include <algorithm>
#include <memory>

#include "rtp/builtin_codecs.h"
#include "rtp/concealment.h"

namespace atende::rtp {
namespace {

constexpr int kG722SampleRate = 16000;
constexpr int kG722ClockRate = 8000;
constexpr int kG722FrameSamples = samples_per_frame(kG722SampleRate);  // 320
constexpr size_t kG722FrameBytes = kG722FrameSamples / 2;              // 4 bits per sample

struct EncoderStateDeleter {
  void operator()(g722_encode_state_t* s) const { g722_encode_free(s); }
};
struct DecoderStateDeleter {
  void operator()(g722_decode_state_t* s) const { g722_decode_free(s); }
};

class G722Encoder final : public Encoder {
 public:
  G722Encoder() : state_(g722_encode_init(nullptr, 64000, 0)) {}

  size_t encode(const AudioFrame& frame, std::span<uint8_t> out) override {
    if (!state_ || frame.sample_rate != kG722SampleRate || frame.samples <= 0 ||
        frame.samples > kMaxFrameSamples || frame.samples % 2 != 0)
      return 0;
    const size_t bytes = static_cast<size_t>(frame.samples) / 2;
    if (out.size() < bytes) return 0;
    const int n = g722_encode(state_.get(), out.data(), frame.pcm.data(), frame.samples);
    return n > 0 ? static_cast<size_t>(n) : 0;
  }

 private:
  std::unique_ptr<g722_encode_state_t, EncoderStateDeleter> state_;
};

class G722Decoder final : public Decoder {
 public:
  G722Decoder() : state_(g722_decode_init(nullptr, 64000, 0)) {}

  int decode(std::span<const uint8_t> payload, AudioFrame& frame) override {
    frame.sample_rate = kG722SampleRate;
    frame.samples = 0;
    // Each byte gives two samples: cap the input so the output fits one frame.
    const size_t bytes = std::min(payload.size(), kG722FrameBytes);
    if (!state_ || bytes == 0) return 0;
    const int n =
        g722_decode(state_.get(), frame.pcm.data(), payload.data(), static_cast<int>(bytes));
    frame.samples = std::clamp(n, 0, kMaxFrameSamples);
    concealer_.on_good({frame.pcm.data(), static_cast<size_t>(frame.samples)});
    return frame.samples;
  }

  void conceal(AudioFrame& frame) override {
    frame.sample_rate = kG722SampleRate;
    frame.samples = kG722FrameSamples;
    concealer_.fill({frame.pcm.data(), static_cast<size_t>(kG722FrameSamples)});
  }

 private:
  Concealer concealer_{kG722SampleRate};
  std::unique_ptr<g722_decode_state_t, DecoderStateDeleter> state_;
};

std::unique_ptr<Encoder> make_g722_encoder() { return std::make_unique<G722Encoder>(); }
std::unique_ptr<Decoder> make_g722_decoder() { return std::make_unique<G722Decoder>(); }

}  // namespace

namespace detail {
const Codec kG722{
    "G722",           9, kG722ClockRate, kG722SampleRate, kG722FrameBytes, make_g722_encoder,
    make_g722_decoder};
}  // namespace detail

}  // namespace atende::rtp
