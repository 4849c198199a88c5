// The caller's words while they speak: one streaming recognition per utterance
// (speech/streaming_recognizer.h), for an agent whose persona names a streaming STT engine.
//
// The agent opens it when the endpointer hears speech start, pushes every frame of the
// utterance (pauses included), and finishes it at the end of the turn. Partials come back on
// the media thread as they form: the agent gives them to the endpointer (the end-of-turn
// wait follows the words; over an answer, the words decide barge-in) and starts its
// speculative answer from them at a short pause, instead of sending the utterance so far to
// a one-shot recogniser. The final transcript after finish() is the turn's.
//
// A stream that fails before finish() (connect refused, the server's error) is marked
// failed(): the agent then recognises the turn the one-shot way. An utterance that is
// dropped (a backchannel over the answer, speech while the agent was busy, the call ending)
// is cancelled, which closes the socket, so the provider stops.
//
// Threads: everything on the leg's media thread; the engine's callbacks are posted back
// through the host (a late one of an older stream is dropped by its stream number).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "agent/answer_token.h"
#include "flow/flow_host.h"
#include "speech/streaming_recognizer.h"

namespace atende::agent {

class CallerWords {
 public:
  struct Events {
    std::function<void(const std::string& partial)> on_partial;  // the whole hypothesis
    std::function<void(speech::Recognition final)> on_final;     // after finish() only
  };

  CallerWords(flow::FlowHost& host, speech::StreamingRecognizer& engine,
              speech::StreamRequest request, Events events);
  ~CallerWords();
  CallerWords(const CallerWords&) = delete;
  CallerWords& operator=(const CallerWords&) = delete;

  // Speech started: a new stream, fed `so_far` (the utterance with its pre-roll). An
  // utterance still open is cancelled first; one finishing keeps its final.
  void open(std::span<const int16_t> so_far);
  // A frame of the open utterance. Ignored when none is open.
  void push(std::span<const int16_t> pcm);
  // End of turn: the final transcript comes to Events::on_final. False if there is no
  // healthy open stream (never opened, failed, cancelled): recognise the one-shot way.
  bool finish();
  // The utterance is dropped: nothing more of it reaches the events.
  void cancel();

  bool listening() const { return live_ != nullptr; }
  bool failed() const { return failed_; }
  // The newest partial of the open utterance ("" before the first).
  const std::string& partial() const { return partial_; }

 private:
  void on_partial(uint64_t serial, std::string text);
  void on_final(uint64_t serial, speech::Recognition r);

  speech::StreamingRecognizer& engine_;
  speech::StreamRequest request_;
  Events events_;
  AnswerToken token_;  // for the loop's lifetime: nothing reaches a destroyed CallerWords
  std::unique_ptr<speech::RecognitionStream> live_;    // the utterance in progress
  std::unique_ptr<speech::RecognitionStream> ending_;  // finished, its final not back yet
  uint64_t serial_ = 0;                                // of live_ (the newest stream)
  uint64_t ending_serial_ = 0;
  bool failed_ = false;  // live_ ended with an error before finish()
  std::string partial_;
};

}  // namespace atende::agent
