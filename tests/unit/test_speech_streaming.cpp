// The streaming recogniser's shared pieces: the stream core (ring, finish/cancel, the
// exactly-once final), the one-shot adapter, the wire formats of the WebSocket engines
// (what we send, what hostile servers may send) and their parameters.
#include <gtest/gtest.h>

#include <future>
#include <nlohmann/json.hpp>

#include "net/base64.h"
#include "speech/openai_stt.h"
#include "speech/stream_core.h"
#include "speech/streaming_recognizer.h"
#include "speech/stt_wire.h"
#include "speech/ws_stream_stt.h"

namespace atende::speech {
namespace {

using nlohmann::json;

TEST(StreamCore, QueuesInOrderAndDropsTheOldestWhenFull) {
  StreamCore core({}, {}, 8);
  const int16_t a[] = {1, 2, 3, 4, 5};
  core.push(a);
  int16_t out[8] = {};
  EXPECT_EQ(core.pop(out, 3), 3u);
  EXPECT_EQ(out[0], 1);
  EXPECT_EQ(out[2], 3);
  const int16_t b[] = {6, 7, 8, 9, 10, 11, 12};  // 2 queued + 7 > 8: the oldest (4) goes
  core.push(b);
  EXPECT_EQ(core.dropped_samples(), 1u);
  EXPECT_EQ(core.pop(out, 8), 8u);
  EXPECT_EQ(out[0], 5);
  EXPECT_EQ(out[7], 12);
  const int16_t big[20] = {};
  core.push(big);  // larger than the ring: only its last 8 samples fit
  EXPECT_EQ(core.dropped_samples(), 13u);
  EXPECT_EQ(core.queued(), 8u);
}

TEST(StreamCore, IgnoresAudioAfterFinish) {
  StreamCore core({}, {}, 8);
  core.finish();
  const int16_t a[] = {1, 2};
  core.push(a);
  EXPECT_EQ(core.queued(), 0u);
  EXPECT_TRUE(core.finish_requested());
}

TEST(StreamCore, FinalRunsOnceAndEndsPartials) {
  int finals = 0, partials = 0;
  StreamHandlers h{.on_partial = [&](std::string_view) { ++partials; },
                   .on_final =
                       [&](Recognition r) {
                         ++finals;
                         EXPECT_EQ(r.engine, "test");
                       }};
  StreamCore core({}, std::move(h), 8);
  core.partial("hello");
  Recognition r;
  r.ok = true;
  EXPECT_TRUE(core.final(r, "test"));
  EXPECT_FALSE(core.final(r, "test"));
  EXPECT_FALSE(core.final_cancelled("test"));
  core.partial("late");
  EXPECT_EQ(finals, 1);
  EXPECT_EQ(partials, 1);
}

TEST(StreamCore, NoPartialAfterCancelAndTheFinalSaysCancelled) {
  int partials = 0;
  Recognition last;
  StreamHandlers h{.on_partial = [&](std::string_view) { ++partials; },
                   .on_final = [&](Recognition r) { last = r; }};
  auto core = std::make_shared<StreamCore>(StreamRequest{}, std::move(h), 8);
  {
    CoreStream handle(core);  // dropping the handle cancels
  }
  EXPECT_TRUE(core->cancel_requested());
  core->partial("x");
  EXPECT_EQ(partials, 0);
  EXPECT_TRUE(core->final_cancelled("test"));
  EXPECT_TRUE(last.cancelled);
  EXPECT_FALSE(last.ok);
}

// An engine that answers on finish(), on the calling thread, with how many samples it got.
class CountingEngine : public StreamingRecognizer {
 public:
  std::unique_ptr<RecognitionStream> start(StreamRequest request,
                                           StreamHandlers handlers) override {
    if (request.sample_rate != 8000) return failed_stream(handlers, "counting", "bad rate");
    struct Stream : RecognitionStream {
      std::shared_ptr<StreamCore> core;
      void push(std::span<const int16_t> pcm) override { core->push(pcm); }
      void finish() override {
        Recognition r;
        r.ok = true;
        r.text = std::to_string(core->queued());
        core->final(r, "counting");
      }
      void cancel() override { core->cancel(); }
      uint64_t dropped_samples() const override { return 0; }
    };
    auto s = std::make_unique<Stream>();
    s->core = std::make_shared<StreamCore>(std::move(request), std::move(handlers), 16000);
    return s;
  }
  bool uses_grammar() const override { return false; }
  const char* name() const override { return "counting"; }
};

TEST(StreamingAsOneShot, SendsTheWholeTurnAndAnswersOnce) {
  StreamingAsOneShot stt(std::make_shared<CountingEngine>());
  RecognitionRequest req;
  req.pcm = std::make_shared<const std::vector<int16_t>>(1600, 0);
  int calls = 0;
  Recognition got;
  stt.recognize(req, [&](Recognition r) {
    ++calls;
    got = r;
  });
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(got.ok);
  EXPECT_EQ(got.text, "1600");
  EXPECT_DOUBLE_EQ(got.audio_seconds, 0.2);

  req.sample_rate = 16000;
  stt.recognize(req, [&](Recognition r) {
    ++calls;
    got = r;
  });
  EXPECT_EQ(calls, 2);
  EXPECT_FALSE(got.ok);
  EXPECT_EQ(got.error, "bad rate");
}

TEST(StreamingRegistry, KnowsTheEnginesAndRefusesOthers) {
  auto r = StreamingRecognizerRegistry::with_builtins();
  EXPECT_TRUE(r.has("openai_realtime_stt"));
  EXPECT_TRUE(r.has("ws_stream"));
  EXPECT_TRUE(r.has("sphinx"));
  EXPECT_THROW(r.create("nope"), std::invalid_argument);
  EXPECT_TRUE(RecognizerRegistry::with_builtins().has("openai_realtime_stt"));
  EXPECT_TRUE(RecognizerRegistry::with_builtins().has("ws_stream"));
}

// ---- wire: what we send ----

TEST(SttWire, OpenAiSessionUpdateIsATranscriptionSessionWithoutTurnDetection) {
  wire::OpenAiSttSession s;
  s.model = "gpt-4o-transcribe";
  s.language = "en";
  s.prompt = "sales, support";
  const json ga = json::parse(wire::openai_stt_session_update(s));
  EXPECT_EQ(ga["type"], "session.update");
  EXPECT_EQ(ga["session"]["type"], "transcription");
  const json& input = ga["session"]["audio"]["input"];
  EXPECT_EQ(input["format"]["type"], "audio/pcm");
  EXPECT_EQ(input["format"]["rate"], 24000);
  EXPECT_EQ(input["transcription"]["model"], "gpt-4o-transcribe");
  EXPECT_EQ(input["transcription"]["language"], "en");
  EXPECT_EQ(input["transcription"]["prompt"], "sales, support");
  EXPECT_TRUE(input.contains("turn_detection") && input["turn_detection"].is_null());

  s.beta = true;
  s.language.clear();
  const json beta = json::parse(wire::openai_stt_session_update(s));
  EXPECT_EQ(beta["type"], "transcription_session.update");
  EXPECT_EQ(beta["session"]["input_audio_format"], "pcm16");
  EXPECT_FALSE(beta["session"]["input_audio_transcription"].contains("language"));
  EXPECT_TRUE(beta["session"]["turn_detection"].is_null());
}

TEST(SttWire, AudioAppendIsLittleEndianBase64) {
  std::vector<int16_t> pcm(1000);
  for (size_t i = 0; i < pcm.size(); ++i) pcm[i] = static_cast<int16_t>(i * 37 - 12000);
  const json j = json::parse(wire::openai_audio_append(pcm));
  EXPECT_EQ(j["type"], "input_audio_buffer.append");
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(net::base64_decode(j["audio"].get<std::string>(), bytes));
  ASSERT_EQ(bytes.size(), 2000u);
  for (size_t i = 0; i < pcm.size(); ++i) {
    EXPECT_EQ(static_cast<int16_t>(bytes[2 * i] | (bytes[2 * i + 1] << 8)), pcm[i]);
  }
  EXPECT_EQ(json::parse(wire::openai_audio_commit())["type"], "input_audio_buffer.commit");
  EXPECT_EQ(json::parse(wire::listen_close_stream())["type"], "CloseStream");
}

// ---- wire: what servers send ----

TEST(SttWire, ParsesOpenAiTranscriptionEvents) {
  auto d = wire::parse_openai_stt_event(
      R"({"type":"conversation.item.input_audio_transcription.delta","item_id":"item_1",)"
      R"("content_index":0,"delta":"I'd like"})");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->kind, wire::Kind::kDelta);
  EXPECT_EQ(d->item_id, "item_1");
  EXPECT_EQ(d->text, "I'd like");
  auto c = wire::parse_openai_stt_event(
      R"({"type":"conversation.item.input_audio_transcription.completed","item_id":"item_1",)"
      R"("content_index":0,"transcript":"I'd like a table","usage":{"type":"duration"}})");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, wire::Kind::kCompleted);
  EXPECT_EQ(c->text, "I'd like a table");
  auto f = wire::parse_openai_stt_event(
      R"({"type":"conversation.item.input_audio_transcription.failed","item_id":"i",)"
      R"("error":{"code":"audio_unintelligible","message":"no"}})");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, wire::Kind::kFailed);
  EXPECT_EQ(f->code, "audio_unintelligible");
  auto e = wire::parse_openai_stt_event(
      R"({"type":"error","error":{"type":"invalid_request_error","code":"input_audio_buffer_commit_empty","message":"m"}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, wire::Kind::kError);
  EXPECT_EQ(e->code, "input_audio_buffer_commit_empty");
  auto k = wire::parse_openai_stt_event(R"({"type":"input_audio_buffer.committed","item_id":"x"})");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->kind, wire::Kind::kCommitted);
  auto o = wire::parse_openai_stt_event(R"({"type":"conversation.item.added","item":{}})");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->kind, wire::Kind::kOther);
}

TEST(SttWire, ParsesListenResults) {
  auto r = wire::parse_listen_event(
      R"({"type":"Results","is_final":true,"speech_final":true,"channel":{"alternatives":)"
      R"([{"transcript":"book a table","confidence":0.93},{"transcript":"other"}]}})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, wire::Kind::kResults);
  EXPECT_TRUE(r->is_final);
  EXPECT_TRUE(r->speech_final);
  EXPECT_FALSE(r->from_finalize);
  EXPECT_EQ(r->text, "book a table");
  EXPECT_FLOAT_EQ(r->confidence, 0.93f);
  auto empty = wire::parse_listen_event(R"({"type":"Results","channel":{"alternatives":[]}})");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->text, "");
  auto m = wire::parse_listen_event(R"({"type":"Metadata","request_id":"r"})");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, wire::Kind::kMetadata);
  auto e = wire::parse_listen_event(R"({"type":"Error","description":"bad audio"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, wire::Kind::kError);
  EXPECT_EQ(e->message, "bad audio");
}

TEST(SttWire, RefusesHostileMessagesWithAReason) {
  const std::string long_text(wire::kMaxTranscriptBytes + 1, 'a');
  for (const std::string& bad : {
           std::string("not json"),
           std::string("[1,2]"),
           std::string(R"({"type":5})"),
           std::string(R"({"notype":"x"})"),
           std::string(R"({"type":"Results","is_final":"yes"})"),
           std::string(R"({"type":"Results","channel":{"alternatives":{}}})"),
           std::string(R"({"type":"Results","channel":{"alternatives":[5]}})"),
           std::string(R"({"type":"Results","channel":[]})"),
           std::string(R"({"type":"Results","channel":{"alternatives":[{"confidence":"x"}]}})"),
           R"({"type":"Results","channel":{"alternatives":[{"transcript":")" + long_text +
               R"("}]}})",
       }) {
    std::string why;
    EXPECT_FALSE(wire::parse_listen_event(bad, &why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
  for (const std::string& bad : {
           std::string(R"({"type":"conversation.item.input_audio_transcription.delta","delta":7})"),
           std::string(R"({"type":"error","error":"x"})"),
           R"({"type":"conversation.item.input_audio_transcription.completed","transcript":")" +
               long_text + R"("})",
           std::string(wire::kMaxEventBytes + 1, ' '),
       }) {
    std::string why;
    EXPECT_FALSE(wire::parse_openai_stt_event(bad, &why)) << bad.substr(0, 80);
    EXPECT_FALSE(why.empty());
  }
  // Out-of-range confidences are read as 0, not trusted.
  auto r = wire::parse_listen_event(
      R"({"type":"Results","channel":{"alternatives":[{"transcript":"a","confidence":7}]}})");
  ASSERT_TRUE(r);
  EXPECT_FLOAT_EQ(r->confidence, 0.f);
}

// ---- parameters ----

TEST(SttParams, WsStreamNeedsAUrlAndKnowsOneProtocol) {
  EXPECT_THROW(ws_stream_stt_options_from({}), std::invalid_argument);
  EXPECT_THROW(ws_stream_stt_options_from({{"url", "https://api.deepgram.com/v1/listen"}}),
               std::invalid_argument);
  auto secure = ws_stream_stt_options_from(
      {{"url", "wss://api.deepgram.com/v1/listen"}, {"ca_file", "/etc/ssl/private-ca.pem"}});
  EXPECT_TRUE(secure.ws.url.tls);
  EXPECT_EQ(secure.ws.url.host, "api.deepgram.com");
  EXPECT_EQ(secure.ws.url.port, 443);
  EXPECT_EQ(secure.ws.ca_file, "/etc/ssl/private-ca.pem");
  EXPECT_THROW(ws_stream_stt_options_from({{"url", "ws://127.0.0.1:1/"}, {"protocol", "x"}}),
               std::invalid_argument);
  EXPECT_THROW(ws_stream_stt_options_from({{"url", "ws://127.0.0.1:1/"}, {"colour", "red"}}),
               std::invalid_argument);
  EXPECT_THROW(ws_stream_stt_options_from({{"url", "ws://127.0.0.1:1/"}, {"model", "a&b=c"}}),
               std::invalid_argument);
  EXPECT_THROW(
      ws_stream_stt_options_from({{"url", "ws://127.0.0.1:1/"}, {"final_timeout_ms", "5s"}}),
      std::invalid_argument);
  auto o = ws_stream_stt_options_from({{"url", "ws://127.0.0.1:9/v1/listen"},
                                       {"protocol", "deepgram"},
                                       {"model", "nova-2-phonecall"},
                                       {"language", "en-US"},
                                       {"api_key", "k"},
                                       {"final_timeout_ms", "800"}});
  EXPECT_EQ(o.ws.url.port, 9);
  EXPECT_EQ(o.ws.final_timeout.count(), 800);
  ASSERT_EQ(o.ws.headers.size(), 1u);
  EXPECT_EQ(o.ws.headers[0].second, "Token k");
  EXPECT_EQ(listen_target(o.ws.url.target, o, 8000),
            "/v1/listen?encoding=linear16&sample_rate=8000&channels=1&interim_results=true"
            "&model=nova-2-phonecall&language=en-US");
}

TEST(SttParams, OpenAiRealtimeStt) {
  EXPECT_THROW(openai_stt_options_from({}), std::invalid_argument);
  EXPECT_THROW(openai_stt_options_from({{"url", "ws://127.0.0.1:1/"}, {"api", "v3"}}),
               std::invalid_argument);
  auto o = openai_stt_options_from({{"url", "ws://127.0.0.1:9/v1/realtime?intent=transcription"},
                                    {"model", "gpt-4o-mini-transcribe"},
                                    {"api_key", "sk"},
                                    {"api", "beta"}});
  EXPECT_EQ(o.ws.url.target, "/v1/realtime?intent=transcription");
  EXPECT_EQ(o.session.model, "gpt-4o-mini-transcribe");
  EXPECT_TRUE(o.session.beta);
  ASSERT_EQ(o.ws.headers.size(), 1u);
  EXPECT_EQ(o.ws.headers[0].second, "Bearer sk");
}

}  // namespace
}  // namespace atende::speech
