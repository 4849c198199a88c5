// The Realtime event codec: what we send is the GA wire format, what we parse from the
// server is bounded and refused cleanly when malformed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "realtime/base64.h"
#include "realtime/realtime_events.h"

namespace atende::realtime {
namespace {

using nlohmann::json;

TEST(RealtimeBase64, RoundTripsEveryLength) {
  for (size_t n = 0; n < 10; ++n) {
    std::vector<uint8_t> in(n);
    for (size_t i = 0; i < n; ++i) in[i] = uint8_t(i * 37 + 250);
    std::string text;
    base64_append(in, text);
    EXPECT_EQ(text.size() % 4, 0u);
    std::vector<uint8_t> out;
    ASSERT_TRUE(base64_decode(text, out)) << text;
    EXPECT_EQ(out, in);
  }
  std::string text;
  base64_append(std::vector<uint8_t>{'M', 'a'}, text);
  EXPECT_EQ(text, "TWE=");
}

TEST(RealtimeBase64, RefusesMalformedText) {
  std::vector<uint8_t> out;
  EXPECT_FALSE(base64_decode("TWE", out));       // not a multiple of 4
  EXPECT_FALSE(base64_decode("T=E=", out));      // padding inside
  EXPECT_FALSE(base64_decode("TWE=TWE=", out));  // padding before the end
  EXPECT_FALSE(base64_decode("TW\n=", out));     // outside the alphabet
  EXPECT_FALSE(base64_decode("====", out));
  EXPECT_TRUE(base64_decode("", out));
}

TEST(RealtimeEvents, SessionUpdateIsTheGaShape) {
  SessionConfig c;
  c.model = "gpt-realtime";
  c.instructions = "Be brief.";
  c.voice = "marin";
  c.max_output_tokens = 300;
  c.tools.push_back({"check", "Checks.", json{{"type", "object"}}});
  c.transcription_model = "whisper-1";
  c.language = "en";
  const json j = json::parse(session_update(c));
  EXPECT_EQ(j["type"], "session.update");
  const json& s = j["session"];
  EXPECT_EQ(s["type"], "realtime");
  EXPECT_EQ(s["model"], "gpt-realtime");
  EXPECT_EQ(s["instructions"], "Be brief.");
  EXPECT_EQ(s["output_modalities"], json::array({"audio"}));
  EXPECT_EQ(s["max_output_tokens"], 300);
  EXPECT_EQ(s["audio"]["input"]["format"], (json{{"type", "audio/pcm"}, {"rate", 24000}}));
  EXPECT_EQ(s["audio"]["output"]["format"], (json{{"type", "audio/pcm"}, {"rate", 24000}}));
  EXPECT_EQ(s["audio"]["output"]["voice"], "marin");
  EXPECT_EQ(s["audio"]["input"]["turn_detection"]["type"], "server_vad");
  EXPECT_EQ(s["audio"]["input"]["turn_detection"]["silence_duration_ms"], 500);
  EXPECT_EQ(s["audio"]["input"]["transcription"]["model"], "whisper-1");
  EXPECT_EQ(s["tools"][0], (json{{"type", "function"},
                                 {"name", "check"},
                                 {"description", "Checks."},
                                 {"parameters", {{"type", "object"}}}}));
  EXPECT_EQ(s["tool_choice"], "auto");

  c.server_vad = false;
  EXPECT_TRUE(
      json::parse(session_update(c))["session"]["audio"]["input"]["turn_detection"].is_null());
}

TEST(RealtimeEvents, ClientEvents) {
  const std::vector<int16_t> pcm{1, -2, 0x1234};
  const json a = json::parse(input_audio_append(pcm));
  EXPECT_EQ(a["type"], "input_audio_buffer.append");
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(base64_decode(a["audio"].get<std::string>(), bytes));
  EXPECT_EQ(bytes, (std::vector<uint8_t>{1, 0, 0xfe, 0xff, 0x34, 0x12}));
  // Long buffers are encoded in chunks: no padding in the middle.
  std::vector<int16_t> many(1000, 7);
  const auto text = json::parse(input_audio_append(many))["audio"].get<std::string>();
  EXPECT_GE(text.find('='), text.size() - 2);  // padding at the very end only
  ASSERT_TRUE(base64_decode(text, bytes));
  EXPECT_EQ(bytes.size(), 2000u);

  EXPECT_EQ(json::parse(response_cancel())["type"], "response.cancel");
  EXPECT_EQ(json::parse(input_audio_commit())["type"], "input_audio_buffer.commit");
  EXPECT_EQ(json::parse(input_audio_clear())["type"], "input_audio_buffer.clear");
  EXPECT_EQ(json::parse(response_create()), (json{{"type", "response.create"}}));
  EXPECT_EQ(json::parse(response_create("Say hi"))["response"]["instructions"], "Say hi");
  EXPECT_EQ(json::parse(item_truncate("item_1", 1234)),
            (json{{"type", "conversation.item.truncate"},
                  {"item_id", "item_1"},
                  {"content_index", 0},
                  {"audio_end_ms", 1234}}));
  EXPECT_EQ(json::parse(item_delete("item_2")),
            (json{{"type", "conversation.item.delete"}, {"item_id", "item_2"}}));
  const json o = json::parse(function_call_output("call_1", R"({"ok":true})"));
  EXPECT_EQ(o["type"], "conversation.item.create");
  EXPECT_EQ(o["item"], (json{{"type", "function_call_output"},
                             {"call_id", "call_1"},
                             {"output", R"({"ok":true})"}}));
}

TEST(RealtimeEvents, ParsesTheServerEventsWeActOn) {
  auto e = parse_server_event(
      R"({"type":"response.output_audio.delta","response_id":"r1","item_id":"i1","delta":"AQD+/w=="})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, EventType::kAudioDelta);
  EXPECT_EQ(e->response_id, "r1");
  EXPECT_EQ(e->item_id, "i1");
  EXPECT_EQ(e->pcm, (std::vector<int16_t>{1, -2}));

  e = parse_server_event(R"({"type":"response.audio.delta","delta":""})");  // beta name
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, EventType::kAudioDelta);

  e = parse_server_event(
      R"({"type":"response.function_call_arguments.done","response_id":"r1","item_id":"i2",
          "call_id":"call_1","name":"check","arguments":"{\"a\":1}"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, EventType::kFunctionCall);
  EXPECT_EQ(e->call_id, "call_1");
  EXPECT_EQ(e->name, "check");
  EXPECT_EQ(e->text, R"({"a":1})");

  e = parse_server_event(R"({"type":"response.done","response":{"id":"r1","status":"cancelled"}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, EventType::kResponseDone);
  EXPECT_EQ(e->status, "cancelled");

  e = parse_server_event(
      R"({"type":"error","error":{"type":"invalid_request_error","code":"x","message":"bad"}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, EventType::kError);
  EXPECT_EQ(e->code, "x");
  EXPECT_EQ(e->text, "bad");

  e = parse_server_event(
      R"({"type":"conversation.item.input_audio_transcription.completed","item_id":"i","transcript":"hi"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, EventType::kInputTranscript);
  EXPECT_EQ(e->text, "hi");

  e = parse_server_event(R"({"type":"response.output_audio_transcript.delta","delta":"Hel"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, EventType::kTranscriptDelta);
  EXPECT_EQ(e->text, "Hel");

  e = parse_server_event(
      R"({"type":"response.output_item.added","response_id":"r1","output_index":0,
          "item":{"id":"item_9","type":"message","role":"assistant","content":[]}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, EventType::kOutputItem);
  EXPECT_EQ(e->response_id, "r1");
  EXPECT_EQ(e->item_id, "item_9");
  EXPECT_FALSE(parse_server_event(R"({"type":"response.output_item.added","item":{"id":5}})"));

  e = parse_server_event(R"({"type":"rate_limits.updated","rate_limits":[]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, EventType::kOther);
}

TEST(RealtimeEvents, RefusesMalformedServerEvents) {
  std::string why;
  EXPECT_FALSE(parse_server_event("not json", &why));
  EXPECT_EQ(why, "not JSON");
  EXPECT_FALSE(parse_server_event("[1]", &why));
  EXPECT_FALSE(parse_server_event(R"({"no":"type"})", &why));
  EXPECT_FALSE(parse_server_event(R"({"type":7})", &why));
  EXPECT_FALSE(parse_server_event(R"({"type":"response.output_audio.delta","delta":"AQD"})", &why));
  EXPECT_EQ(why, "delta: bad base64");
  EXPECT_FALSE(
      parse_server_event(R"({"type":"response.output_audio.delta","delta":"AQ=="})", &why));
  EXPECT_EQ(why, "delta: odd number of bytes");
  EXPECT_FALSE(parse_server_event(R"({"type":"response.output_audio.delta"})", &why));
  EXPECT_FALSE(parse_server_event(R"({"type":"response.done","response":"x"})", &why));
  EXPECT_FALSE(parse_server_event(
      R"({"type":"response.function_call_arguments.done","call_id":"c","arguments":"{}"})", &why));
  const std::string long_id(kMaxIdBytes + 1, 'x');
  EXPECT_FALSE(parse_server_event(
      R"({"type":"response.created","response":{"id":")" + long_id + R"("}})", &why));
  EXPECT_EQ(why, "id: too long");
}

}  // namespace
}  // namespace atende::realtime
