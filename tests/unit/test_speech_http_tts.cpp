// HttpTts against the fake OpenAI server: streamed PCM, resampling, failures, cancellation.
#include <gtest/gtest.h>

#include <cmath>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "audio/levels.h"
#include "speech/http_tts.h"
#include "test_llm_fake_openai.h"

namespace atende::speech {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

struct Collector {
  std::mutex m;
  std::condition_variable cv;
  std::vector<int16_t> pcm;
  int chunks = 0;
  std::optional<TtsResult> result;

  TtsAudioCallback audio() {
    return [this](std::span<const int16_t> p) {
      std::lock_guard l(m);
      pcm.insert(pcm.end(), p.begin(), p.end());
      ++chunks;
      cv.notify_all();
    };
  }
  TtsDoneCallback done() {
    return [this](const TtsResult& r) {
      std::lock_guard l(m);
      result = r;
      cv.notify_all();
    };
  }
  TtsResult wait() {
    std::unique_lock l(m);
    cv.wait(l, [&] { return result.has_value(); });
    return *result;
  }
  void wait_chunks(int n) {
    std::unique_lock l(m);
    cv.wait(l, [&] { return chunks >= n || result.has_value(); });
  }
};

// Zero crossings per second / 2: the frequency of a clean tone. Measured on the middle
// 80 % (the resampler's start-up and the flush tail are near-silence with noise in them).
double tone_frequency(const std::vector<int16_t>& all, int rate) {
  const std::vector<int16_t> pcm(all.begin() + all.size() / 10, all.end() - all.size() / 10);
  int crossings = 0;
  for (size_t i = 1; i < pcm.size(); ++i) {
    if ((pcm[i - 1] < 0) != (pcm[i] < 0)) ++crossings;
  }
  return crossings / 2.0 / (double(pcm.size()) / rate);
}

class HttpTtsTest : public ::testing::Test {
 protected:
  HttpTtsOptions options() {
    HttpTtsOptions o;
    o.base_url = fake.base_url();
    o.model = "tts-fake";
    o.api_key = "sk-tts";
    o.default_voice = "alloy";
    o.voices = {{"pt-br", "nova"}};
    o.stall_timeout = 1500ms;
    o.max_retries = 0;
    return o;
  }
  atende::testing::FakeOpenAi fake;
  net::HttpClient http;
};

TEST_F(HttpTtsTest, StreamsPcmResampledToTheLegRate) {
  // 1 s of 440 Hz at 24 kHz, in 4801-byte chunks (samples split across chunks), 20 ms apart.
  fake.script({{"speech", {{{"seconds", 1.0}, {"delay_ms", 20}}}}});
  HttpTts tts(http, options());
  Collector c;
  tts.speak({"Hello there", {"en-us", 165}, 8000}, c.audio(), c.done());
  const TtsResult r = c.wait();
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_GT(c.chunks, 5);  // delivered incrementally, not as one clip
  EXPECT_EQ(r.samples, c.pcm.size());
  // 1 s at 8 kHz (plus at most the 10 ms flush).
  EXPECT_GE(c.pcm.size(), 7900u);
  EXPECT_LE(c.pcm.size(), 8100u);
  EXPECT_NEAR(tone_frequency(c.pcm, 8000), 440.0, 10.0);  // an odd byte lost would garble it
  EXPECT_GE(r.first_audio_seconds, 0);

  const json req = fake.requests()[0];
  EXPECT_EQ(req["path"], "/v1/audio/speech");
  EXPECT_EQ(req["headers"]["authorization"], "Bearer sk-tts");
  EXPECT_EQ(req["json"], json::parse(R"({"model":"tts-fake","input":"Hello there",
                                          "voice":"alloy","response_format":"pcm"})"));
}

TEST_F(HttpTtsTest, VoiceMapAndSpeed) {
  HttpTts tts(http, options());
  EXPECT_EQ(tts.provider_voice("pt-br"), "nova");
  EXPECT_EQ(tts.provider_voice("en-us"), "alloy");
  const json body = json::parse(tts.request_body({"Oi", {"pt-br", 330}, 8000}));
  EXPECT_EQ(body["voice"], "nova");
  EXPECT_DOUBLE_EQ(body["speed"].get<double>(), 2.0);
  HttpTtsOptions o = options();
  o.voice_from_phrase = true;
  HttpTts pass(http, o);
  EXPECT_EQ(pass.provider_voice("echo"), "echo");
}

TEST_F(HttpTtsTest, SameRateIsPassedThroughUntouched) {
  fake.script({{"speech", {{{"seconds", 0.5}, {"rate", 16000}}}}});
  HttpTtsOptions o = options();
  o.source_rate = 16000;
  HttpTts tts(http, o);
  Collector c;
  tts.speak({"x", {}, 16000}, c.audio(), c.done());
  ASSERT_TRUE(c.wait().ok);
  EXPECT_EQ(c.pcm.size(), 8000u);
  EXPECT_NEAR(tone_frequency(c.pcm, 16000), 440.0, 5.0);
}

TEST_F(HttpTtsTest, SynthesizeGivesAWholeClipForThePhraseCache) {
  fake.script({{"speech", {{{"seconds", 0.3}}}}});
  HttpTts tts(http, options());
  Synthesizer& s = tts;
  ClipPtr clip = s.synthesize({"Welcome", {}, 16000});
  ASSERT_TRUE(clip);
  EXPECT_EQ(clip->sample_rate, 16000);
  EXPECT_EQ(clip->label, "Welcome");
  EXPECT_NEAR(clip->seconds(), 0.3, 0.02);
  fake.script({{"speech", {{{"status", 500}}}}});
  EXPECT_FALSE(s.synthesize({"Welcome", {}, 16000}));
}

TEST_F(HttpTtsTest, ServerErrorAndStall) {
  fake.script({{"speech",
                {{{"status", 503}, {"message", "busy"}},
                 {{"seconds", 2.0}, {"stall_after_bytes", 9000}, {"stall_ms", 30000}}}}});
  HttpTts tts(http, options());
  Collector err;
  tts.speak({"a", {}, 8000}, err.audio(), err.done());
  const TtsResult r = err.wait();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.http_status, 503);
  EXPECT_NE(r.error.find("busy"), std::string::npos) << r.error;
  EXPECT_TRUE(err.pcm.empty());

  Collector stall;
  tts.speak({"b", {}, 8000}, stall.audio(), stall.done());
  const TtsResult s = stall.wait();
  EXPECT_FALSE(s.ok);
  EXPECT_FALSE(s.cancelled);
  EXPECT_FALSE(stall.pcm.empty());  // what arrived before the stall was delivered
  EXPECT_LT(stall.pcm.size(), 16000u);
}

TEST_F(HttpTtsTest, CancelStopsAudio) {
  fake.script({{"speech", {{{"seconds", 5.0}, {"delay_ms", 50}}}}});
  HttpTts tts(http, options());
  Collector c;
  auto stream = tts.speak({"long", {}, 8000}, c.audio(), c.done());
  c.wait_chunks(2);
  stream->cancel();
  const TtsResult r = c.wait();
  EXPECT_TRUE(r.cancelled);
  EXPECT_LT(c.pcm.size(), 5u * 8000u);
}

TEST_F(HttpTtsTest, RefusedPhrasesStillGetOnDone) {
  HttpTts tts(http, options());
  for (const Phrase& p :
       {Phrase{"", {}, 8000}, Phrase{"hi", {}, 4000}, Phrase{std::string(5000, 'a'), {}, 8000}}) {
    Collector c;
    tts.speak(p, c.audio(), c.done());
    const TtsResult r = c.wait();
    EXPECT_FALSE(r.ok);
    EXPECT_FALSE(r.error.empty());
  }
  EXPECT_TRUE(fake.requests().empty());  // nothing was sent
  EXPECT_THROW(HttpTts(http,
                       [&] {
                         auto o = options();
                         o.source_rate = 1000;
                         return o;
                       }()),
               std::invalid_argument);
}

}  // namespace
}  // namespace atende::speech
