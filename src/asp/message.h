// The Audio Session Protocol's control messages (docs/asp.md): JSON text frames, each an
// object with a "type". This file is only the wire format: parse one text frame into a
// Message (defensively: bounded size, every field type-checked, unknown fields ignored,
// unknown types refused) and write the messages we send. No sockets, no sessions, so it is
// unit-tested and fuzzed on its own. Runs on the ASP I/O thread, never on a media worker.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace atende::asp {

inline constexpr int kVersionMajor = 1;
inline constexpr const char* kVersion = "1.0.0";
inline constexpr size_t kMaxTextBytes = 4096;       // a control message
inline constexpr size_t kMaxBinaryBytes = 6400;     // an audio message: 200 ms at 16 kHz
inline constexpr size_t kMaxStringBytes = 256;      // any string field
inline constexpr size_t kMaxListItems = 16;         // any array field
inline constexpr size_t kMaxTranscriptBytes = 640;  // a transcript's text (the one longer string)
inline constexpr const char* kFeatureTranscripts = "transcripts";

enum class Type {
  kCapabilities,    // protocol.capabilities (server -> client, first)
  kSessionStart,    // session.start (client -> server)
  kSessionStarted,  // session.started (server -> client)
  kAudioEnd,        // audio.end (client -> server): the caller stopped speaking
  kResponseStart,   // response.start (server -> client)
  kResponseEnd,     // response.end (server -> client)
  kBargeIn,         // barge_in (client -> server): the caller spoke over the response
  kDtmf,            // dtmf (both)
  kSessionEnd,      // session.end (client -> server)
  kSessionEnded,    // session.ended (server -> client)
  kError,           // error (both)
  kTranscript,      // transcript (server -> client, feature "transcripts")
};
const char* type_name(Type t);

// Error codes and the WebSocket close code each one ends the connection with.
enum class Error {
  kNone = 0,
  kInvalidMessage,     // 4400: not JSON, not an object, a field missing or of the wrong type
  kUnknownMessage,     // 4401: a "type" this version does not know
  kUnexpectedMessage,  // 4402: a known message out of order
  kUnsupported,        // 4406: version, sample rate, encoding, channels or frame size
  kTimeout,            // 4408: no session.start in time
  kSessionInUse,       // 4409: session_id belongs to a live session
  kTooFast,            // 4429: audio faster than real time
  kRefused,            // 4503: no flow, at max_calls, shutting down
  kInternal,           // 4500: our fault
};
const char* error_code(Error e);
uint16_t close_code(Error e);

struct AudioFormat {
  int sample_rate = 8000;
  std::string encoding = "pcm_s16le";
  int channels = 1;
  int frame_ms = 20;
};

struct Message {
  Type type = Type::kError;
  // protocol.capabilities
  std::string version;
  std::vector<int> sample_rates;
  std::vector<std::string> encodings;
  std::vector<std::string> features;
  // session.start / session.started
  std::string session_id;
  std::string from, to;
  AudioFormat audio;
  int silence_threshold_ms = 500;
  std::string status;  // session.started: "accepted" | "rejected"
  // response.*
  int64_t response_id = 0;
  bool interrupted = false;
  // dtmf
  char digit = 0;
  // session.end / session.ended / error
  std::string reason;
  std::string code;
  std::string text;   // error.message; transcript.text
  std::string role;   // transcript: "caller" | "agent"
  bool final = true;  // transcript
};

struct ParseResult {
  Error error = Error::kNone;
  std::string detail;  // what was wrong, for the error message and the log
  bool ok() const { return error == Error::kNone; }
};

// One text frame. Strings longer than kMaxStringBytes and lists longer than kMaxListItems
// are errors, not truncations.
ParseResult parse_message(std::string_view text, Message& out);

// "1.0.0", "1.2", "1": the major number; -1 when not a version.
int version_major(std::string_view version);
// A UUID in 8-4-4-4-12 hex form; `canonical` gets it lowercased.
bool parse_session_id(std::string_view text, std::string& canonical);
bool valid_digit(char c);

struct SessionStats {
  int64_t duration_ms = 0;
  int64_t audio_in_ms = 0;
  int64_t audio_out_ms = 0;
  int64_t responses = 0;
  int64_t barge_ins = 0;
  int64_t audio_ends = 0;
};

// The messages we write (compact JSON, one line each).
std::string capabilities_json();
std::string session_start_json(const std::string& session_id, const AudioFormat& audio,
                               int silence_threshold_ms, const std::string& from,
                               const std::string& to);
// `transcripts`: the client asked for the feature and gets it.
std::string session_started_json(const std::string& session_id, const AudioFormat& audio,
                                 int silence_threshold_ms, bool transcripts = false);
// One line of the conversation (feature "transcripts"); `text` cut to kMaxTranscriptBytes
// on a UTF-8 boundary.
std::string transcript_json(std::string_view role, std::string_view text, bool final = true);
// The longest prefix of `text` of at most `max` bytes that does not split a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view text, size_t max);
std::string response_start_json(int64_t id);
std::string response_end_json(int64_t id, bool interrupted);
std::string audio_end_json();
std::string barge_in_json();
std::string dtmf_json(char digit);
std::string session_end_json(std::string_view reason);
std::string session_ended_json(const std::string& session_id, std::string_view reason,
                               std::string_view detail, const SessionStats& stats);
std::string error_json(Error e, std::string_view message);

}  // namespace atende::asp
