#include "speech/stt_wire.h"

#include <nlohmann/json.hpp>

#include "net/base64.h"

namespace atende::speech::wire {

using nlohmann::json;

namespace {

struct Bad {
  std::string why;
};

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// A string field: "" when absent or null, Bad when not a string or longer than `max`.
std::string str(const json& obj, const char* key, size_t max) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_string()) throw Bad{std::string(key) + ": not a string"};
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max) throw Bad{std::string(key) + ": too long"};
  return s;
}

bool boolean(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return false;
  if (!it->is_boolean()) throw Bad{std::string(key) + ": not a boolean"};
  return it->get<bool>();
}

const json& object(const json& parent, const char* key) {
  static const json kEmpty = json::object();
  auto it = parent.find(key);
  if (it == parent.end() || it->is_null()) return kEmpty;
  if (!it->is_object()) throw Bad{std::string(key) + ": not an object"};
  return *it;
}

template <class Fill>
std::optional<Event> parse(std::string_view text, std::string* error, const char* type_key,
                           Fill fill) {
  auto fail = [&](std::string why) -> std::optional<Event> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  if (text.size() > kMaxEventBytes) return fail("event too large");
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail("not JSON");
  if (!j.is_object()) return fail("not a JSON object");
  try {
    Event e;
    e.type_name = str(j, type_key, kMaxIdBytes);
    if (e.type_name.empty()) return fail("no type");
    fill(j, e);
    return e;
  } catch (const Bad& bad) {
    return fail(bad.why);
  } catch (const json::exception& ex) {
    return fail(ex.what());
  }
}

void fill_openai(const json& j, Event& e) {
  const std::string& t = e.type_name;
  constexpr std::string_view kItem = "conversation.item.input_audio_transcription.";
  if (t == "session.created" || t == "session.updated" || t == "transcription_session.created" ||
      t == "transcription_session.updated") {
    e.kind = Kind::kSession;
  } else if (t == "input_audio_buffer.committed") {
    e.kind = Kind::kCommitted;
    e.item_id = str(j, "item_id", kMaxIdBytes);
  } else if (t.starts_with(kItem)) {
    const std::string_view what = std::string_view(t).substr(kItem.size());
    e.item_id = str(j, "item_id", kMaxIdBytes);
    if (what == "delta") {
      e.kind = Kind::kDelta;
      e.text = str(j, "delta", kMaxTranscriptBytes);
    } else if (what == "completed") {
      e.kind = Kind::kCompleted;
      e.text = str(j, "transcript", kMaxTranscriptBytes);
    } else if (what == "failed") {
      e.kind = Kind::kFailed;
      const json& err = object(j, "error");
      e.code = str(err, "code", kMaxIdBytes);
      e.message = str(err, "message", kMaxTranscriptBytes);
    }
  } else if (t == "error") {
    e.kind = Kind::kError;
    const json& err = object(j, "error");
    e.code = str(err, "code", kMaxIdBytes);
    if (e.code.empty()) e.code = str(err, "type", kMaxIdBytes);
    e.message = str(err, "message", kMaxTranscriptBytes);
  }
}

void fill_listen(const json& j, Event& e) {
  const std::string& t = e.type_name;
  if (t == "Results") {
    e.kind = Kind::kResults;
    e.is_final = boolean(j, "is_final");
    e.speech_final = boolean(j, "speech_final");
    e.from_finalize = boolean(j, "from_finalize");
    const json& channel = object(j, "channel");
    auto alts = channel.find("alternatives");
    if (alts == channel.end() || alts->is_null()) return;
    if (!alts->is_array()) throw Bad{"alternatives: not an array"};
    if (alts->empty()) return;
    const json& best = (*alts)[0];
    if (!best.is_object()) throw Bad{"alternatives[0]: not an object"};
    e.text = str(best, "transcript", kMaxTranscriptBytes);
    auto c = best.find("confidence");
    if (c != best.end() && !c->is_null()) {
      if (!c->is_number()) throw Bad{"confidence: not a number"};
      const double v = c->get<double>();
      e.confidence = v >= 0 && v <= 1 ? static_cast<float>(v) : 0.f;  // NaN, out of range: 0
    }
  } else if (t == "Metadata") {
    e.kind = Kind::kMetadata;
  } else if (t == "Error") {
    e.kind = Kind::kError;
    e.code = str(j, "variant", kMaxIdBytes);
    e.message = str(j, "description", kMaxTranscriptBytes);
    if (e.message.empty()) e.message = str(j, "message", kMaxTranscriptBytes);
  }
}

}  // namespace

std::optional<Event> parse_openai_stt_event(std::string_view text, std::string* error) {
  return parse(text, error, "type", fill_openai);
}

std::optional<Event> parse_listen_event(std::string_view text, std::string* error) {
  return parse(text, error, "type", fill_listen);
}

std::string openai_stt_session_update(const OpenAiSttSession& s) {
  json transcription = {{"model", s.model}};
  if (!s.language.empty()) transcription["language"] = s.language;
  if (!s.prompt.empty()) transcription["prompt"] = s.prompt;
  if (s.beta) {
    return dump({{"type", "transcription_session.update"},
                 {"session",
                  {{"input_audio_format", "pcm16"},
                   {"input_audio_transcription", transcription},
                   {"turn_detection", nullptr}}}});
  }
  json input = {{"format", {{"type", "audio/pcm"}, {"rate", kOpenAiRate}}},
                {"transcription", transcription},
                {"turn_detection", nullptr}};
  return dump({{"type", "session.update"},
               {"session", {{"type", "transcription"}, {"audio", {{"input", input}}}}}});
}

std::string openai_audio_append(std::span<const int16_t> pcm) {
  // Built by hand: sent many times a second, and the JSON library would copy the base64
  // text once more.
  std::string out = R"({"type":"input_audio_buffer.append","audio":")";
  uint8_t chunk[3 * 128];  // a multiple of 3: no padding mid-stream
  size_t n = 0;
  out.reserve(out.size() + pcm.size() * 8 / 3 + 8);
  for (int16_t s : pcm) {  // little-endian, whatever the host order
    chunk[n++] = static_cast<uint8_t>(uint16_t(s) & 0xff);
    chunk[n++] = static_cast<uint8_t>(uint16_t(s) >> 8);
    if (n == sizeof chunk) {
      net::base64_append({chunk, n}, out);
      n = 0;
    }
  }
  net::base64_append({chunk, n}, out);
  out += "\"}";
  return out;
}

std::string openai_audio_commit() { return R"({"type":"input_audio_buffer.commit"})"; }

std::string listen_close_stream() { return R"({"type":"CloseStream"})"; }

}  // namespace atende::speech::wire
