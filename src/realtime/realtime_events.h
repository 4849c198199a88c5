// The OpenAI Realtime API's WebSocket events (GA names, docs/realtime.md): the client events
// we send, built as JSON text, and the server events we act on, parsed from untrusted text.
//
// Audio is pcm16 mono little-endian at 24 kHz both ways (`audio/pcm`, rate 24000), base64
// in the JSON. Beta aliases of the same payloads (response.audio.delta,
// response.audio_transcript.*) are accepted on input; what we send is GA only.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "llm/chat_types.h"

namespace atende::realtime {

inline constexpr int kRealtimeRate = 24000;
// Bounds on what we accept from the server (the socket also caps a message at kMaxEventBytes).
inline constexpr size_t kMaxEventBytes = 1 << 20;
inline constexpr size_t kMaxTextBytes = 64 * 1024;  // a transcript, delta, arguments, message
inline constexpr size_t kMaxIdBytes = 128;

// ---- client -> server ----

struct SessionConfig {
  std::string model;         // "gpt-realtime"; empty: left out (the URL's ?model= decides)
  std::string instructions;  // the persona's prompt
  std::string voice;         // "alloy", "marin"...; empty: the server's default
  std::optional<int> max_output_tokens;
  std::vector<llm::ToolSpec> tools;
  // Server VAD: the server detects turns, answers and interrupts itself. Off: we commit the
  // input buffer and ask for each response (turn_detection null).
  bool server_vad = true;
  int silence_ms = 500;             // server_vad silence_duration_ms
  std::string transcription_model;  // caller transcripts; empty: none requested
  std::string language;             // transcription language hint ("en", "pt")
};

std::string session_update(const SessionConfig& config);
// `pcm` at 24 kHz.
std::string input_audio_append(std::span<const int16_t> pcm);
std::string input_audio_commit();
// Empties the server's input buffer (what was appended since the last commit).
std::string input_audio_clear();
// `instructions`: for this response only (the greeting); empty: the session's.
std::string response_create(std::string_view instructions = {});
std::string response_cancel();
// The assistant audio item was heard up to `audio_end_ms`: the server drops the rest (and its
// transcript) from the conversation.
std::string item_truncate(std::string_view item_id, int audio_end_ms);
// Removes an item from the conversation: the output of a speculative response the caller
// talked on through (agent/realtime_engine.h).
std::string item_delete(std::string_view item_id);
// The result of a function call, as a conversation item (then response_create()).
std::string function_call_output(std::string_view call_id, std::string_view output);

// ---- server -> client ----

enum class EventType {
  kSessionCreated,
  kSessionUpdated,
  kSpeechStarted,    // input_audio_buffer.speech_started (server VAD)
  kSpeechStopped,    // input_audio_buffer.speech_stopped
  kInputTranscript,  // conversation.item.input_audio_transcription.completed: `text`
  kResponseCreated,  // response.created: `response_id`
  kOutputItem,       // response.output_item.added: `response_id`, `item_id` (item.id)
  kAudioDelta,       // response.output_audio.delta: `pcm`, `item_id`
  kTranscriptDelta,  // response.output_audio_transcript.delta: `text`
  kTranscriptDone,   // response.output_audio_transcript.done: `text` (whole)
  kFunctionCall,     // response.function_call_arguments.done: `call_id`, `name`, `text`
  kResponseDone,     // response.done: `status` (completed, cancelled, failed...)
  kError,            // error: `code`, `text`
  kOther,            // a known-harmless or unknown type: ignored
};

struct ServerEvent {
  EventType type = EventType::kOther;
  std::string type_name;  // as sent (for logs), bounded
  std::string response_id;
  std::string item_id;
  std::string call_id;
  std::string name;
  std::string status;
  std::string code;
  std::string text;
  std::vector<int16_t> pcm;  // kAudioDelta, 24 kHz
};

// Parses one text message. nullopt (and `error` says why) for text that is not a JSON object
// with a string "type", a field of the wrong type or over its bound, or bad base64 audio.
std::optional<ServerEvent> parse_server_event(std::string_view text, std::string* error = nullptr);

}  // namespace atende::realtime
