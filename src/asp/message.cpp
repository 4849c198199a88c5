#include "asp/message.h"

#include <nlohmann/json.hpp>

namespace atende::asp {
namespace {

using json = nlohmann::json;

struct Field {
  const json& obj;
  ParseResult& result;

  const json* find(const char* key) const {
    auto it = obj.find(key);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
  }
  bool fail(std::string detail) {
    if (result.ok()) {
      result.error = Error::kInvalidMessage;
      result.detail = std::move(detail);
    }
    return false;
  }
  // Optional string: absent leaves `out` as it is.
  bool string(const char* key, std::string& out, bool required = false) {
    const json* v = find(key);
    if (!v) return required ? fail(std::string("'") + key + "' is required") : true;
    if (!v->is_string()) return fail(std::string("'") + key + "' must be a string");
    const auto& s = v->get_ref<const std::string&>();
    if (s.size() > kMaxStringBytes) return fail(std::string("'") + key + "' is too long");
    out = s;
    return true;
  }
  bool integer(const char* key, int64_t lo, int64_t hi, int64_t& out, bool required = false) {
    const json* v = find(key);
    if (!v) return required ? fail(std::string("'") + key + "' is required") : true;
    if (!v->is_number_integer()) return fail(std::string("'") + key + "' must be an integer");
    const int64_t n = v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(INT64_MAX)
                          ? INT64_MAX
                          : v->get<int64_t>();
    if (n < lo || n > hi) return fail(std::string("'") + key + "' is out of range");
    out = n;
    return true;
  }
  bool integer(const char* key, int lo, int hi, int& out, bool required = false) {
    int64_t n = out;
    if (!integer(key, int64_t{lo}, int64_t{hi}, n, required)) return false;
    out = static_cast<int>(n);
    return true;
  }
  bool boolean(const char* key, bool& out) {
    const json* v = find(key);
    if (!v) return true;
    if (!v->is_boolean()) return fail(std::string("'") + key + "' must be true or false");
    out = v->get<bool>();
    return true;
  }
  bool strings(const char* key, std::vector<std::string>& out) {
    const json* v = find(key);
    if (!v) return true;
    if (!v->is_array() || v->size() > kMaxListItems) {
      return fail(std::string("'") + key + "' must be a list of at most 16 strings");
    }
    for (const auto& e : *v) {
      if (!e.is_string() || e.get_ref<const std::string&>().size() > kMaxStringBytes) {
        return fail(std::string("'") + key + "' must be a list of short strings");
      }
      out.push_back(e.get<std::string>());
    }
    return true;
  }
  bool integers(const char* key, std::vector<int>& out) {
    const json* v = find(key);
    if (!v) return true;
    if (!v->is_array() || v->size() > kMaxListItems) {
      return fail(std::string("'") + key + "' must be a list of at most 16 integers");
    }
    for (const auto& e : *v) {
      if (!e.is_number_integer() || e.get<int64_t>() < 1 || e.get<int64_t>() > 384000) {
        return fail(std::string("'") + key + "' must be a list of sample rates");
      }
      out.push_back(static_cast<int>(e.get<int64_t>()));
    }
    return true;
  }
  bool object(const char* key, const json*& out) {
    out = find(key);
    if (out && !out->is_object()) return fail(std::string("'") + key + "' must be an object");
    return true;
  }
};

bool parse_audio(const json& a, ParseResult& r, AudioFormat& out) {
  Field f{a, r};
  return f.integer("sample_rate", 1, 384000, out.sample_rate) &&
         f.string("encoding", out.encoding) && f.integer("channels", 1, 8, out.channels) &&
         f.integer("frame_ms", 1, 1000, out.frame_ms);
}

bool parse_vad(const json& v, ParseResult& r, int& silence_ms) {
  Field f{v, r};
  return f.integer("silence_threshold_ms", 0, 60000, silence_ms);
}

struct TypeName {
  const char* name;
  Type type;
};
constexpr TypeName kTypes[] = {
    {"protocol.capabilities", Type::kCapabilities},
    {"session.start", Type::kSessionStart},
    {"session.started", Type::kSessionStarted},
    {"audio.end", Type::kAudioEnd},
    {"response.start", Type::kResponseStart},
    {"response.end", Type::kResponseEnd},
    {"barge_in", Type::kBargeIn},
    {"dtmf", Type::kDtmf},
    {"session.end", Type::kSessionEnd},
    {"session.ended", Type::kSessionEnded},
    {"error", Type::kError},
    {"transcript", Type::kTranscript},
};

json audio_json(const AudioFormat& a) {
  return {{"sample_rate", a.sample_rate},
          {"encoding", a.encoding},
          {"channels", a.channels},
          {"frame_ms", a.frame_ms}};
}

std::string dump(const json& j) {
  // Replace, not throw, on invalid UTF-8 in strings we echo back (a peer's reason).
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

const char* type_name(Type t) {
  for (const auto& e : kTypes) {
    if (e.type == t) return e.name;
  }
  return "?";
}

const char* error_code(Error e) {
  switch (e) {
    case Error::kNone:
      return "none";
    case Error::kInvalidMessage:
      return "invalid_message";
    case Error::kUnknownMessage:
      return "unknown_message";
    case Error::kUnexpectedMessage:
      return "unexpected_message";
    case Error::kUnsupported:
      return "unsupported";
    case Error::kTimeout:
      return "timeout";
    case Error::kSessionInUse:
      return "session_in_use";
    case Error::kTooFast:
      return "too_fast";
    case Error::kRefused:
      return "refused";
    case Error::kInternal:
      return "internal_error";
  }
  return "internal_error";
}

uint16_t close_code(Error e) {
  switch (e) {
    case Error::kNone:
      return 1000;
    case Error::kInvalidMessage:
      return 4400;
    case Error::kUnknownMessage:
      return 4401;
    case Error::kUnexpectedMessage:
      return 4402;
    case Error::kUnsupported:
      return 4406;
    case Error::kTimeout:
      return 4408;
    case Error::kSessionInUse:
      return 4409;
    case Error::kTooFast:
      return 4429;
    case Error::kRefused:
      return 4503;
    case Error::kInternal:
      return 4500;
  }
  return 4500;
}

int version_major(std::string_view v) {
  if (v.empty() || v.size() > 32) return -1;
  int major = 0;
  size_t i = 0;
  for (; i < v.size() && v[i] != '.'; ++i) {
    if (v[i] < '0' || v[i] > '9' || i >= 4) return -1;
    major = major * 10 + (v[i] - '0');
  }
  if (i == 0) return -1;
  for (size_t dots = 0; i < v.size(); ++i) {  // the rest: digits and dots, no empty parts
    if (v[i] == '.') {
      if (++dots > 2 || i + 1 == v.size() || v[i + 1] == '.') return -1;
    } else if (v[i] < '0' || v[i] > '9') {
      return -1;
    }
  }
  return major;
}

bool parse_session_id(std::string_view t, std::string& canonical) {
  if (t.size() != 36) return false;
  std::string out(36, '-');
  for (size_t i = 0; i < 36; ++i) {
    const char c = t[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
      continue;
    }
    if (c >= '0' && c <= '9') {
      out[i] = c;
    } else if (c >= 'a' && c <= 'f') {
      out[i] = c;
    } else if (c >= 'A' && c <= 'F') {
      out[i] = static_cast<char>(c - 'A' + 'a');
    } else {
      return false;
    }
  }
  canonical = std::move(out);
  return true;
}

bool valid_digit(char c) {
  return (c >= '0' && c <= '9') || c == '*' || c == '#' || (c >= 'A' && c <= 'D');
}

ParseResult parse_message(std::string_view text, Message& out) {
  ParseResult r;
  out = Message{};
  if (text.size() > kMaxTextBytes) {
    return {Error::kInvalidMessage, "message longer than 4096 bytes"};
  }
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return {Error::kInvalidMessage, "not JSON"};
  if (!j.is_object()) return {Error::kInvalidMessage, "not a JSON object"};
  Field f{j, r};
  std::string type;
  if (!f.string("type", type, true)) return r;
  bool known = false;
  for (const auto& e : kTypes) {
    if (type == e.name) {
      out.type = e.type;
      known = true;
      break;
    }
  }
  if (!known) return {Error::kUnknownMessage, "unknown type '" + type.substr(0, 64) + "'"};

  const json* sub = nullptr;
  switch (out.type) {
    case Type::kCapabilities:
      if (!f.string("version", out.version, true) ||
          !f.integers("supported_sample_rates", out.sample_rates) ||
          !f.strings("supported_encodings", out.encodings) ||
          !f.strings("features", out.features)) {
        return r;
      }
      break;
    case Type::kSessionStart:
      if (!f.string("version", out.version) || !f.string("session_id", out.session_id, true) ||
          !f.string("from", out.from) || !f.string("to", out.to) || !f.object("audio", sub)) {
        return r;
      }
      if (sub && !parse_audio(*sub, r, out.audio)) return r;
      if (!f.object("vad", sub)) return r;
      if (sub && !parse_vad(*sub, r, out.silence_threshold_ms)) return r;
      if (!f.strings("features", out.features)) return r;
      break;
    case Type::kSessionStarted: {
      if (!f.string("session_id", out.session_id) || !f.string("status", out.status, true) ||
          !f.string("reason", out.reason) || !f.string("version", out.version) ||
          !f.object("negotiated", sub)) {
        return r;
      }
      if (out.status != "accepted" && out.status != "rejected") {
        return {Error::kInvalidMessage, "'status' must be \"accepted\" or \"rejected\""};
      }
      if (sub) {
        const json* inner = nullptr;
        Field n{*sub, r};
        if (!n.object("audio", inner)) return r;
        if (inner && !parse_audio(*inner, r, out.audio)) return r;
        if (!n.object("vad", inner)) return r;
        if (inner && !parse_vad(*inner, r, out.silence_threshold_ms)) return r;
        if (!n.strings("features", out.features)) return r;
      }
      break;
    }
    case Type::kResponseStart:
      if (!f.integer("response_id", int64_t{0}, INT64_MAX, out.response_id)) return r;
      break;
    case Type::kResponseEnd:
      if (!f.integer("response_id", int64_t{0}, INT64_MAX, out.response_id) ||
          !f.boolean("interrupted", out.interrupted)) {
        return r;
      }
      break;
    case Type::kDtmf: {
      std::string digit;
      if (!f.string("digit", digit, true)) return r;
      if (digit.size() != 1 || !valid_digit(digit[0])) {
        return {Error::kInvalidMessage, "'digit' must be one of 0-9 * # A-D"};
      }
      out.digit = digit[0];
      break;
    }
    case Type::kSessionEnd:
      if (!f.string("reason", out.reason)) return r;
      break;
    case Type::kSessionEnded:
      if (!f.string("session_id", out.session_id) || !f.string("reason", out.reason)) return r;
      break;
    case Type::kError:
      if (!f.string("code", out.code, true) || !f.string("message", out.text)) return r;
      break;
    case Type::kTranscript: {
      if (!f.string("role", out.role, true) || !f.boolean("final", out.final)) return r;
      if (out.role != "caller" && out.role != "agent") {
        return {Error::kInvalidMessage, "'role' must be \"caller\" or \"agent\""};
      }
      // The one string allowed past kMaxStringBytes: a prompt is often longer.
      const auto it = j.find("text");
      if (it == j.end() || !it->is_string()) {
        return {Error::kInvalidMessage, "'text' is required and must be a string"};
      }
      if (it->get_ref<const std::string&>().size() > kMaxTranscriptBytes) {
        return {Error::kInvalidMessage, "'text' is too long"};
      }
      out.text = it->get<std::string>();
      break;
    }
    case Type::kAudioEnd:
    case Type::kBargeIn:
      break;
  }
  return r;
}

std::string capabilities_json() {
  return dump(
      {{"type", "protocol.capabilities"},
       {"version", kVersion},
       {"supported_sample_rates", {8000, 16000}},
       {"supported_encodings", {"pcm_s16le"}},
       {"features", {"barge_in", "streaming_tts", "dtmf", kFeatureTranscripts}},
       {"limits", {{"max_text_bytes", kMaxTextBytes}, {"max_binary_bytes", kMaxBinaryBytes}}}});
}

std::string session_start_json(const std::string& session_id, const AudioFormat& audio,
                               int silence_threshold_ms, const std::string& from,
                               const std::string& to) {
  json j = {{"type", "session.start"},
            {"version", kVersion},
            {"session_id", session_id},
            {"audio", audio_json(audio)},
            {"vad", {{"silence_threshold_ms", silence_threshold_ms}}},
            {"features", {"barge_in", "streaming_tts", "dtmf"}}};
  if (!from.empty()) j["from"] = from.substr(0, kMaxStringBytes);
  if (!to.empty()) j["to"] = to.substr(0, kMaxStringBytes);
  return dump(j);
}

std::string session_started_json(const std::string& session_id, const AudioFormat& audio,
                                 int silence_threshold_ms, bool transcripts) {
  json features = {"barge_in", "streaming_tts", "dtmf"};
  if (transcripts) features.push_back(kFeatureTranscripts);
  return dump({{"type", "session.started"},
               {"session_id", session_id},
               {"status", "accepted"},
               {"version", kVersion},
               {"negotiated",
                {{"audio", audio_json(audio)},
                 {"vad", {{"silence_threshold_ms", silence_threshold_ms}}},
                 {"features", std::move(features)}}}});
}

std::string_view utf8_prefix(std::string_view text, size_t max) {
  if (text.size() <= max) return text;
  size_t n = max;
  // Back off continuation bytes (10xxxxxx) so the cut falls before a lead byte.
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return text.substr(0, n);
}

std::string transcript_json(std::string_view role, std::string_view text, bool final) {
  return dump({{"type", "transcript"},
               {"role", std::string(role)},
               {"text", std::string(utf8_prefix(text, kMaxTranscriptBytes))},
               {"final", final}});
}

std::string response_start_json(int64_t id) {
  return dump({{"type", "response.start"}, {"response_id", id}});
}
std::string response_end_json(int64_t id, bool interrupted) {
  return dump({{"type", "response.end"}, {"response_id", id}, {"interrupted", interrupted}});
}
std::string audio_end_json() { return R"({"type":"audio.end"})"; }
std::string barge_in_json() { return R"({"type":"barge_in"})"; }
std::string dtmf_json(char digit) {
  return dump({{"type", "dtmf"}, {"digit", std::string(1, digit)}});
}
std::string session_end_json(std::string_view reason) {
  return dump({{"type", "session.end"}, {"reason", std::string(reason.substr(0, 64))}});
}
std::string session_ended_json(const std::string& session_id, std::string_view reason,
                               std::string_view detail, const SessionStats& s) {
  json j = {{"type", "session.ended"},
            {"session_id", session_id},
            {"reason", std::string(reason.substr(0, 128))},
            {"stats",
             {{"duration_ms", s.duration_ms},
              {"audio_in_ms", s.audio_in_ms},
              {"audio_out_ms", s.audio_out_ms},
              {"responses", s.responses},
              {"barge_ins", s.barge_ins},
              {"audio_ends", s.audio_ends}}}};
  if (!detail.empty()) j["detail"] = std::string(detail.substr(0, 128));
  return dump(j);
}
std::string error_json(Error e, std::string_view message) {
  return dump({{"type", "error"},
               {"code", error_code(e)},
               {"message", std::string(message.substr(0, 200))},
               {"close_code", close_code(e)}});
}

}  // namespace atende::asp
