#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "audio/tone.h"
#include "audio/wav.h"

namespace atende::audio {
namespace {

void put16(std::vector<uint8_t>& v, uint16_t x) {
  v.push_back(uint8_t(x));
  v.push_back(uint8_t(x >> 8));
}
void put32(std::vector<uint8_t>& v, uint32_t x) {
  for (int i = 0; i < 4; ++i) v.push_back(uint8_t(x >> (8 * i)));
}
void tag(std::vector<uint8_t>& v, const char* t) {
  for (int i = 0; i < 4; ++i) v.push_back(uint8_t(t[i]));
}

// Hand-built WAV with arbitrary header fields, for the cases our writer never produces.
std::vector<uint8_t> build_wav(uint16_t format, uint16_t channels, uint32_t rate, uint16_t bits,
                               const std::vector<int16_t>& samples, bool extra_chunk = false) {
  std::vector<uint8_t> v;
  tag(v, "RIFF");
  put32(v, 0);  // size fields are not trusted by the reader anyway
  tag(v, "WAVE");
  if (extra_chunk) {
    tag(v, "LIST");
    put32(v, 3);  // odd size: padded to 4
    v.insert(v.end(), {'a', 'b', 'c', 0});
  }
  tag(v, "fmt ");
  put32(v, 16);
  put16(v, format);
  put16(v, channels);
  put32(v, rate);
  put32(v, rate * channels * bits / 8);
  put16(v, uint16_t(channels * bits / 8));
  put16(v, bits);
  tag(v, "data");
  put32(v, uint32_t(samples.size() * 2));
  for (int16_t s : samples) put16(v, uint16_t(s));
  return v;
}

TEST(Wav, EncodeParseRoundTrip) {
  const auto tone = make_tone(8000, 440.0, 0.25);
  const auto bytes = encode_wav(tone, 8000);
  EXPECT_EQ(bytes.size(), 44 + tone.size() * 2);
  const WavResult r = parse_wav(bytes);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.clip.sample_rate, 8000);
  EXPECT_EQ(r.clip.pcm, tone);
}

TEST(Wav, FileRoundTrip) {
  const auto path = (std::filesystem::temp_directory_path() / "atende_test_wav_rt.wav").string();
  const auto tone = make_tone(16000, 1000.0, 0.1);
  std::string error;
  ASSERT_TRUE(write_wav_file(path, tone, 16000, &error)) << error;
  const WavResult r = read_wav_file(path);
  std::remove(path.c_str());
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.clip.sample_rate, 16000);
  EXPECT_EQ(r.clip.pcm, tone);
  EXPECT_EQ(r.clip.label, path);
}

TEST(Wav, StereoIsMixedToMono) {
  const auto r = parse_wav(build_wav(1, 2, 8000, 16, {1000, 3000, -2000, -4000, 7, 7}));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.clip.pcm, (std::vector<int16_t>{2000, -3000, 7}));
}

TEST(Wav, SkipsUnknownChunksWithPadding) {
  const auto r = parse_wav(build_wav(1, 1, 8000, 16, {1, 2, 3}, /*extra_chunk=*/true));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.clip.pcm, (std::vector<int16_t>{1, 2, 3}));
}

TEST(Wav, DataSizePastEndIsReadUpToEnd) {
  auto bytes = build_wav(1, 1, 8000, 16, {5, 6, 7, 8});
  bytes[40] = bytes[41] = bytes[42] = bytes[43] = 0xFF;  // streamed: size unknown
  bytes.push_back(9);                                    // and a trailing half sample
  const auto r = parse_wav(bytes);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.clip.pcm, (std::vector<int16_t>{5, 6, 7, 8}));
}

TEST(Wav, RejectsUnsupportedFormatsClearly) {
  auto error_of = [](const std::vector<uint8_t>& b) { return parse_wav(b).error; };
  EXPECT_NE(error_of(build_wav(3, 1, 8000, 32, {})).find("format tag 3"), std::string::npos);
  EXPECT_NE(error_of(build_wav(6, 1, 8000, 8, {})).find("format tag 6"), std::string::npos);
  EXPECT_NE(error_of(build_wav(1, 1, 8000, 8, {})).find("bits per sample 8"), std::string::npos);
  EXPECT_NE(error_of(build_wav(1, 6, 8000, 16, {})).find("channel count 6"), std::string::npos);
  EXPECT_NE(error_of(build_wav(1, 1, 0, 16, {})).find("sample rate"), std::string::npos);
}

TEST(Wav, RejectsBrokenFiles) {
  const auto good = build_wav(1, 1, 8000, 16, {1, 2, 3});
  EXPECT_FALSE(parse_wav({}).ok());
  EXPECT_FALSE(parse_wav(std::span(good).first(11)).ok());
  EXPECT_FALSE(parse_wav(std::span(good).first(30)).ok());  // fmt chunk cut short
  EXPECT_FALSE(parse_wav(std::span(good).first(36)).ok());  // no data chunk
  auto not_wave = good;
  not_wave[8] = 'X';
  EXPECT_FALSE(parse_wav(not_wave).ok());
  EXPECT_FALSE(read_wav_file("/nonexistent/atende.wav").ok());
}

TEST(Wav, WriteRefusesBadRate) {
  std::string error;
  std::vector<int16_t> pcm(10);
  EXPECT_FALSE(write_wav_file("/tmp/atende_bad_rate.wav", pcm, 0, &error));
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace atende::audio
