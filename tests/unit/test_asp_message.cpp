// The ASP message parser and writers (docs/asp.md "Messages"): every type, every bad field,
// the limits, versions and session ids. The writers' output must parse back.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "asp/message.h"

namespace atende::asp {
namespace {

Message parse_ok(std::string_view text) {
  Message m;
  const ParseResult r = parse_message(text, m);
  EXPECT_TRUE(r.ok()) << text << ": " << r.detail;
  return m;
}

Error parse_error(std::string_view text) {
  Message m;
  return parse_message(text, m).error;
}

TEST(AspMessage, SessionStartWithEveryField) {
  const Message m = parse_ok(R"({"type":"session.start","version":"1.0.0",
      "session_id":"0F8FAD5B-D9CB-469F-A165-70867728950E",
      "audio":{"sample_rate":16000,"encoding":"pcm_s16le","channels":1,"frame_ms":20},
      "vad":{"silence_threshold_ms":700},"from":"+551199","to":"echo",
      "features":["barge_in"],"extra":{"ignored":true}})");
  EXPECT_EQ(m.type, Type::kSessionStart);
  EXPECT_EQ(m.version, "1.0.0");
  EXPECT_EQ(m.audio.sample_rate, 16000);
  EXPECT_EQ(m.audio.encoding, "pcm_s16le");
  EXPECT_EQ(m.silence_threshold_ms, 700);
  EXPECT_EQ(m.from, "+551199");
  EXPECT_EQ(m.to, "echo");
  ASSERT_EQ(m.features.size(), 1u);
  std::string id;
  ASSERT_TRUE(parse_session_id(m.session_id, id));
  EXPECT_EQ(id, "0f8fad5b-d9cb-469f-a165-70867728950e");
}

TEST(AspMessage, SessionStartDefaults) {
  const Message m = parse_ok(R"({"type":"session.start","session_id":"x"})");
  EXPECT_EQ(m.audio.sample_rate, 8000);
  EXPECT_EQ(m.audio.encoding, "pcm_s16le");
  EXPECT_EQ(m.audio.channels, 1);
  EXPECT_EQ(m.silence_threshold_ms, 500);
  EXPECT_TRUE(m.version.empty());
}

TEST(AspMessage, EveryTypeParses) {
  EXPECT_EQ(parse_ok(R"({"type":"protocol.capabilities","version":"1.0.0",
      "supported_sample_rates":[8000,16000],"supported_encodings":["pcm_s16le"]})")
                .sample_rates.size(),
            2u);
  EXPECT_EQ(parse_ok(R"({"type":"audio.end"})").type, Type::kAudioEnd);
  EXPECT_EQ(parse_ok(R"({"type":"barge_in"})").type, Type::kBargeIn);
  EXPECT_EQ(parse_ok(R"({"type":"response.start","response_id":3})").response_id, 3);
  const Message end = parse_ok(R"({"type":"response.end","response_id":3,"interrupted":true})");
  EXPECT_TRUE(end.interrupted);
  EXPECT_EQ(parse_ok(R"({"type":"dtmf","digit":"#"})").digit, '#');
  EXPECT_EQ(parse_ok(R"({"type":"session.end","reason":"hangup"})").reason, "hangup");
  EXPECT_EQ(parse_ok(R"({"type":"session.ended","reason":"x","stats":{}})").type,
            Type::kSessionEnded);
  EXPECT_EQ(parse_ok(R"({"type":"error","code":"timeout","message":"m"})").code, "timeout");
  const Message st = parse_ok(R"({"type":"session.started","status":"accepted",
      "negotiated":{"audio":{"sample_rate":16000},"vad":{"silence_threshold_ms":300}}})");
  EXPECT_EQ(st.audio.sample_rate, 16000);
  EXPECT_EQ(st.silence_threshold_ms, 300);
}

TEST(AspMessage, MalformedInputIsInvalid) {
  EXPECT_EQ(parse_error(""), Error::kInvalidMessage);
  EXPECT_EQ(parse_error("not json"), Error::kInvalidMessage);
  EXPECT_EQ(parse_error(R"([1,2])"), Error::kInvalidMessage);
  EXPECT_EQ(parse_error(R"("session.start")"), Error::kInvalidMessage);
  EXPECT_EQ(parse_error(R"({"no_type":1})"), Error::kInvalidMessage);
  EXPECT_EQ(parse_error(R"({"type":7})"), Error::kInvalidMessage);
  EXPECT_EQ(parse_error(R"({"type":"session.start"})"), Error::kInvalidMessage);  // no id
  EXPECT_EQ(parse_error(R"({"type":"session.start","session_id":5})"), Error::kInvalidMessage);
  EXPECT_EQ(parse_error(R"({"type":"session.start","session_id":"x","audio":[]})"),
            Error::kInvalidMessage);
  EXPECT_EQ(
      parse_error(R"({"type":"session.start","session_id":"x","audio":{"sample_rate":"8000"}})"),
      Error::kInvalidMessage);
  EXPECT_EQ(parse_error(R"({"type":"session.start","session_id":"x","audio":{"sample_rate":-1}})"),
            Error::kInvalidMessage);
  EXPECT_EQ(parse_error(
                R"({"type":"session.start","session_id":"x","vad":{"silence_threshold_ms":1e9}})"),
            Error::kInvalidMessage);
  EXPECT_EQ(parse_error(R"({"type":"dtmf","digit":"55"})"), Error::kInvalidMessage);
  EXPECT_EQ(parse_error(R"({"type":"dtmf","digit":"x"})"), Error::kInvalidMessage);
  EXPECT_EQ(parse_error(R"({"type":"response.end","interrupted":"yes"})"), Error::kInvalidMessage);
  EXPECT_EQ(parse_error(R"({"type":"session.started","status":"maybe"})"), Error::kInvalidMessage);
  EXPECT_EQ(parse_error(R"({"type":"response.start","response_id":18446744073709551615})"),
            Error::kNone);  // huge but an integer: clamped, not overflowed
  EXPECT_EQ(parse_error(R"({"type":"response.start","response_id":-1})"), Error::kInvalidMessage);
}

TEST(AspMessage, UnknownTypeIsItsOwnError) {
  EXPECT_EQ(parse_error(R"({"type":"session.teleport"})"), Error::kUnknownMessage);
}

TEST(AspMessage, Limits) {
  const std::string long_string(kMaxStringBytes + 1, 'a');
  EXPECT_EQ(parse_error(R"({"type":"session.start","session_id":")" + long_string + "\"}"),
            Error::kInvalidMessage);
  std::string big = R"({"type":"audio.end","pad":")" + std::string(kMaxTextBytes, 'x') + "\"}";
  EXPECT_EQ(parse_error(big), Error::kInvalidMessage);
  std::string many = R"({"type":"session.start","session_id":"x","features":[)";
  for (int i = 0; i < 17; ++i) many += std::string(i ? "," : "") + "\"f\"";
  EXPECT_EQ(parse_error(many + "]}"), Error::kInvalidMessage);
  // Deep nesting inside an ignored field: bounded by the size limit, never a crash.
  std::string deep(2000, '[');
  EXPECT_EQ(parse_error(R"({"type":"audio.end","x":)" + deep), Error::kInvalidMessage);
}

TEST(AspMessage, Versions) {
  EXPECT_EQ(version_major("1.0.0"), 1);
  EXPECT_EQ(version_major("1.2"), 1);
  EXPECT_EQ(version_major("1"), 1);
  EXPECT_EQ(version_major("2.0.0"), 2);
  EXPECT_EQ(version_major(""), -1);
  EXPECT_EQ(version_major("v1"), -1);
  EXPECT_EQ(version_major("1..0"), -1);
  EXPECT_EQ(version_major("1.0."), -1);
  EXPECT_EQ(version_major("1.0.0.0"), -1);
  EXPECT_EQ(version_major("99999"), -1);
}

TEST(AspMessage, SessionIds) {
  std::string id;
  EXPECT_TRUE(parse_session_id("0f8fad5b-d9cb-469f-a165-70867728950e", id));
  EXPECT_FALSE(parse_session_id("0f8fad5b-d9cb-469f-a165-70867728950", id));
  EXPECT_FALSE(parse_session_id("0f8fad5bxd9cb-469f-a165-70867728950e", id));
  EXPECT_FALSE(parse_session_id("0g8fad5b-d9cb-469f-a165-70867728950e", id));
  EXPECT_FALSE(parse_session_id("", id));
}

TEST(AspMessage, WrittenMessagesParseBack) {
  AudioFormat a;
  a.sample_rate = 16000;
  const Message start =
      parse_ok(session_start_json("0f8fad5b-d9cb-469f-a165-70867728950e", a, 600, "+55", "ivr"));
  EXPECT_EQ(start.audio.sample_rate, 16000);
  EXPECT_EQ(start.silence_threshold_ms, 600);
  EXPECT_EQ(start.to, "ivr");
  const Message caps = parse_ok(capabilities_json());
  EXPECT_EQ(version_major(caps.version), kVersionMajor);
  const Message started = parse_ok(session_started_json("id", a, 500));
  EXPECT_EQ(started.status, "accepted");
  EXPECT_EQ(started.audio.sample_rate, 16000);
  EXPECT_TRUE(parse_ok(response_end_json(4, true)).interrupted);
  EXPECT_EQ(parse_ok(response_start_json(4)).response_id, 4);
  EXPECT_EQ(parse_ok(dtmf_json('7')).digit, '7');
  EXPECT_EQ(parse_ok(audio_end_json()).type, Type::kAudioEnd);
  EXPECT_EQ(parse_ok(barge_in_json()).type, Type::kBargeIn);
  EXPECT_EQ(parse_ok(session_end_json("hangup")).reason, "hangup");
  SessionStats s;
  s.responses = 2;
  const auto ended = nlohmann::json::parse(session_ended_json("id", "local_hangup", "flow", s));
  EXPECT_EQ(ended["stats"]["responses"], 2);
  EXPECT_EQ(ended["detail"], "flow");
  const auto err = nlohmann::json::parse(error_json(Error::kSessionInUse, "in use"));
  EXPECT_EQ(err["code"], "session_in_use");
  EXPECT_EQ(err["close_code"], 4409);
  // A reason with invalid UTF-8 is replaced, not thrown.
  EXPECT_NO_THROW(session_end_json("\xff\xfe"));
}

TEST(AspMessage, CloseCodes) {
  EXPECT_EQ(close_code(Error::kInvalidMessage), 4400);
  EXPECT_EQ(close_code(Error::kUnknownMessage), 4401);
  EXPECT_EQ(close_code(Error::kUnexpectedMessage), 4402);
  EXPECT_EQ(close_code(Error::kUnsupported), 4406);
  EXPECT_EQ(close_code(Error::kTimeout), 4408);
  EXPECT_EQ(close_code(Error::kSessionInUse), 4409);
  EXPECT_EQ(close_code(Error::kTooFast), 4429);
  EXPECT_EQ(close_code(Error::kRefused), 4503);
}

}  // namespace
}  // namespace atende::asp
