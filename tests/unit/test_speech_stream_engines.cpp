// The WebSocket streaming engines against tests/fake_openai/fake_stream_stt.py, which speaks
// their exact wire formats: partials while audio flows, the final after finish(), what the
// server saw (session config, audio, the end-of-utterance message, how the socket ended),
// cancellation, and servers that fail or misbehave.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include "speech/openai_stt.h"
#include "speech/ws_stream_stt.h"
#include "test_speech_fake_stream.h"

namespace atende::speech {
namespace {

using nlohmann::json;
using testing::FakeStreamStt;

FakeStreamStt& fake() {
  static FakeStreamStt f;
  return f;
}

// What a stream said, gathered from the engine's thread.
struct Collector {
  std::mutex mu;
  std::vector<std::string> partials;
  std::promise<Recognition> final;
  std::future<Recognition> future = final.get_future();

  StreamHandlers handlers() {
    return {.on_partial =
                [this](std::string_view t) {
                  std::lock_guard lock(mu);
                  partials.emplace_back(t);
                },
            .on_final = [this](Recognition r) { final.set_value(std::move(r)); }};
  }
  Recognition wait() {
    EXPECT_EQ(future.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    return future.get();
  }
  size_t partial_count() {
    std::lock_guard lock(mu);
    return partials.size();
  }
};

// A tone, as frames: the fake only counts the audio.
void speak(RecognitionStream& s, int rate, int ms) {
  std::vector<int16_t> frame(static_cast<size_t>(rate / 50));
  for (size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<int16_t>((i % 20) * 500);
  for (int t = 0; t < ms; t += 20) s.push(frame);
}

// Waits (bounded) until the fake has recorded `n` connections and the last one ended.
json last_record(size_t n) {
  for (int i = 0; i < 500; ++i) {
    json r = fake().received();
    if (r.size() >= n && !r[n - 1]["end"].is_null()) return r[n - 1];
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "the fake never saw connection " << n << " end";
  return json::object();
}

std::unique_ptr<WsStreamRecognizer> openai(RecognizerParams extra = {}) {
  RecognizerParams p{{"url", fake().ws_url("/v1/realtime?intent=transcription")},
                     {"api_key", "sk-test"},
                     {"model", "gpt-4o-transcribe"}};
  for (auto& [k, v] : extra) p[k] = v;
  return make_openai_stt(openai_stt_options_from(p));
}

std::unique_ptr<WsStreamRecognizer> listen(RecognizerParams extra = {}) {
  RecognizerParams p{{"url", fake().ws_url("/v1/listen")}, {"api_key", "dg-test"}};
  for (auto& [k, v] : extra) p[k] = v;
  return make_deepgram_stt(ws_stream_stt_options_from(p));
}

class StreamEngines : public ::testing::Test {
 protected:
  void SetUp() override { fake().reset(); }
};

TEST_F(StreamEngines, OpenAiPartialsWhileSpeakingThenTheFinal) {
  fake().script({{"streams",
                  {{{"partials", {"I'd", "I'd like", "I'd like to book"}},
                    {"final", "I'd like to book a table"},
                    {"partial_every_ms", 200}}}}});
  auto engine = openai();
  Collector c;
  auto s = engine->start({.sample_rate = 8000, .expected = {"a table"}, .tag = "t1"}, c.handlers());
  speak(*s, 8000, 800);
  // Partials come while the utterance is still open (no finish yet).
  for (int i = 0; i < 500 && c.partial_count() < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(c.partial_count(), 3u);
  EXPECT_EQ(c.partials[0], "I'd");
  EXPECT_EQ(c.partials[2], "I'd like to book");
  s->finish();
  const Recognition r = c.wait();
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_FALSE(r.rejected);
  EXPECT_EQ(r.text, "I'd like to book a table");
  EXPECT_EQ(r.engine, "openai_realtime_stt");

  const json rec = last_record(1);
  EXPECT_EQ(rec["authorization"], "Bearer sk-test");
  EXPECT_EQ(rec["path"], "/v1/realtime?intent=transcription");
  const json& events = rec["events"];
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events[0]["type"], "session.update");
  EXPECT_EQ(events[0]["session"]["type"], "transcription");
  EXPECT_TRUE(events[0]["session"]["audio"]["input"]["turn_detection"].is_null());
  EXPECT_EQ(events[0]["session"]["audio"]["input"]["transcription"]["prompt"], "a table");
  EXPECT_EQ(events.back()["type"], "input_audio_buffer.commit");
  // 800 ms at 8 kHz arrive resampled to 24 kHz (give or take the filter's delay).
  EXPECT_GE(rec["audio_ms"].get<int>(), 780);
  EXPECT_LE(rec["audio_ms"].get<int>(), 800);
  EXPECT_EQ(rec["end"], "close_frame");
}

TEST_F(StreamEngines, OpenAiCancelEndsTheRemoteSessionWithoutACommit) {
  fake().script({{"streams", {{{"partials", {"wait"}}, {"final", "wait a moment"}}}}});
  auto engine = openai();
  Collector c;
  auto s = engine->start({.sample_rate = 16000}, c.handlers());
  speak(*s, 16000, 400);
  for (int i = 0; i < 500 && c.partial_count() < 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  s->cancel();
  const Recognition r = c.wait();
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.cancelled);
  const json rec = last_record(1);
  EXPECT_EQ(rec["end"], "close_frame");
  for (const auto& e : rec["events"]) EXPECT_NE(e["type"], "input_audio_buffer.commit");
}

TEST_F(StreamEngines, OpenAiEmptyUtteranceIsRejectedNotAnError) {
  auto engine = openai();
  Collector c;
  auto s = engine->start({.sample_rate = 8000}, c.handlers());
  speak(*s, 8000, 40);  // under the server's 100 ms minimum
  s->finish();
  const Recognition r = c.wait();
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_TRUE(r.rejected);
  EXPECT_EQ(r.text, "");
}

TEST_F(StreamEngines, OpenAiTranscriptionFailureAndGarbageFromTheServer) {
  fake().script({{"streams",
                  {{{"garbage", {"not json", R"({"type":7})", R"([1])"}},
                    {"error", {{"code", "audio_unintelligible"}, {"message", "no speech"}}}}}}});
  auto engine = openai();
  Collector c;
  auto s = engine->start({.sample_rate = 8000}, c.handlers());
  speak(*s, 8000, 300);
  s->finish();
  const Recognition r = c.wait();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("audio_unintelligible"), std::string::npos) << r.error;
}

TEST_F(StreamEngines, AServerThatNeverAnswersTimesOut) {
  fake().script({{"streams", {{{"hang", true}}}}});
  auto engine = openai({{"final_timeout_ms", "300"}});
  Collector c;
  auto s = engine->start({.sample_rate = 8000}, c.handlers());
  speak(*s, 8000, 300);
  s->finish();
  const Recognition r = c.wait();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("no final transcript"), std::string::npos) << r.error;
  EXPECT_EQ(last_record(1)["end"], "close_frame");
}

TEST_F(StreamEngines, NobodyListeningIsAnError) {
  auto engine = make_openai_stt(openai_stt_options_from({{"url", "ws://127.0.0.1:1/v1/realtime"}}));
  Collector c;
  auto s = engine->start({.sample_rate = 8000}, c.handlers());
  speak(*s, 8000, 100);
  s->finish();
  const Recognition r = c.wait();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("cannot connect"), std::string::npos) << r.error;
}

TEST_F(StreamEngines, DeepgramInterimResultsThenTheFinalAfterCloseStream) {
  fake().script(
      {{"streams", {{{"partials", {"book", "book a"}}, {"final", "book a table for four"}}}}});
  auto engine = listen({{"model", "nova-2-phonecall"}});
  Collector c;
  auto s = engine->start({.sample_rate = 8000}, c.handlers());
  speak(*s, 8000, 600);
  for (int i = 0; i < 500 && c.partial_count() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(c.partial_count(), 2u);
  EXPECT_EQ(c.partials[1], "book a");
  s->finish();
  const Recognition r = c.wait();
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.text, "book a table for four");
  EXPECT_EQ(r.engine, "ws_stream");
  EXPECT_GT(r.confidence, 0.9f);

  const json rec = last_record(1);
  EXPECT_EQ(rec["authorization"], "Token dg-test");
  EXPECT_EQ(rec["query"]["encoding"], "linear16");
  EXPECT_EQ(rec["query"]["sample_rate"], "8000");
  EXPECT_EQ(rec["query"]["channels"], "1");
  EXPECT_EQ(rec["query"]["interim_results"], "true");
  EXPECT_EQ(rec["query"]["model"], "nova-2-phonecall");
  EXPECT_EQ(rec["audio_ms"], 600);  // binary linear16 at the stream's own rate
  EXPECT_EQ(rec["events"].back()["type"], "CloseStream");
  EXPECT_EQ(rec["end"], "server");  // Metadata, then the server closed
}

TEST_F(StreamEngines, DeepgramCancelClosesWithoutCloseStream) {
  fake().script({{"streams", {{{"partials", {"no"}}, {"final", "no I said"}}}}});
  auto engine = listen();
  Collector c;
  auto s = engine->start({.sample_rate = 8000}, c.handlers());
  speak(*s, 8000, 300);
  for (int i = 0; i < 500 && c.partial_count() < 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  s.reset();  // dropping the stream cancels it
  const Recognition r = c.wait();
  EXPECT_TRUE(r.cancelled);
  const json rec = last_record(1);
  EXPECT_EQ(rec["end"], "close_frame");
  for (const auto& e : rec["events"]) EXPECT_NE(e["type"], "CloseStream");
}

TEST_F(StreamEngines, DeepgramServerErrorEndsTheStream) {
  fake().script({{"streams", {{{"error", {{"code", "INVALID_AUDIO"}, {"message", "bad"}}}}}}});
  auto engine = listen();
  Collector c;
  auto s = engine->start({.sample_rate = 8000}, c.handlers());
  speak(*s, 8000, 200);
  s->finish();
  const Recognition r = c.wait();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("INVALID_AUDIO"), std::string::npos) << r.error;
}

TEST_F(StreamEngines, AnOversizedMessageEndsTheStream) {
  fake().script({{"streams", {{{"oversize", 300000}, {"final", "never read"}}}}});
  auto engine = listen();
  Collector c;
  auto s = engine->start({.sample_rate = 8000}, c.handlers());
  speak(*s, 8000, 200);
  s->finish();
  const Recognition r = c.wait();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("event too large"), std::string::npos) << r.error;
}

// The session passes a partial on only when the hypothesis changed, whatever the protocol:
// OpenAI repeats itself with empty deltas, Deepgram with the same interim twice, and both
// with a final that the last partial already said.
TEST_F(StreamEngines, ARepeatedHypothesisIsPassedOnOnce) {
  for (const bool deepgram : {false, true}) {
    SCOPED_TRACE(deepgram ? "deepgram" : "openai");
    fake().reset();
    fake().script(
        {{"streams",
          {{{"partials", {"a table", "a table", "a table for"}}, {"final", "a table for"}}}}});
    auto engine = deepgram ? listen() : openai();
    Collector c;
    auto s = engine->start({.sample_rate = 8000}, c.handlers());
    speak(*s, 8000, 800);
    s->finish();
    const Recognition r = c.wait();  // after every message before it
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.text, "a table for");
    std::lock_guard lock(c.mu);
    EXPECT_EQ(c.partials, (std::vector<std::string>{"a table", "a table for"}));
  }
}

TEST_F(StreamEngines, OneShotAdapterServesTheRecognizerInterface) {
  fake().script({{"streams", {{{"final", "support please"}}}}});
  StreamingAsOneShot stt(openai());
  RecognitionRequest req;
  req.pcm = std::make_shared<const std::vector<int16_t>>(8000, 1000);  // 1 s
  std::promise<Recognition> p;
  stt.recognize(req, [&p](Recognition r) { p.set_value(std::move(r)); });
  auto f = p.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  const Recognition r = f.get();
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.text, "support please");
  EXPECT_DOUBLE_EQ(r.audio_seconds, 1.0);
}

TEST_F(StreamEngines, DestroyingTheEngineEndsItsStreams) {
  fake().script({{"streams", {{{"hang", true}}}}});
  auto engine = openai();
  Collector c;
  auto s = engine->start({.sample_rate = 8000}, c.handlers());
  speak(*s, 8000, 200);
  s->finish();
  engine.reset();
  const Recognition r = c.wait();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("shutting down"), std::string::npos) << r.error;
  s.reset();  // after its engine: harmless
}

}  // namespace
}  // namespace atende::speech
