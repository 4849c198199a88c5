// pocketsphinx in grammar mode as a streaming recogniser (streaming engine "sphinx"):
// partial hypotheses while the caller speaks, the same final as the one-shot engine.
//
//  - Partials: one extra decoder (-compallsen off: partials need no phone loop) on its own
//    thread. Each stream's audio is collected as it arrives (upsampled to 16 kHz, the same
//    noise floor), and after every 250 ms of new audio the utterance so far is decoded in
//    the stream's grammar (ps_process_raw with full_utt, then ps_get_hyp); a changed
//    hypothesis is a partial. Whole passes rather than pocketsphinx's live mode: with live
//    cepstral normalisation the first utterances after start-up gave no hypothesis at all
//    (measured). A pass costs ~1.3 % of its audio's duration (docs/stt.md "Cost"), so a
//    3 s turn costs ~0.1 s of CPU in partials; turns over 8 s get no more partials.
//    The decoder serves one stream at a time; streams that start while it is busy get no
//    partials (their final is unchanged). Partials are hints: the final decides.
//  - Final: at finish() the whole utterance goes to the wrapped SphinxRecognizer (its
//    queue and workers, its rejection checks): exactly what the one-shot engine answers.
//
// Threads: the partial thread drains every stream's ring (so push() never waits for a
// decoder) and calls on_partial; on_final runs on the SphinxRecognizer's worker (or on the
// partial thread for a cancelled stream).
//
// Config: every parameter of the "sphinx" engine (sphinx_recognizer.h), plus partials
// ("on" | "off": off, the streams only give the final).
#pragma once
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "speech/sphinx_recognizer.h"
#include "speech/stream_core.h"
#include "speech/streaming_recognizer.h"

namespace atende::speech {

class SphinxStreaming : public StreamingRecognizer {
 public:
  // Throws std::runtime_error if the partial decoder cannot load.
  SphinxStreaming(std::shared_ptr<SphinxRecognizer> finals, SphinxOptions options,
                  bool partials = true);
  // Streams still running end with on_final(error "shutting down").
  ~SphinxStreaming() override;

  std::unique_ptr<RecognitionStream> start(StreamRequest request, StreamHandlers handlers) override;
  bool uses_grammar() const override { return true; }
  const char* name() const override { return "sphinx"; }

  // Partials given so far (for tests and metrics).
  uint64_t partials_given() const;

 private:
  struct Partial;
  struct Active;
  void run();
  void step(Active& a);
  void feed(Active& a, std::span<const int16_t> pcm);
  void decode_partial(Active& a);
  void finish(Active& a);
  void release_decoder(Active& a);

  std::shared_ptr<SphinxRecognizer> finals_;
  SphinxOptions options_;
  std::unique_ptr<Partial> decoder_;  // null: partials off
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<StreamCore>> incoming_;
  bool stopping_ = false;
  uint64_t partials_given_ = 0;
  std::vector<std::unique_ptr<Active>> active_;  // the partial thread's only
  std::thread thread_;
};

}  // namespace atende::speech
