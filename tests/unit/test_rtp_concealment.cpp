// Packet loss concealment: a lost frame continues the recent waveform, fades to silence
// after ~60 ms of loss, and never reads or writes outside its buffers.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "rtp/codec.h"
#include "rtp/concealment.h"

namespace atende::rtp {
namespace {

std::vector<int16_t> tone(int rate, double hz, double amplitude, int first, int count) {
  std::vector<int16_t> v(count);
  for (int i = 0; i < count; ++i)
    v[i] =
        static_cast<int16_t>(amplitude * std::sin(2 * std::numbers::pi * hz * (first + i) / rate));
  return v;
}

double correlation(const std::vector<int16_t>& a, const std::vector<int16_t>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    ab += double(a[i]) * b[i];
    aa += double(a[i]) * a[i];
    bb += double(b[i]) * b[i];
  }
  return (aa > 0 && bb > 0) ? ab / std::sqrt(aa * bb) : 0;
}

double rms(const std::vector<int16_t>& v) {
  double s = 0;
  for (int16_t x : v) s += double(x) * x;
  return v.empty() ? 0 : std::sqrt(s / v.size());
}

void check_rate(int rate) {
  const int n = rate / 50;
  Concealer plc(rate);
  for (int f = 0; f < 10; ++f) {
    auto frame = tone(rate, 400, 8000, f * n, n);
    plc.on_good(frame);
  }
  std::vector<int16_t> lost(n);
  plc.fill(lost);
  // The first lost frame continues the tone where it left off.
  EXPECT_GT(correlation(lost, tone(rate, 400, 8000, 10 * n, n)), 0.8) << rate;
  EXPECT_GT(rms(lost), 2000) << rate;
  // A long loss fades out instead of buzzing forever.
  std::vector<int16_t> later(n);
  for (int f = 0; f < 5; ++f) plc.fill(later);
  EXPECT_LT(rms(later), 50) << rate;
}

TEST(Concealer, ContinuesThenFadesAt8k) { check_rate(8000); }
TEST(Concealer, ContinuesThenFadesAt16k) { check_rate(16000); }

TEST(Concealer, NoHistoryGivesSilence) {
  Concealer plc(8000);
  std::vector<int16_t> out(160, 1234);
  plc.fill(out);
  EXPECT_LT(rms(out), 1.0);
}

TEST(Concealer, OddSizesStayInBounds) {
  Concealer plc(12345);  // clamped into 8000..16000
  std::vector<int16_t> big(kMaxFrameSamples * 3);
  auto t = tone(16000, 300, 5000, 0, kMaxFrameSamples);
  plc.on_good(t);
  plc.fill(big);
  std::vector<int16_t> empty;
  plc.fill(empty);
  plc.on_good(empty);
  // 960 samples at ~12 kHz is ~78 ms of loss: the tail is past the 60 ms fade.
  const std::vector<int16_t> tail(big.end() - 100, big.end());
  EXPECT_LT(rms(tail), 50);
  EXPECT_GT(rms({big.begin(), big.begin() + 100}), 1000);
}

TEST(Concealer, DecoderConcealUsesHistory) {
  for (const char* name : {"PCMU", "PCMA", "G722"}) {
    const Codec* c = find_codec(name);
    ASSERT_NE(c, nullptr);
    auto enc = c->make_encoder();
    auto dec = c->make_decoder();
    const int n = c->sample_rate / 50;
    AudioFrame heard;
    for (int f = 0; f < 10; ++f) {
      AudioFrame in = AudioFrame::silence(c->sample_rate);
      auto t = tone(c->sample_rate, 500, 8000, f * n, n);
      std::copy(t.begin(), t.end(), in.pcm.begin());
      std::vector<uint8_t> bytes(c->frame_bytes);
      ASSERT_GT(enc->encode(in, bytes), 0u);
      ASSERT_EQ(dec->decode(bytes, heard), n);
    }
    AudioFrame lost = AudioFrame::silence(c->sample_rate);
    dec->conceal(lost);
    EXPECT_EQ(lost.sample_rate, c->sample_rate) << name;
    EXPECT_EQ(lost.samples, n) << name;
    const std::vector<int16_t> v(lost.pcm.begin(), lost.pcm.begin() + lost.samples);
    EXPECT_GT(rms(v), 1000) << name;  // not plain silence after a tone
  }
}

}  // namespace
}  // namespace atende::rtp
