// What the store knows about one call, as read back for the API and the CLI.
// Times are kept as unix milliseconds (UTC) in SQLite and shown as ISO-8601 UTC with
// milliseconds ("2024-05-01T12:00:00.123Z") in JSON and tables.
#pragma once
#include <chrono>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace atende::store {

using WallTime = std::chrono::system_clock::time_point;

enum class CallDirection { kInbound, kOutbound };
std::string_view to_string(CallDirection d);  // "inbound" / "outbound"

struct CallEvent {
  int64_t id = 0;  // insertion order; breaks ties between events with the same time
  WallTime at;
  std::string kind;    // e.g. "dtmf", "flow.step", "hangup"
  std::string detail;  // free text or a JSON string chosen by the writer
};

// One turn of an agent conversation (see agent/agent_turn.h). Stage times are ms since the
// agent started; nullopt when the stage did not happen.
struct CallTurn {
  int index = 0;
  std::string user_text{};
  std::string agent_text{};
  bool interrupted = false;
  std::string error{};
  std::optional<int64_t> speech_end_ms{};
  std::optional<int64_t> stt_final_ms{};
  std::optional<int64_t> first_token_ms{};
  std::optional<int64_t> first_audio_ms{};
  std::optional<int64_t> first_play_ms{};
};

// A call's audio recording (docs/recording.md), while it is kept.
struct RecordingInfo {
  std::string path;  // relative to <data dir>/recordings, e.g. "2026/12/05/<id>.wav"
  int64_t bytes = 0;
  std::string format = "wav";
};

struct CallRecord {
  std::string id;
  std::string direction;  // "inbound" / "outbound"
  std::string from_uri;
  std::string to_uri;
  std::string leg_kind;  // "sip", later "audiosocket", "asp", ...
  std::string flow;
  WallTime started_at;
  std::optional<WallTime> answered_at;
  std::optional<WallTime> ended_at;
  std::optional<std::string> end_reason;
  std::optional<int> sip_status;
  std::string digits;
  std::string session_id;                  // the session's first leg's id (itself for that leg)
  std::vector<CallEvent> events;           // filled by get_call() only
  std::vector<CallTurn> turns;             // filled by get_call() only (agent calls)
  std::vector<CallRecord> legs;            // get_call() only: the session's other legs, with events
  std::optional<RecordingInfo> recording;  // get_call() only; none, or deleted by retention
};

int64_t to_unix_ms(WallTime t);
WallTime from_unix_ms(int64_t ms);
// ISO-8601 UTC with milliseconds, e.g. "2024-05-01T12:00:00.123Z".
std::string format_iso8601(WallTime t);

// JSON for the HTTP API. `with_events` adds the "events" array (call detail view);
// unset optional fields are JSON null so the shape is stable for clients.
nlohmann::json to_json(const CallRecord& call, bool with_events);
nlohmann::json to_json(const CallEvent& event);
nlohmann::json to_json(const CallTurn& turn);

}  // namespace atende::store
