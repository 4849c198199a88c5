// The agent's voice: the last two processors of its chain, synthesiser and playout.
//
//   Dialogue --Sentence--> AnswerVoice --clips--> Leg
//                               |
//                               +--> AnswerVoiceEvents (audio ready, a sentence on the leg,
//                                    a synthesis error or stall, everything handed over)
//
// Sentences go in in speaking order (say()); each is synthesised at once (a cached or
// fetched clip from a PhraseSource, or streamed from a StreamingTts: the caller hears its
// first chunk, not the whole sentence) and handed to the leg in that order, whatever order
// their audio arrives in. What went to the leg is written in played(), so a barge-in keeps
// in the history only what the caller heard.
//
// A held voice (hold(true): a speculative answer, agent/speculation.h) synthesises but plays
// nothing until released. drop() forgets every queued sentence and cancels its synthesis
// (the leg's own queue is the caller's to flush).
//
// Threads: every method on the leg's media thread, never blocking. Synthesis results come
// back through the voice's own cancellation token, cancelled by drop() and the destructor.
#pragma once
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "agent/answer_token.h"
#include "agent/barge_in_heard.h"
#include "agent/streamed_sentence.h"
#include "core/clock.h"
#include "flow/flow_host.h"
#include "speech/streaming_tts.h"
#include "speech/synthesizer.h"

namespace atende::agent {

// One sentence for the voice: what is said and what it is part of.
struct Sentence {
  std::string text;
  bool answer = false;    // part of the LLM's answer (counts for the turn's timing)
  bool embedded = false;  // from the host's phrases (espeak-ng) even if the persona has a TTS
  bool stream = false;    // streamed when a StreamingTts is there and it is not cached
  int round = 0;          // tool round of the turn it belongs to
};

// Synthesis that went wrong. A failed clip is skipped (the next sentence plays); a streamed
// sentence that failed or stalled leaves the caller in silence, so the agent says why.
struct VoiceError {
  enum class Kind { kClipFailed, kStreamFailed, kStalled };
  Kind kind;
  std::string message;
  bool heard_any = false;  // some of the sentence went to the leg
};

class AnswerVoiceEvents {
 public:
  virtual ~AnswerVoiceEvents() = default;
  // Audio of an answer sentence exists (a clip, or a stream's chunk), played or not.
  virtual void on_answer_audio(MonoTime now) = 0;
  // Audio of `s` went to the leg; `first`: its first piece, then `part` is its index in
  // played() (the parts before it were already queued).
  virtual void on_sentence_queued(const Sentence& s, bool first, size_t part, MonoTime now) = 0;
  // The handler may drop() the voice: it checks before going on.
  virtual void on_voice_error(const VoiceError& error, MonoTime now) = 0;
  // Everything queued went to the leg (it may still be playing).
  virtual void on_voice_drained(MonoTime now) = 0;
};

struct AnswerVoiceSettings {
  speech::Voice voice;
  // A streamed sentence that leaves the caller in silence this long has stalled.
  std::chrono::milliseconds stall_timeout{1500};
  // The media clock for work that comes back from other threads; empty: MonoClock::now.
  std::function<MonoTime()> clock;
};

class AnswerVoice {
 public:
  // `tts` null: the host's phrases; `stream_tts` null: every sentence is a whole clip.
  AnswerVoice(flow::FlowHost& host, AnswerVoiceSettings settings, speech::PhraseSource* tts,
              speech::StreamingTts* stream_tts, AnswerVoiceEvents& events);
  ~AnswerVoice();
  AnswerVoice(const AnswerVoice&) = delete;
  AnswerVoice& operator=(const AnswerVoice&) = delete;

  void say(Sentence s, MonoTime now);
  // Held: synthesise, play nothing. Released, what is ready goes at the next pump().
  void hold(bool held) { held_ = held; }
  // Forgets every queued sentence and cancels its synthesis.
  void drop();
  // Every frame, first: the samples the leg sent (while it plays: what the caller heard).
  void count_played(size_t samples);
  // Every frame, after the ear: hands streamed audio over, watches for stalls.
  void tick(MonoTime now);
  // Hands over what is ready, in order.
  void pump(MonoTime now);

  bool idle() const { return pending_.empty(); }
  // Audio of a queued sentence is waiting (ready to play).
  bool has_audio() const;
  // Synthesis requests started so far (for the speculation's report).
  int requests() const { return requests_; }
  PlayedSpeech& played() { return played_; }
  const PlayedSpeech& played() const { return played_; }

 private:
  struct Pending {
    Sentence sentence;
    ClipPtr clip;
    bool ready = false;
    // Streamed sentences: audio arrives in pieces (stream), from this request (tts).
    std::shared_ptr<StreamedSentence> stream;
    speech::TtsStreamPtr tts;
    bool queued_any = false;  // a piece went to the leg (and to played_)
  };
  speech::PhraseSource& phrases(bool embedded);
  void say_clip(Sentence s);
  void start_streams();
  void on_clip(size_t slot, ClipPtr clip);
  void on_stream_audio(size_t slot, std::vector<int16_t> pcm);
  void on_stream_done(size_t slot, speech::TtsResult result);
  void watch_stream(MonoTime now);
  Pending* at(size_t slot);
  MonoTime now() const;
  template <class Arg, class Fn>
  std::function<void(Arg)> back_on_media(Fn fn);

  flow::FlowHost& host_;
  Leg& leg_;
  AnswerVoiceSettings settings_;
  speech::PhraseSource* tts_;
  speech::StreamingTts* stream_tts_;
  AnswerVoiceEvents& events_;
  AnswerToken token_;
  PlayedSpeech played_;
  // Sentences being synthesised or waiting their turn to play, in speaking order.
  std::deque<Pending> pending_;
  size_t pending_base_ = 0;  // slot number of pending_.front()
  size_t drops_ = 0;         // drop() calls: an event handler that dropped us ends the pump
  std::optional<MonoTime> starved_since_;  // a streamed head sentence left the leg silent
  bool held_ = false;
  int requests_ = 0;
};

}  // namespace atende::agent
