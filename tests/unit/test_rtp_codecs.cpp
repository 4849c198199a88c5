// Codec registry and the built-in codecs: G.711 against ITU code points and an independent
// companding-curve reference over all 65536 inputs; G.722 by round-tripping a sine.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <numbers>
#include <vector>

#include "rtp/codec.h"

namespace atende::rtp {
namespace {

TEST(CodecRegistry, FindsBuiltinsByNameAndPayloadType) {
  const Codec* pcmu = find_codec("PCMU");
  ASSERT_NE(pcmu, nullptr);
  EXPECT_EQ(pcmu->payload_type, 0);
  EXPECT_EQ(pcmu->clock_rate, 8000);
  EXPECT_EQ(pcmu->sample_rate, 8000);
  EXPECT_EQ(pcmu->frame_bytes, 160u);
  EXPECT_EQ(pcmu->timestamp_step(), 160u);
  EXPECT_EQ(find_codec("pcmu"), pcmu);  // SDP names are case-insensitive

  const Codec* pcma = find_codec("PCMA");
  ASSERT_NE(pcma, nullptr);
  EXPECT_EQ(pcma->payload_type, 8);

  const Codec* g722 = find_codec("G722");
  ASSERT_NE(g722, nullptr);
  EXPECT_EQ(g722->payload_type, 9);
  EXPECT_EQ(g722->clock_rate, 8000);  // RFC 3551: 8000 although audio is 16 kHz
  EXPECT_EQ(g722->sample_rate, 16000);
  EXPECT_EQ(g722->frame_bytes, 160u);
  EXPECT_EQ(g722->timestamp_step(), 160u);

  EXPECT_EQ(find_codec_by_payload_type(0), pcmu);
  EXPECT_EQ(find_codec_by_payload_type(8), pcma);
  EXPECT_EQ(find_codec_by_payload_type(9), g722);
  EXPECT_EQ(find_codec_by_payload_type(18), nullptr);
  EXPECT_EQ(find_codec("opus-not-built"), nullptr);
  EXPECT_EQ(find_codec(""), nullptr);
  EXPECT_EQ(find_codec("PCM"), nullptr);  // no prefix matches
  EXPECT_GE(codecs().size(), 3u);
}

TEST(CodecRegistry, RegisterRejectsTakenNameAndAcceptsNewOne) {
  static const Codec kDuplicate{"pcmu", 0, 8000, 8000, 160, nullptr, nullptr};
  EXPECT_FALSE(register_codec(kDuplicate));
  static const Codec kNoFactories{"X-EMPTY", kDynamicPayloadType, 8000, 8000, 160, nullptr,
                                  nullptr};
  EXPECT_FALSE(register_codec(kNoFactories));
  const Codec* pcmu = find_codec("PCMU");
  static const Codec kTest{"X-TEST",           kDynamicPayloadType, 8000, 8000, 160,
                           pcmu->make_encoder, pcmu->make_decoder};
  ASSERT_TRUE(register_codec(kTest));
  EXPECT_EQ(find_codec("x-test"), &kTest);
  EXPECT_FALSE(register_codec(kTest));
  // A dynamic codec is never found by a static payload type.
  EXPECT_EQ(find_codec_by_payload_type(kDynamicPayloadType), nullptr);
}

// ITU-T G.711 code points every implementation agrees on.
TEST(G711, MuLawKnownCodePoints) {
  EXPECT_EQ(linear_to_ulaw(0), 0xFF);
  EXPECT_EQ(ulaw_to_linear(0xFF), 0);
  EXPECT_EQ(ulaw_to_linear(0x7F), 0);  // "negative zero"
  EXPECT_EQ(ulaw_to_linear(0x80), 32124);
  EXPECT_EQ(ulaw_to_linear(0x00), -32124);
  EXPECT_EQ(linear_to_ulaw(32767), 0x80);
  EXPECT_EQ(linear_to_ulaw(-32768), 0x00);
  EXPECT_EQ(ulaw_to_linear(0xFE), 8);
  EXPECT_EQ(ulaw_to_linear(0xEF), 132);  // first step of segment 1
}

TEST(G711, ALawKnownCodePoints) {
  EXPECT_EQ(linear_to_alaw(0), 0xD5);
  EXPECT_EQ(alaw_to_linear(0xD5), 8);
  EXPECT_EQ(alaw_to_linear(0x55), -8);
  EXPECT_EQ(alaw_to_linear(0xAA), 32256);
  EXPECT_EQ(alaw_to_linear(0x2A), -32256);
  EXPECT_EQ(linear_to_alaw(32767), 0xAA);
  EXPECT_EQ(linear_to_alaw(-32768), 0x2A);
  EXPECT_EQ(linear_to_alaw(-1), 0x55);
}

// Signed position of a code on its law's curve: 0 at zero, +-127 at full scale.
int ulaw_index(uint8_t code) {
  const int magnitude = 127 - (code & 0x7F);
  return (code & 0x80) ? magnitude : -magnitude;
}
int alaw_index(uint8_t code) {
  const bool positive = (code & 0x80) != 0;
  const int magnitude = (code ^ (positive ? 0xD5 : 0x55)) & 0x7F;
  return positive ? magnitude : -magnitude;
}

// The continuous companding laws G.711's segments approximate (mu = 255, A = 87.6).
double mu_law_curve(int x) {
  const double u = std::abs(x) / 32768.0;
  return 128.0 * std::log1p(255.0 * u) / std::log(256.0);
}
double a_law_curve(int x) {
  const double a = 87.6, u = std::abs(x) / 32768.0;
  const double y =
      u < 1 / a ? a * u / (1 + std::log(a)) : (1 + std::log(a * u)) / (1 + std::log(a));
  return 128.0 * y;
}

TEST(G711, MuLawAllInputsFollowTheCurveAndRoundTripWithinHalfAStep) {
  int previous_index = -128;
  for (int x = -32768; x <= 32767; ++x) {
    const uint8_t code = linear_to_ulaw(static_cast<int16_t>(x));
    const int index = ulaw_index(code);
    // Monotonic: a louder input never gets a lower code.
    ASSERT_GE(index, previous_index) << x;
    previous_index = index;
    // The segmented code stays within a few steps of the ideal logarithmic curve.
    ASSERT_LE(std::abs(std::abs(index) - mu_law_curve(x)), 2.5) << x;
    // Quantisation error: half a step, steps being ~1/16 of (|x| + bias) in each segment.
    const int decoded = ulaw_to_linear(code);
    if (std::abs(x) <= 32635) {
      ASSERT_LE(std::abs(decoded - x), (std::abs(x) + 132) / 32.0 + 4) << x;
    } else {
      ASSERT_EQ(std::abs(decoded), 32124) << x;  // clipped to full scale
    }
  }
}

TEST(G711, ALawAllInputsFollowTheCurveAndRoundTripWithinHalfAStep) {
  int previous_index = -128;
  for (int x = -32768; x <= 32767; ++x) {
    const uint8_t code = linear_to_alaw(static_cast<int16_t>(x));
    const int index = alaw_index(code);
    ASSERT_GE(index, previous_index) << x;
    previous_index = index;
    ASSERT_LE(std::abs(std::abs(index) - a_law_curve(x)), 2.5) << x;
    const int decoded = alaw_to_linear(code);
    ASSERT_LE(std::abs(decoded - x), std::max(8.0, std::abs(x) / 32.0)) << x;
  }
}

TEST(G711, DecodeTablesAreMonotonicAndSymmetric) {
  for (int m = 1; m < 128; ++m) {
    // Codes by increasing magnitude: µ-law 0xFF..0x80, A-law (m ^ 0xD5).
    EXPECT_GT(ulaw_to_linear(static_cast<uint8_t>(0xFF - m)),
              ulaw_to_linear(static_cast<uint8_t>(0xFF - m + 1)));
    EXPECT_GT(alaw_to_linear(static_cast<uint8_t>(m ^ 0xD5)),
              alaw_to_linear(static_cast<uint8_t>((m - 1) ^ 0xD5)));
  }
  for (int c = 0; c < 128; ++c) {
    EXPECT_EQ(ulaw_to_linear(static_cast<uint8_t>(c)),
              -ulaw_to_linear(static_cast<uint8_t>(c | 0x80)));
    EXPECT_EQ(alaw_to_linear(static_cast<uint8_t>(c)),
              -alaw_to_linear(static_cast<uint8_t>(c | 0x80)));
  }
}

AudioFrame sine_frame(int rate, double hz, double amplitude, int frame_index) {
  AudioFrame f = AudioFrame::silence(rate);
  for (int i = 0; i < f.samples; ++i) {
    const double t = static_cast<double>(frame_index * f.samples + i) / rate;
    f.pcm[i] = static_cast<int16_t>(amplitude * std::sin(2 * std::numbers::pi * hz * t));
  }
  return f;
}

TEST(G711Codec, EncodeDecodeFrame) {
  for (const char* name : {"PCMU", "PCMA"}) {
    const Codec* c = find_codec(name);
    ASSERT_NE(c, nullptr);
    auto enc = c->make_encoder();
    auto dec = c->make_decoder();
    const AudioFrame in = sine_frame(8000, 440, 10000, 0);
    std::vector<uint8_t> bytes(c->frame_bytes);
    ASSERT_EQ(enc->encode(in, bytes), 160u) << name;
    AudioFrame out;
    ASSERT_EQ(dec->decode(bytes, out), 160) << name;
    EXPECT_EQ(out.sample_rate, 8000);
    EXPECT_EQ(out.samples, 160);
    for (int i = 0; i < 160; ++i) EXPECT_NEAR(out.pcm[i], in.pcm[i], 10000 / 32 + 8) << i;
  }
}

TEST(G711Codec, RejectsWrongFramesAndBoundsInput) {
  const Codec* c = find_codec("PCMU");
  auto enc = c->make_encoder();
  auto dec = c->make_decoder();
  std::vector<uint8_t> small(100);
  EXPECT_EQ(enc->encode(AudioFrame::silence(8000), small), 0u);  // buffer too small
  std::vector<uint8_t> bytes(400);
  EXPECT_EQ(enc->encode(AudioFrame::silence(16000), bytes), 0u);  // wrong rate

  AudioFrame out;
  std::vector<uint8_t> huge(2000, 0xFF);  // far more than one frame: must not overflow
  const int n = dec->decode(huge, out);
  EXPECT_LE(n, kMaxFrameSamples);
  EXPECT_LE(out.samples, kMaxFrameSamples);
  EXPECT_EQ(dec->decode({}, out), 0);
}

double best_correlation(const std::vector<int16_t>& a, const std::vector<int16_t>& b, int max_lag) {
  double best = 0;
  for (int lag = 0; lag <= max_lag; ++lag) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i + lag < b.size() && i < a.size(); ++i) {
      ab += double(a[i]) * b[i + lag];
      aa += double(a[i]) * a[i];
      bb += double(b[i + lag]) * b[i + lag];
    }
    if (aa > 0 && bb > 0) best = std::max(best, ab / std::sqrt(aa * bb));
  }
  return best;
}

TEST(G722Codec, SineRoundTripKeepsCorrelation) {
  const Codec* c = find_codec("G722");
  ASSERT_NE(c, nullptr);
  auto enc = c->make_encoder();
  auto dec = c->make_decoder();
  std::vector<int16_t> sent, heard;
  for (int f = 0; f < 50; ++f) {
    // 1 kHz plus 5 kHz: the second tone lives in G.722's upper sub-band.
    AudioFrame in = sine_frame(16000, 1000, 6000, f);
    const AudioFrame hi = sine_frame(16000, 5000, 3000, f);
    for (int i = 0; i < in.samples; ++i) in.pcm[i] = static_cast<int16_t>(in.pcm[i] + hi.pcm[i]);
    std::vector<uint8_t> bytes(c->frame_bytes);
    ASSERT_EQ(enc->encode(in, bytes), 160u);
    AudioFrame out;
    ASSERT_EQ(dec->decode(bytes, out), 320);
    EXPECT_EQ(out.sample_rate, 16000);
    if (f >= 5) {  // skip the codec's start-up transient
      sent.insert(sent.end(), in.pcm.begin(), in.pcm.begin() + in.samples);
      heard.insert(heard.end(), out.pcm.begin(), out.pcm.begin() + out.samples);
    }
  }
  // The QMF filter bank delays the signal by a few dozen samples.
  EXPECT_GT(best_correlation(sent, heard, 80), 0.95);
  // And a silent input decodes to something quiet, not to the tone (state is per call).
  AudioFrame quiet;
  std::vector<uint8_t> bytes(c->frame_bytes);
  auto enc2 = c->make_encoder();
  auto dec2 = c->make_decoder();
  for (int f = 0; f < 5; ++f) {
    ASSERT_EQ(enc2->encode(AudioFrame::silence(16000), bytes), 160u);
    ASSERT_EQ(dec2->decode(bytes, quiet), 320);
  }
  int peak = 0;
  for (int i = 0; i < quiet.samples; ++i) peak = std::max(peak, std::abs(int(quiet.pcm[i])));
  EXPECT_LT(peak, 100);
}

TEST(G722Codec, BoundsOversizedPayload) {
  const Codec* c = find_codec("G722");
  auto dec = c->make_decoder();
  AudioFrame out;
  std::vector<uint8_t> huge(5000, 0x5A);
  EXPECT_LE(dec->decode(huge, out), kMaxFrameSamples);
  EXPECT_LE(out.samples, kMaxFrameSamples);
  auto enc = c->make_encoder();
  std::vector<uint8_t> bytes(200);
  EXPECT_EQ(enc->encode(AudioFrame::silence(8000), bytes), 0u);  // needs 16 kHz frames
}

}  // namespace
}  // namespace atende::rtp
