// The wire formats of the streaming recognisers (docs/stt.md "Streaming recognition" quotes
// the public references they follow): what we send, built as JSON text, and what the
// server sends, parsed from untrusted text with every field bounded.
//
//  OpenAI Realtime transcription session (engine "openai_realtime_stt"), GA names:
//    -> session.update {session: {type: "transcription", audio: {input: {format:
//       {type: "audio/pcm", rate: 24000}, transcription: {model, language, prompt},
//       turn_detection: null}}}}
//       (api "beta": transcription_session.update {session: {input_audio_format: "pcm16",
//       input_audio_transcription: {...}, turn_detection: null}})
//    -> input_audio_buffer.append {audio: base64 pcm16 24 kHz}, input_audio_buffer.commit
//    <- input_audio_buffer.committed {item_id},
//       conversation.item.input_audio_transcription.delta {item_id, delta},
//       conversation.item.input_audio_transcription.completed {item_id, transcript},
//       conversation.item.input_audio_transcription.failed {item_id, error},
//       error {error: {type, code, message}}
//  Deepgram-style live transcription (engine "ws_stream", protocol "deepgram"):
//    -> binary frames of linear16 PCM at the URL's sample_rate, then {"type": "CloseStream"}
//    <- {"type": "Results", "is_final", "speech_final", "from_finalize",
//        "channel": {"alternatives": [{"transcript", "confidence"}]}}, {"type": "Metadata"},
//       {"type": "Error", "description"/"message"}; SpeechStarted/UtteranceEnd ignored.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace atende::speech::wire {

inline constexpr size_t kMaxEventBytes = 256 * 1024;  // a larger message ends the stream
inline constexpr size_t kMaxTranscriptBytes = 4096;   // per field, and per accumulated text
inline constexpr size_t kMaxIdBytes = 128;
inline constexpr int kOpenAiRate = 24000;

enum class Kind {
  kSession,    // session.created / updated (either api)
  kCommitted,  // input_audio_buffer.committed: item_id
  kDelta,      // ...input_audio_transcription.delta: item_id, text (the delta)
  kCompleted,  // ...input_audio_transcription.completed: item_id, text (whole)
  kFailed,     // ...input_audio_transcription.failed: item_id, code, message
  kError,      // error (OpenAI) / Error (Deepgram): code, message
  kResults,    // Deepgram Results: text, is_final, speech_final, from_finalize, confidence
  kMetadata,   // Deepgram Metadata: the stream is over (after CloseStream)
  kOther,      // known-harmless or unknown: ignored
};

struct Event {
  Kind kind = Kind::kOther;
  std::string type_name;  // as sent, bounded (logs)
  std::string item_id;
  std::string text;
  std::string code;
  std::string message;
  bool is_final = false;
  bool speech_final = false;
  bool from_finalize = false;
  float confidence = 1;  // 0..1
};

// nullopt (and `error` says why) for text that is not a JSON object with a string "type",
// or a field of the wrong type or over its bound.
std::optional<Event> parse_openai_stt_event(std::string_view text, std::string* error = nullptr);
std::optional<Event> parse_listen_event(std::string_view text, std::string* error = nullptr);

struct OpenAiSttSession {
  bool beta = false;  // transcription_session.update instead of the GA session.update
  std::string model = "gpt-4o-transcribe";
  std::string language;  // "" : left out (the model detects it)
  std::string prompt;    // "" : left out
};
std::string openai_stt_session_update(const OpenAiSttSession& s);
std::string openai_audio_append(std::span<const int16_t> pcm24k);
std::string openai_audio_commit();

std::string listen_close_stream();

}  // namespace atende::speech::wire
