// The VAD engines on real recorded speech (Debian's pocketsphinx-testdata, installed by
// scripts/install-deps), digital silence and white noise at several levels.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <new>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "alloc_counter.h"
#include "audio/levels.h"
#include "audio/resampler.h"
#include "audio/tone.h"
#include "audio/vad_energy.h"
#include "audio/vad_webrtc.h"

namespace atende::audio {
namespace {

const std::string kData = "/usr/share/pocketsphinx/test/data/";

// 16 kHz mono s16le raw recording; fails the test when the package is missing.
std::vector<int16_t> read_raw(const std::string& name) {
  std::ifstream f(kData + name, std::ios::binary);
  if (!f) {
    ADD_FAILURE() << kData + name
                  << " missing: install pocketsphinx-testdata (scripts/install-deps)";
    return {};
  }
  std::vector<char> bytes((std::istreambuf_iterator<char>(f)), {});
  std::vector<int16_t> pcm(bytes.size() / 2);
  std::memcpy(pcm.data(), bytes.data(), pcm.size() * 2);
  return pcm;
}

std::vector<int16_t> white_noise(int rate, double seconds, double dbfs_level, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> g(0.0, 32768.0 * std::pow(10.0, dbfs_level / 20.0));
  std::vector<int16_t> out(size_t(rate * seconds));
  for (auto& s : out) s = int16_t(std::clamp(g(rng), -32768.0, 32767.0));
  return out;
}

// Per-frame decisions over a whole signal, 20 ms frames.
std::vector<VadDecision> run(Vad& vad, const std::vector<int16_t>& pcm) {
  const size_t n = size_t(vad.sample_rate() / 50);
  std::vector<VadDecision> out;
  for (size_t i = 0; i + n <= pcm.size(); i += n) out.push_back(vad.process({pcm.data() + i, n}));
  return out;
}

int count_speech(const std::vector<VadDecision>& d, size_t from, size_t to) {
  int n = 0;
  for (size_t i = from; i < std::min(to, d.size()); ++i) n += d[i].speech;
  return n;
}
int count_voiced(const std::vector<VadDecision>& d, size_t from, size_t to) {
  int n = 0;
  for (size_t i = from; i < std::min(to, d.size()); ++i) n += d[i].voiced();
  return n;
}

TEST(ZeroCrossingRate, SilenceToneAndAlternation) {
  std::vector<int16_t> zeros(160, 0);
  EXPECT_EQ(zero_crossing_rate(zeros), 0.0f);
  std::vector<int16_t> alt(161);
  for (size_t i = 0; i < alt.size(); ++i) alt[i] = i % 2 ? 1000 : -1000;
  EXPECT_FLOAT_EQ(zero_crossing_rate(alt), 1.0f);
  // 200 Hz at 8 kHz: 400 crossings a second = 0.05 per sample.
  EXPECT_NEAR(zero_crossing_rate(make_tone(8000, 200.0, 1.0)), 0.05, 0.002);
  EXPECT_NEAR(zero_crossing_rate(white_noise(8000, 1.0, -20, 1)), 0.5, 0.02);
  EXPECT_EQ(zero_crossing_rate({}), 0.0f);
}

TEST(WebRtcVad, RefusesUnsupportedRates) {
  EXPECT_THROW(WebRtcVad({.sample_rate = 44100}), std::invalid_argument);
  EXPECT_THROW(WebRtcVad({.sample_rate = 11025}), std::invalid_argument);
  EXPECT_NO_THROW(WebRtcVad({.sample_rate = 16000}));
}

// "go forward ten meters": ~0.5 s of room tone, speech from ~0.5 s to ~2.3 s, then quiet.
TEST(WebRtcVad, RealSpeechAt8kAnd16k) {
  const auto wide = read_raw("goforward.raw");
  ASSERT_FALSE(wide.empty());
  const auto narrow = Resampler::convert(wide, 16000, 8000);
  for (int rate : {8000, 16000}) {
    SCOPED_TRACE(rate);
    WebRtcVad vad({.sample_rate = rate});
    const auto d = run(vad, rate == 8000 ? narrow : wide);
    ASSERT_EQ(d.size(), 139u);
    // The words: nearly every frame from 0.55 s to 2.2 s.
    EXPECT_GE(count_speech(d, 28, 110), 78);
    EXPECT_GE(count_voiced(d, 28, 110), 40);
    // The last 0.4 s is room tone.
    EXPECT_EQ(count_speech(d, 119, 139), 0);
  }
}

TEST(WebRtcVad, DigitalSilenceIsNotSpeech) {
  WebRtcVad vad;
  const auto d = run(vad, std::vector<int16_t>(8000 * 2, 0));
  EXPECT_EQ(count_speech(d, 0, d.size()), 0);
  EXPECT_EQ(d.back().level_dbfs, float(kSilenceDbfs));
}

// The GMM calls loud hiss voice; the features say it is not voiced. This is why the turn
// detector and barge-in policy want voiced frames before they believe in speech.
TEST(WebRtcVad, WhiteNoiseByLevel) {
  for (double level : {-50.0, -40.0, -30.0, -20.0, -10.0}) {
    SCOPED_TRACE(level);
    WebRtcVad vad;
    const auto d = run(vad, white_noise(8000, 3.0, level, 7));
    // The first 100 ms are the detector settling.
    const int speech = count_speech(d, 5, d.size());
    if (level <= -40.0) {
      EXPECT_EQ(speech, 0);
    }
    if (level >= -20.0) {
      EXPECT_GE(speech, 140);
    }
    EXPECT_EQ(count_voiced(d, 0, d.size()), 0);
  }
}

TEST(WebRtcVad, TenAndTwentyMsFramesOthersNotJudged) {
  const auto wide = read_raw("goforward.raw");
  ASSERT_FALSE(wide.empty());
  WebRtcVad vad({.sample_rate = 16000});
  // Inside the words, 10 ms frames are judged too.
  int speech = 0;
  for (size_t i = 16000; i + 160 <= 32000; i += 160) speech += vad.process({&wide[i], 160}).speech;
  EXPECT_GE(speech, 80);
  const VadDecision odd = vad.process({&wide[20000], 300});
  EXPECT_FALSE(odd.speech);
  EXPECT_GT(odd.level_dbfs, -40.0f);  // measured anyway
  // A frame at the wrong rate is not judged.
  AudioFrame f = AudioFrame::silence(8000);
  std::copy_n(&wide[20000], f.samples, f.pcm.begin());
  EXPECT_FALSE(vad.process(f).speech);
}

TEST(WebRtcVad, NoiseSuppressionLowersHissAndKeepsSpeech) {
  WebRtcVad plain({.sample_rate = 8000});
  WebRtcVad ns({.sample_rate = 8000, .noise_suppression = NoiseSuppressionLevel::kHigh});
  const auto hiss = white_noise(8000, 2.0, -35, 3);
  double in = 0, out = 0;
  for (size_t i = 0; i + 160 <= hiss.size(); i += 160) {
    plain.process({&hiss[i], 160});
    ns.process({&hiss[i], 160});
    if (i >= 8000) {  // after a second of adaptation
      in += rms({&hiss[i], 160});
      out += rms(ns.denoised());
    }
    EXPECT_EQ(ns.denoised().size(), 160u);
  }
  EXPECT_LT(out, in * 0.5);  // at least 6 dB less hiss
  // Without suppression the "denoised" frame is the input.
  EXPECT_TRUE(std::equal(plain.denoised().begin(), plain.denoised().end(), hiss.end() - 160));

  // Speech still detected through the suppressor.
  const auto wide = read_raw("goforward.raw");
  ASSERT_FALSE(wide.empty());
  WebRtcVad ns16({.sample_rate = 16000, .noise_suppression = NoiseSuppressionLevel::kModerate});
  EXPECT_GE(count_speech(run(ns16, wide), 28, 110), 75);
}

TEST(WebRtcVad, NoAllocationPerFrame) {
  const auto wide = read_raw("goforward.raw");
  ASSERT_FALSE(wide.empty());
  WebRtcVad vad({.sample_rate = 16000, .noise_suppression = NoiseSuppressionLevel::kModerate});
  vad.process({wide.data(), 320});  // first frame may set up lazily
  alloc_counter::allocations = 0;
  alloc_counter::counting = true;
  int speech = 0;
  for (size_t i = 320; i + 320 <= wide.size(); i += 320)
    speech += vad.process({&wide[i], 320}).speech;
  alloc_counter::counting = false;
  EXPECT_EQ(alloc_counter::allocations.load(), 0);
  EXPECT_GT(speech, 50);  // it really ran
}

TEST(WebRtcVad, ResetKeepsWorking) {
  const auto wide = read_raw("goforward.raw");
  ASSERT_FALSE(wide.empty());
  WebRtcVad vad({.sample_rate = 16000});
  const int first = count_speech(run(vad, wide), 28, 110);
  vad.reset();
  const int second = count_speech(run(vad, wide), 28, 110);
  EXPECT_EQ(first, second);  // same audio, same state: same answer
}

TEST(EnergyVad, SpeechOverQuietLine) {
  const auto wide = read_raw("goforward.raw");
  ASSERT_FALSE(wide.empty());
  EnergyVad vad({.sample_rate = 16000});
  const auto d = run(vad, wide);
  EXPECT_GE(count_speech(d, 28, 110), 50);  // energy sees the syllables, not the gaps
  EXPECT_EQ(count_speech(d, 119, 139), 0);
}

TEST(EnergyVad, LearnsSteadyNoiseThenHearsToneAboveIt) {
  EnergyVad vad;
  const auto hiss = white_noise(8000, 6.0, -35, 5);
  const auto d = run(vad, hiss);
  // Floor starts at -60: the hiss counts as speech until the floor has risen to it.
  EXPECT_TRUE(d.front().speech);
  EXPECT_EQ(count_speech(d, 200, d.size()), 0);  // learnt within 4 s
  EXPECT_NEAR(vad.noise_floor_dbfs(), -35.0, 1.5);
  // A loud tone over the learnt floor is speech; EnergyVad cannot tell it from a voice.
  const auto tone = make_tone(8000, 300.0, 0.2, 0.3);
  EXPECT_TRUE(vad.process({tone.data(), 160}).speech);
  // Quiet below min_speech_dbfs never counts, whatever the floor.
  EnergyVad fresh({.initial_floor_dbfs = -90.0, .lowest_floor_dbfs = -90.0});
  const auto quiet = make_tone(8000, 300.0, 0.2, 0.004);  // about -51 dBFS
  EXPECT_FALSE(fresh.process({quiet.data(), 160}).speech);
}

TEST(EnergyVad, ResetRestoresInitialFloor) {
  EnergyVad vad;
  run(vad, white_noise(8000, 3.0, -30, 9));
  EXPECT_GT(vad.noise_floor_dbfs(), -40.0);
  vad.reset();
  EXPECT_EQ(vad.noise_floor_dbfs(), -60.0);
}

}  // namespace
}  // namespace atende::audio
