#include "realtime/realtime_events.h"

#include <nlohmann/json.hpp>

#include "realtime/base64.h"

namespace atende::realtime {

using nlohmann::json;

namespace {

json audio_format() { return {{"type", "audio/pcm"}, {"rate", kRealtimeRate}}; }

json tool_json(const llm::ToolSpec& t) {
  // Realtime tools are flat (no "function" wrapper as in chat completions).
  return {{"type", "function"},
          {"name", t.name},
          {"description", t.description},
          {"parameters", t.parameters}};
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

struct Bad {
  std::string why;
};

// A string field: "" when absent, Bad when not a string or longer than `max`.
std::string str(const json& obj, const char* key, size_t max) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_string()) throw Bad{std::string(key) + ": not a string"};
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max) throw Bad{std::string(key) + ": too long"};
  return s;
}

const json& obj(const json& parent, const char* key) {
  static const json kEmpty = json::object();
  auto it = parent.find(key);
  if (it == parent.end() || it->is_null()) return kEmpty;
  if (!it->is_object()) throw Bad{std::string(key) + ": not an object"};
  return *it;
}

EventType type_of(std::string_view t) {
  if (t == "session.created") return EventType::kSessionCreated;
  if (t == "session.updated") return EventType::kSessionUpdated;
  if (t == "input_audio_buffer.speech_started") return EventType::kSpeechStarted;
  if (t == "input_audio_buffer.speech_stopped") return EventType::kSpeechStopped;
  if (t == "conversation.item.input_audio_transcription.completed") {
    return EventType::kInputTranscript;
  }
  if (t == "response.created") return EventType::kResponseCreated;
  if (t == "response.output_item.added") return EventType::kOutputItem;
  if (t == "response.output_audio.delta" || t == "response.audio.delta") {
    return EventType::kAudioDelta;
  }
  if (t == "response.output_audio_transcript.delta" || t == "response.audio_transcript.delta") {
    return EventType::kTranscriptDelta;
  }
  if (t == "response.output_audio_transcript.done" || t == "response.audio_transcript.done") {
    return EventType::kTranscriptDone;
  }
  if (t == "response.function_call_arguments.done") return EventType::kFunctionCall;
  if (t == "response.done") return EventType::kResponseDone;
  if (t == "error") return EventType::kError;
  return EventType::kOther;
}

void fill(const json& j, ServerEvent& e) {
  switch (e.type) {
    case EventType::kInputTranscript:
      e.item_id = str(j, "item_id", kMaxIdBytes);
      e.text = str(j, "transcript", kMaxTextBytes);
      break;
    case EventType::kResponseCreated:
      e.response_id = str(obj(j, "response"), "id", kMaxIdBytes);
      break;
    case EventType::kOutputItem:
      e.response_id = str(j, "response_id", kMaxIdBytes);
      e.item_id = str(obj(j, "item"), "id", kMaxIdBytes);
      break;
    case EventType::kAudioDelta: {
      e.response_id = str(j, "response_id", kMaxIdBytes);
      e.item_id = str(j, "item_id", kMaxIdBytes);
      auto it = j.find("delta");
      if (it == j.end() || !it->is_string()) throw Bad{"delta: not a string"};
      std::vector<uint8_t> bytes;
      if (!base64_decode(it->get_ref<const std::string&>(), bytes)) throw Bad{"delta: bad base64"};
      if (bytes.size() % 2) throw Bad{"delta: odd number of bytes"};
      e.pcm.resize(bytes.size() / 2);
      for (size_t i = 0; i < e.pcm.size(); ++i) {
        e.pcm[i] = static_cast<int16_t>(uint16_t(bytes[2 * i]) | (uint16_t(bytes[2 * i + 1]) << 8));
      }
      break;
    }
    case EventType::kTranscriptDelta:
      e.response_id = str(j, "response_id", kMaxIdBytes);
      e.item_id = str(j, "item_id", kMaxIdBytes);
      e.text = str(j, "delta", kMaxTextBytes);
      break;
    case EventType::kTranscriptDone:
      e.response_id = str(j, "response_id", kMaxIdBytes);
      e.item_id = str(j, "item_id", kMaxIdBytes);
      e.text = str(j, "transcript", kMaxTextBytes);
      break;
    case EventType::kFunctionCall:
      e.response_id = str(j, "response_id", kMaxIdBytes);
      e.item_id = str(j, "item_id", kMaxIdBytes);
      e.call_id = str(j, "call_id", kMaxIdBytes);
      e.name = str(j, "name", kMaxIdBytes);
      e.text = str(j, "arguments", kMaxTextBytes);
      if (e.call_id.empty() || e.name.empty()) throw Bad{"function call without call_id or name"};
      break;
    case EventType::kResponseDone: {
      const json& r = obj(j, "response");
      e.response_id = str(r, "id", kMaxIdBytes);
      e.status = str(r, "status", kMaxIdBytes);
      break;
    }
    case EventType::kError: {
      const json& err = obj(j, "error");
      e.code = str(err, "code", kMaxIdBytes);
      e.text = str(err, "message", kMaxTextBytes);
      break;
    }
    default:
      break;
  }
}

}  // namespace

std::string session_update(const SessionConfig& c) {
  json input = {{"format", audio_format()}};
  if (c.server_vad) {
    input["turn_detection"] = {{"type", "server_vad"},
                               {"silence_duration_ms", c.silence_ms},
                               {"create_response", true},
                               {"interrupt_response", true}};
  } else {
    input["turn_detection"] = nullptr;
  }
  if (!c.transcription_model.empty()) {
    json t = {{"model", c.transcription_model}};
    if (!c.language.empty()) t["language"] = c.language;
    input["transcription"] = t;
  }
  json output = {{"format", audio_format()}};
  if (!c.voice.empty()) output["voice"] = c.voice;
  json session = {{"type", "realtime"},
                  {"output_modalities", json::array({"audio"})},
                  {"instructions", c.instructions},
                  {"audio", {{"input", input}, {"output", output}}}};
  if (!c.model.empty()) session["model"] = c.model;
  if (c.max_output_tokens) session["max_output_tokens"] = *c.max_output_tokens;
  if (!c.tools.empty()) {
    json tools = json::array();
    for (const auto& t : c.tools) tools.push_back(tool_json(t));
    session["tools"] = tools;
    session["tool_choice"] = "auto";
  }
  return dump({{"type", "session.update"}, {"session", session}});
}

std::string input_audio_append(std::span<const int16_t> pcm) {
  // Built by hand: this is the one event sent many times a second, and the JSON library
  // would copy the base64 text once more.
  std::string out = R"({"type":"input_audio_buffer.append","audio":")";
  // Little-endian bytes, whatever the host order.
  uint8_t chunk[3 * 128];
  size_t n = 0;
  auto flush = [&] {
    base64_append({chunk, n}, out);
    n = 0;
  };
  out.reserve(out.size() + pcm.size() * 8 / 3 + 8);
  for (int16_t s : pcm) {
    chunk[n++] = static_cast<uint8_t>(uint16_t(s) & 0xff);
    chunk[n++] = static_cast<uint8_t>(uint16_t(s) >> 8);
    if (n == sizeof chunk) flush();  // a multiple of 3: no padding mid-stream
  }
  flush();
  out += "\"}";
  return out;
}

std::string input_audio_commit() { return R"({"type":"input_audio_buffer.commit"})"; }
std::string input_audio_clear() { return R"({"type":"input_audio_buffer.clear"})"; }
std::string response_create(std::string_view instructions) {
  if (instructions.empty()) return R"({"type":"response.create"})";
  return dump({{"type", "response.create"}, {"response", {{"instructions", instructions}}}});
}
std::string response_cancel() { return R"({"type":"response.cancel"})"; }

std::string item_truncate(std::string_view item_id, int audio_end_ms) {
  return dump({{"type", "conversation.item.truncate"},
               {"item_id", item_id},
               {"content_index", 0},
               {"audio_end_ms", audio_end_ms < 0 ? 0 : audio_end_ms}});
}

std::string item_delete(std::string_view item_id) {
  return dump({{"type", "conversation.item.delete"}, {"item_id", item_id}});
}

std::string function_call_output(std::string_view call_id, std::string_view output) {
  return dump(
      {{"type", "conversation.item.create"},
       {"item", {{"type", "function_call_output"}, {"call_id", call_id}, {"output", output}}}});
}

std::optional<ServerEvent> parse_server_event(std::string_view text, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<ServerEvent> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  if (text.size() > kMaxEventBytes) return fail("event too large");
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail("not JSON");
  if (!j.is_object()) return fail("not a JSON object");
  try {
    ServerEvent e;
    e.type_name = str(j, "type", kMaxIdBytes);
    if (e.type_name.empty()) return fail("no type");
    e.type = type_of(e.type_name);
    fill(j, e);
    return e;
  } catch (const Bad& bad) {
    return fail(bad.why);
  } catch (const json::exception& ex) {
    return fail(ex.what());
  }
}

}  // namespace atende::realtime
