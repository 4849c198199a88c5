// `engine: realtime` and the `realtime:` map of a persona (docs/realtime.md).
#include <gtest/gtest.h>

#include "agent/persona.h"

namespace atende::agent {
namespace {

constexpr const char* kBase = "name: rt\nsystem_prompt: Be brief.\n";

Persona parse(const std::string& extra) { return parse_persona(std::string(kBase) + extra); }

std::string error_of(const std::string& extra) {
  try {
    parse(extra);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(PersonaRealtime, PipelineByDefault) {
  EXPECT_FALSE(parse("").realtime.enabled);
  EXPECT_FALSE(parse("engine: pipeline\n").realtime.enabled);
}

TEST(PersonaRealtime, ReadsEveryKey) {
  const auto p = parse(
      "engine: realtime\n"
      "realtime:\n"
      "  url: \"wss://127.0.0.1:9000/v1/realtime?model=gpt-realtime\"\n"
      "  ca_file: /etc/atende/ca.pem\n"
      "  model: gpt-realtime\n"
      "  voice: marin\n"
      "  vad: local\n"
      "  silence_ms: 700\n"
      "  transcription_model: \"\"\n"
      "  api_key_env: MY_KEY\n");
  const auto& r = p.realtime;
  EXPECT_TRUE(r.enabled);
  EXPECT_EQ(r.url, "wss://127.0.0.1:9000/v1/realtime?model=gpt-realtime");
  EXPECT_EQ(r.ca_file, "/etc/atende/ca.pem");
  EXPECT_EQ(r.model, "gpt-realtime");
  EXPECT_EQ(r.voice, "marin");
  EXPECT_FALSE(r.server_vad);
  EXPECT_EQ(r.silence_ms, 700);
  EXPECT_EQ(r.transcription_model, "");
  EXPECT_EQ(r.api_key_env, "MY_KEY");
  // Defaults.
  const auto d = parse("engine: realtime\nrealtime: {url: \"${RT_URL}\"}\n").realtime;
  EXPECT_TRUE(d.server_vad);
  EXPECT_EQ(d.voice, "alloy");
  EXPECT_EQ(d.silence_ms, 500);
  EXPECT_EQ(d.transcription_model, "whisper-1");
  EXPECT_EQ(d.api_key_env, "OPENAI_API_KEY");
  EXPECT_EQ(d.ca_file, "");
}

TEST(PersonaRealtime, RefusesBadValues) {
  EXPECT_EQ(error_of("engine: magic\n"), "engine: 'magic' is not pipeline or realtime");
  EXPECT_EQ(error_of("engine: realtime\n"),
            "realtime: missing (engine: realtime needs realtime.url)");
  EXPECT_EQ(error_of("engine: realtime\nrealtime: {model: x}\n"), "realtime.url: missing");
  EXPECT_EQ(error_of("engine: realtime\nrealtime: {url: \"http://x\"}\n"),
            "realtime.url: must be a wss:// or ws:// URL");
  EXPECT_EQ(error_of("engine: realtime\nrealtime: {url: \"ws://1.2.3.4:1/\", vad: both}\n"),
            "realtime.vad: must be server or local");
  EXPECT_EQ(error_of("engine: realtime\nrealtime: {url: \"ws://1.2.3.4:1/\", silence_ms: 5}\n"),
            "realtime.silence_ms: must be within 100..5000");
  EXPECT_EQ(error_of("engine: realtime\nrealtime: {url: \"ws://1.2.3.4:1/\", colour: red}\n"),
            "realtime.colour: unknown key");
  EXPECT_EQ(error_of("realtime: [1]\n"), "realtime: must be a map");
}

}  // namespace
}  // namespace atende::agent
