#include "agent/persona_realtime.h"

#include <stdexcept>

namespace atende::agent {

namespace {

[[noreturn]] void fail(const std::string& key, const std::string& problem) {
  throw std::invalid_argument(key + ": " + problem);
}

std::string text(const YAML::Node& n, const std::string& key, size_t max) {
  if (!n.IsScalar()) fail(key, "must be a string");
  auto s = n.as<std::string>();
  if (s.size() > max) fail(key, "longer than " + std::to_string(max) + " bytes");
  return s;
}

}  // namespace

RealtimePersona parse_realtime_persona(const YAML::Node& root) {
  RealtimePersona r;
  if (auto e = root["engine"]) {
    const auto engine = text(e, "engine", 32);
    if (engine != "realtime" && engine != "pipeline") {
      fail("engine", "'" + engine + "' is not pipeline or realtime");
    }
    r.enabled = engine == "realtime";
  }
  auto m = root["realtime"];
  if (!m) {
    if (r.enabled) fail("realtime", "missing (engine: realtime needs realtime.url)");
    return r;
  }
  if (!m.IsMap()) fail("realtime", "must be a map");
  for (const auto& kv : m) {
    const auto key = kv.first.as<std::string>();
    if (key != "url" && key != "model" && key != "voice" && key != "vad" && key != "silence_ms" &&
        key != "transcription_model" && key != "api_key_env" && key != "ca_file") {
      fail("realtime." + key, "unknown key");
    }
  }
  if (!m["url"]) fail("realtime.url", "missing");
  r.url = text(m["url"], "realtime.url", 1000);
  if (!r.url.starts_with("ws://") && !r.url.starts_with("wss://") && !r.url.starts_with("${")) {
    fail("realtime.url", "must be a wss:// or ws:// URL");
  }
  if (m["model"]) r.model = text(m["model"], "realtime.model", 100);
  if (m["voice"]) r.voice = text(m["voice"], "realtime.voice", 64);
  if (m["vad"]) {
    const auto vad = text(m["vad"], "realtime.vad", 16);
    if (vad != "server" && vad != "local") fail("realtime.vad", "must be server or local");
    r.server_vad = vad == "server";
  }
  if (auto s = m["silence_ms"]) {
    try {
      r.silence_ms = s.as<int>();
    } catch (const YAML::Exception&) {
      fail("realtime.silence_ms", "must be a whole number");
    }
    if (r.silence_ms < 100 || r.silence_ms > 5000)
      fail("realtime.silence_ms", "must be within 100..5000");
  }
  if (m["transcription_model"]) {
    r.transcription_model = text(m["transcription_model"], "realtime.transcription_model", 100);
  }
  if (m["api_key_env"]) r.api_key_env = text(m["api_key_env"], "realtime.api_key_env", 100);
  if (m["ca_file"]) r.ca_file = text(m["ca_file"], "realtime.ca_file", 1000);
  return r;
}

}  // namespace atende::agent
