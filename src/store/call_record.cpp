#include "store/call_record.h"

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

namespace atende::store {

std::string_view to_string(CallDirection d) {
  return d == CallDirection::kInbound ? "inbound" : "outbound";
}

int64_t to_unix_ms(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

WallTime from_unix_ms(int64_t ms) {
  return WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::milliseconds(ms)));
}

std::string format_iso8601(WallTime t) {
  const int64_t ms = to_unix_ms(t);
  // Floor division so times before 1970 still get a 0..999 millisecond part.
  int64_t secs = ms / 1000;
  int64_t rem = ms % 1000;
  if (rem < 0) {
    rem += 1000;
    secs -= 1;
  }
  const std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  if (gmtime_r(&tt, &tm) == nullptr) return "invalid-time";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(rem));
  return buf;
}

nlohmann::json to_json(const CallEvent& e) {
  return {{"at", format_iso8601(e.at)}, {"kind", e.kind}, {"detail", e.detail}};
}

nlohmann::json to_json(const CallTurn& t) {
  auto ms = [](const std::optional<int64_t>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
  };
  return {{"index", t.index},
          {"user_text", t.user_text},
          {"agent_text", t.agent_text},
          {"interrupted", t.interrupted},
          {"error", t.error},
          {"speech_end_ms", ms(t.speech_end_ms)},
          {"stt_final_ms", ms(t.stt_final_ms)},
          {"first_token_ms", ms(t.first_token_ms)},
          {"first_audio_ms", ms(t.first_audio_ms)},
          {"first_play_ms", ms(t.first_play_ms)}};
}

nlohmann::json to_json(const CallRecord& c, bool with_events) {
  auto opt_time = [](const std::optional<WallTime>& t) -> nlohmann::json {
    return t ? nlohmann::json(format_iso8601(*t)) : nlohmann::json(nullptr);
  };
  nlohmann::json j = {
      {"id", c.id},
      {"direction", c.direction},
      {"from", c.from_uri},
      {"to", c.to_uri},
      {"leg_kind", c.leg_kind},
      {"flow", c.flow},
      {"started_at", format_iso8601(c.started_at)},
      {"answered_at", opt_time(c.answered_at)},
      {"ended_at", opt_time(c.ended_at)},
      {"end_reason", c.end_reason ? nlohmann::json(*c.end_reason) : nlohmann::json(nullptr)},
      {"sip_status", c.sip_status ? nlohmann::json(*c.sip_status) : nlohmann::json(nullptr)},
      {"digits", c.digits},
      {"session_id", c.session_id},
  };
  if (c.ended_at) {
    j["duration_ms"] = to_unix_ms(*c.ended_at) - to_unix_ms(c.started_at);
  } else {
    j["duration_ms"] = nullptr;
  }
  if (with_events) {
    auto events = nlohmann::json::array();
    for (const auto& e : c.events) events.push_back(to_json(e));
    j["events"] = std::move(events);
    auto turns = nlohmann::json::array();
    for (const auto& t : c.turns) turns.push_back(to_json(t));
    j["turns"] = std::move(turns);
    auto legs = nlohmann::json::array();
    for (const auto& l : c.legs) legs.push_back(to_json(l, true));
    j["legs"] = std::move(legs);
    // docs/console-contract "Recording": where to fetch it, or null.
    if (c.recording) {
      j["recording"] = {{"url", "/api/calls/" + c.id + "/recording"},
                        {"bytes", c.recording->bytes},
                        {"format", c.recording->format}};
    } else {
      j["recording"] = nullptr;
    }
  }
  return j;
}

}  // namespace atende::store
