// Streaming speech to text: the caller's audio goes to the engine while they speak, partial
// transcripts come back as they form, and the final transcript follows soon after the end
// of the utterance (instead of the whole recognition starting then, as with Recognizer).
// Engines register by name, like RecognizerRegistry: "openai_realtime_stt" (OpenAI Realtime
// transcription session, speech/openai_stt.h), "ws_stream" (Deepgram-style /v1/listen,
// speech/ws_stream_stt.h), "sphinx" (pocketsphinx partial hypotheses in grammar mode,
// speech/sphinx_streaming.h). docs/stt.md "Streaming recognition" has their parameters.
//
// One RecognitionStream per utterance: start() it when the caller starts speaking
// (turn::EndpointerEvents::on_speech_started; audio from before, e.g. the pre-roll the
// TurnDetector keeps, may be pushed first), push() every frame, finish() at the end of turn,
// cancel() when the utterance is abandoned (the speculative turn went on, the call ended).
//
// Threads (the same contract as Recognizer and llm::ChatClient):
//  - start(), push(), finish(), cancel() and the stream's destructor may be called from
//    the leg's media thread: they never block on the network or a decoder. push() copies
//    into a ring allocated by start() (never allocates per frame); a stream that outruns
//    the engine drops its oldest audio (counted in dropped_samples()).
//  - on_partial and on_final run on the engine's own thread (its WebSocket I/O thread or
//    its decoder thread) and must be quick: post to your own thread.
//  - on_final runs exactly once per stream: the final transcript after finish(), an error
//    (connect, protocol, timeout, the server's error event), or {ok=false,
//    cancelled=true} after cancel() / destruction. No on_partial starts after cancel()
//    returns (one already running may finish), and none after on_final.
//  - cancel() ends the remote side too: the engine closes its WebSocket (close frame) or
//    abandons the decode; a finished stream's final still arrives unless cancelled.
//
// Partials and the endpointer (the agent wires this; see docs/turn-taking.md): each
// on_partial carries the whole hypothesis so far (not a delta), which is what
// turn::Endpointer::on_partial_text(text, now) takes. Post it to the media thread and call
// on_partial_text there, for the stream of the utterance in progress only (a late partial
// of an earlier stream must be dropped: keep a per-stream token). The final transcript,
// too, may be fed to on_partial_text before the endpointer's end-of-turn timer fires: it
// then shortens the wait for a complete sentence and lengthens it for a trailing "and…".
// Partials are hypotheses: they may change or shrink; only on_final is the answer.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "speech/recognizer.h"

namespace atende::speech {

// What a stream listens for: RecognitionRequest without the audio.
struct StreamRequest {
  int sample_rate = 8000;               // of the pushed PCM16 mono (8000..48000)
  std::vector<std::string> expected{};  // grammar engines: the phrases; others: a hint
  std::string language = "en";
  std::string tag{};  // for logs (the call id)
  Carriers carriers{};
  std::vector<int> answer_of{};  // as RecognitionRequest::answer_of
};

struct StreamHandlers {
  // The whole hypothesis so far (not a delta). Engine thread. May be null.
  std::function<void(std::string_view text)> on_partial{};
  // Exactly once. Recognition::cancelled says it ended by cancel(). Engine thread. A
  // stream may be destroyed from inside its own on_final.
  std::function<void(Recognition result)> on_final{};
};

class RecognitionStream {
 public:
  // Destroying a stream that has not ended cancels it.
  virtual ~RecognitionStream() = default;
  // The caller's audio, in time order, at StreamRequest::sample_rate. Ignored after
  // finish() or cancel().
  virtual void push(std::span<const int16_t> pcm) = 0;
  // End of utterance: the engine flushes what it has and gives the final transcript.
  virtual void finish() = 0;
  // Discard: the remote request ends; on_final(cancelled) follows if it had not ended.
  virtual void cancel() = 0;
  // Samples dropped because the engine fell behind (the ring was full).
  virtual uint64_t dropped_samples() const = 0;
};

class StreamingRecognizer {
 public:
  virtual ~StreamingRecognizer() = default;
  // Never blocks. Never null: a stream that cannot start ends at once with on_final(error)
  // (on the calling thread, the only case it does).
  virtual std::unique_ptr<RecognitionStream> start(StreamRequest request,
                                                   StreamHandlers handlers) = 0;
  // True if it honours StreamRequest::expected as a grammar (sphinx).
  virtual bool uses_grammar() const = 0;
  virtual const char* name() const = 0;
};

// Throws std::invalid_argument with a readable message for bad or unknown parameters.
using StreamingRecognizerFactory =
    std::function<std::unique_ptr<StreamingRecognizer>(const RecognizerParams&)>;

// Defined by the engines.
std::unique_ptr<StreamingRecognizer> make_openai_realtime_stt(const RecognizerParams& params);
std::unique_ptr<StreamingRecognizer> make_ws_stream_stt(const RecognizerParams& params);
std::unique_ptr<StreamingRecognizer> make_sphinx_streaming(const RecognizerParams& params);

class StreamingRecognizerRegistry {
 public:
  static StreamingRecognizerRegistry with_builtins() {
    StreamingRecognizerRegistry r;
    r.add("openai_realtime_stt", &make_openai_realtime_stt);
    r.add("ws_stream", &make_ws_stream_stt);
    r.add("sphinx", &make_sphinx_streaming);
    return r;
  }
  void add(const std::string& name, StreamingRecognizerFactory factory) {
    factories_[name] = std::move(factory);
  }
  bool has(const std::string& name) const { return factories_.count(name) != 0; }
  // Throws std::invalid_argument for an unknown engine or bad parameters.
  std::unique_ptr<StreamingRecognizer> create(const std::string& name,
                                              const RecognizerParams& params = {}) const {
    auto it = factories_.find(name);
    if (it == factories_.end()) {
      std::string known;
      for (const auto& [n, f] : factories_) known += (known.empty() ? "" : ", ") + n;
      throw std::invalid_argument("unknown streaming recogniser '" + name + "' (known: " + known +
                                  ")");
    }
    return it->second(params);
  }

 private:
  std::map<std::string, StreamingRecognizerFactory> factories_;
};

// A streaming engine behind the one-shot Recognizer interface: recognize() opens a stream,
// pushes the whole utterance, finishes it and hands the final to `done`. The agent and
// flows can use a streaming engine unchanged (without partials, and without the latency
// gain: the audio is sent only at the end of the turn).
class StreamingAsOneShot : public Recognizer {
 public:
  explicit StreamingAsOneShot(std::shared_ptr<StreamingRecognizer> engine)
      : engine_(std::move(engine)) {}
  void recognize(RecognitionRequest request, RecognitionCallback done) override;
  bool uses_grammar() const override { return engine_->uses_grammar(); }
  StreamingRecognizer& engine() { return *engine_; }

 private:
  std::shared_ptr<StreamingRecognizer> engine_;
};

}  // namespace atende::speech
