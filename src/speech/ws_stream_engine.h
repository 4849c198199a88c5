// What the WebSocket streaming recognisers share: one I/O thread per engine (net::IoThread),
// one WebSocket per stream (net::WsConnection), and a session that every 20 ms moves the
// caller's audio from the stream's ring to the socket, sends the end of utterance, waits
// (bounded) for the final and closes. The wire format is a WsStreamProtocol: OpenAI
// Realtime transcription (openai_stt.cpp) or Deepgram-style listen (ws_stream_stt.cpp).
//
// A stream opens its socket at start(): start it when the caller starts speaking and the
// handshake overlaps their speech; audio pushed meanwhile waits in the ring.
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/ws_connection.h"
#include "speech/stream_core.h"
#include "speech/streaming_recognizer.h"

namespace atende::speech {

struct WsStreamOptions {
  net::WsUrl url;                                            // ws[s]://host[:port]/path?query
  std::vector<std::pair<std::string, std::string>> headers;  // Authorization
  std::string ca_file;  // wss://: the CAs to trust (PEM); empty: the system's
  std::chrono::milliseconds connect_timeout{3000};
  // From finish() (once the last audio is sent) to the final: longer is an error.
  std::chrono::milliseconds final_timeout{5000};
  double max_audio_seconds = 30;  // of one utterance: the ring's size, and what is sent
  int send_every_ms = 40;         // audio batched per message
};

// One stream's wire format. Runs on the I/O thread only.
class WsStreamProtocol {
 public:
  struct Outcome {
    enum class Kind { kNone, kPartial, kFinal } kind = Kind::kNone;
    // kPartial: the whole hypothesis so far. The session passes it on only when it changed:
    // a server repeating itself (empty deltas, the same interim twice) must not flood the
    // owner's thread.
    std::string partial;
    Recognition final;  // kFinal: ok with text, or !ok with error
  };
  virtual ~WsStreamProtocol() = default;
  // The request target (path and query) to dial, from the configured one.
  virtual std::string target(const std::string& configured) { return configured; }
  virtual void on_open(net::WsConnection& ws) {}
  // Audio at the stream's rate, in order.
  virtual void send_audio(std::span<const int16_t> pcm, net::WsConnection& ws) = 0;
  virtual void send_finish(net::WsConnection& ws) = 0;
  virtual Outcome on_text(std::string_view text, bool finish_sent) = 0;
  // The server closed the socket (cleanly or not; `why` says how).
  virtual Outcome on_server_closed(const std::string& why, bool finish_sent) {
    Outcome o;
    o.kind = Outcome::Kind::kFinal;
    o.final.error = why;
    return o;
  }
};

using WsStreamProtocolFactory =
    std::function<std::unique_ptr<WsStreamProtocol>(const StreamRequest& request)>;

class WsStreamRecognizer : public StreamingRecognizer {
 public:
  // `name`: the engine's name, for Recognition::engine and errors ("openai_realtime_stt").
  WsStreamRecognizer(const char* name, WsStreamOptions options, WsStreamProtocolFactory protocol);
  // Stops the I/O thread; streams still running end with on_final(error "shutting down").
  ~WsStreamRecognizer() override;

  std::unique_ptr<RecognitionStream> start(StreamRequest request, StreamHandlers handlers) override;
  bool uses_grammar() const override { return false; }
  const char* name() const override { return name_; }
  const WsStreamOptions& options() const { return options_; }

 private:
  const char* name_;
  WsStreamOptions options_;
  WsStreamProtocolFactory protocol_;
  std::mutex mu_;
  std::vector<std::weak_ptr<StreamCore>> streams_;
  std::unique_ptr<net::IoThread> io_;
};

// Shared parameter parsing of the WebSocket engines: url (required, wss:// or ws://),
// ca_file, api_key, api_key_env, connect_timeout_ms, final_timeout_ms, max_audio_seconds. The key
// is sent as "Authorization: <auth_scheme> <key>". Consumed keys are erased from `params`. Throws
// std::invalid_argument naming the bad key.
WsStreamOptions ws_stream_options_from(const char* engine, RecognizerParams& params,
                                       const std::string& default_key_env,
                                       const std::string& auth_scheme);

// The value of `key`, erased from `params`; nullopt when absent.
std::optional<std::string> take_param(RecognizerParams& params, const char* key);
// `value` when it is 1 to 100 ASCII letters, digits and `punctuation` (values go into JSON or
// a URL as they are); otherwise throws std::invalid_argument "<engine>: bad value '<value>'
// for <key>".
std::string word_param(const char* engine, const char* key, const std::string& value,
                       std::string_view punctuation);
// std::stoi/std::stod with the engine's error message; `lo`..`hi` inclusive.
int int_param(const char* engine, const std::string& key, const std::string& value, int lo, int hi);
// Throws std::invalid_argument "<engine>: unknown parameter '<key>'" for any key left.
void refuse_unknown(const char* engine, const RecognizerParams& params);

}  // namespace atende::speech
