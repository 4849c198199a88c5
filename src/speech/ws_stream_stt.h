// Streaming speech to text over the common hosted-recogniser WebSocket style (engine
// "ws_stream"): binary PCM frames up, JSON partial/final results down, a close message at
// the end. One wire format is implemented, named by `protocol`:
//
//   deepgram: Deepgram's live /v1/listen. Dials {url} with
//     ?encoding=linear16&sample_rate=<the stream's>&channels=1&interim_results=true
//     [&model=..][&language=..] appended, "Authorization: Token <key>"; sends the caller's
//     audio as binary linear16 frames (40 ms each), {"type":"CloseStream"} at finish().
//     Results with is_final false are partials; those with is_final true are joined into
//     the final transcript, delivered when Metadata arrives (the server's last message
//     after CloseStream) or the server closes the socket. cancel() closes the socket with a
//     close frame and no CloseStream.
//
// Config: url (required, e.g. wss://api.deepgram.com/v1/listen), protocol ("deepgram"), model,
// language, ca_file (wss://: the CAs to trust instead of the system's), api_key, api_key_env
// ("DEEPGRAM_API_KEY"), connect_timeout_ms (3000), final_timeout_ms (5000), max_audio_seconds (30).
#pragma once
#include <memory>
#include <string>

#include "speech/streaming_recognizer.h"
#include "speech/ws_stream_engine.h"

namespace atende::speech {

struct WsStreamSttOptions {
  WsStreamOptions ws;
  std::string model;     // "" : the server's default
  std::string language;  // "" : the server's default
};

// Throws std::invalid_argument naming the bad key.
WsStreamSttOptions ws_stream_stt_options_from(const RecognizerParams& params);

std::unique_ptr<WsStreamRecognizer> make_deepgram_stt(WsStreamSttOptions options);

// The request target for a stream at `rate` (exposed for tests).
std::string listen_target(const std::string& configured, const WsStreamSttOptions& options,
                          int rate);

}  // namespace atende::speech
