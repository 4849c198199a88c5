// Streaming speech to text with an OpenAI Realtime transcription session (engine
// "openai_realtime_stt"): one WebSocket per utterance to {url} (the public endpoint is
// wss://api.openai.com/v1/realtime?intent=transcription), session.update with type "transcription"
// and turn_detection null (our endpointer decides the turn), the caller's audio resampled to 24 kHz
// in input_audio_buffer.append, input_audio_buffer.commit at finish(). Deltas
// (conversation.item.input_audio_transcription.delta) become partials, .completed the
// final; .failed and error events end the stream with an error. An empty buffer
// (error code input_audio_buffer_commit_empty) is a rejected, empty utterance, not an error.
//
// Config: url (required), model ("gpt-4o-transcribe"), language, api ("ga" | "beta": the
// older transcription_session.update), prompt_hint ("on": expected phrases as the prompt),
// ca_file (wss://: the CAs to trust instead of the system's), api_key, api_key_env
// ("OPENAI_API_KEY"), connect_timeout_ms (3000), final_timeout_ms
// (5000), max_audio_seconds (30).
#pragma once
#include <memory>

#include "speech/streaming_recognizer.h"
#include "speech/stt_wire.h"
#include "speech/ws_stream_engine.h"

namespace atende::speech {

struct OpenAiSttOptions {
  WsStreamOptions ws;
  wire::OpenAiSttSession session;
  bool prompt_hint = true;
};

// Throws std::invalid_argument naming the bad key.
OpenAiSttOptions openai_stt_options_from(const RecognizerParams& params);

std::unique_ptr<WsStreamRecognizer> make_openai_stt(OpenAiSttOptions options);

}  // namespace atende::speech
