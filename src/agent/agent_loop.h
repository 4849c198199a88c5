// The agent loop: a voice conversation with an LLM on one leg. It is a flow::Flow, so the
// call manager runs it like any scripted flow (it is the leg's listener).
//
// The agent is a chain of processors, each owning one stage, and this loop conducts them:
//
//   caller frames -> turn::Endpointer  (VAD, end of turn, barge-in: turn/endpointer.h)
//                 -> CallerWords or a Recognizer   (the caller's words: caller_words.h)
//                 -> Dialogue     (history, LLM answer, sentence split, tools: dialogue.h)
//                 -> AnswerVoice  (synthesis and playout to the leg: answer_voice.h)
//
// Each stage reports to the loop through its events interface; the loop owns what spans
// them: the turn record (AgentTurn and its timing), the state (listening, thinking,
// speaking, ending), speculation (agent/speculation.h: the Dialogue and the AnswerVoice
// run held until the turn is confirmed), re-prompts, goodbyes and transfer_to_human. A new
// engine is a change to one stage: a streaming TTS is AnswerVoice's, a tool kind Dialogue's.
//
// HTTP tools (AgentSettings::http_tools): when the answer calls one, the Dialogue POSTs the
// arguments through the HttpToolRunner (the loop says `wait_text` if the model said nothing
// first), puts every result in the history and asks the model again; that second answer is
// spoken. At most `max_tool_rounds` such rounds per caller turn.
//
// Barge-in: while the answer plays the endpointer's barge-in policy judges the caller's
// speech; on a barge-in the leg is flushed in that same frame, the chat and pending
// synthesis are abandoned, and the history keeps only what the caller heard (PlayedSpeech).
// The caller's utterance goes on in the endpointer, so its end of turn starts the next
// answer: the agent always answers again.
//
// Never a silent turn: a recogniser error, an LLM that fails, answers nothing or gives no
// first token within `first_token_timeout`, makes the agent say `fallback_text` and the
// turn is recorded with the error. So does a streamed sentence that leaves the caller in
// silence for `tts_stall_timeout` (that fallback comes from the host's embedded voice).
//
// Threads: every method runs on the leg's media thread and never blocks. Work on other
// threads (recognition, HTTP, synthesis) reports through FlowHost::post via a cancellation
// token (agent/answer_token.h): the loop's for recognition, the Dialogue's and the
// AnswerVoice's for their own work, each cancelled when the answer is over for good (next
// turn, barge-in, failure, the call ending, destruction), so stale results (from before a
// barge-in) and results for a destroyed agent are dropped.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/agent_settings.h"
#include "agent/agent_turn.h"
#include "agent/answer_token.h"
#include "agent/answer_voice.h"
#include "agent/barge_in_heard.h"
#include "agent/caller_words.h"
#include "agent/dialogue.h"
#include "agent/human_transfer.h"
#include "agent/speculation.h"
#include "audio/vad.h"
#include "flow/flow_host.h"
#include "llm/chat_client.h"
#include "llm/conversation.h"
#include "llm/tools.h"
#include "speech/streaming_tts.h"
#include "turn/endpointer.h"

namespace atende::agent {

class AgentLoop final : public flow::Flow,
                        private turn::EndpointerEvents,
                        private AnswerVoiceEvents,
                        private DialogueEvents,
                        private HumanTransferEvents {
 public:
  AgentLoop(flow::FlowHost& host, AgentSettings settings, AgentEngines engines);
  ~AgentLoop() override;
  AgentLoop(const AgentLoop&) = delete;
  AgentLoop& operator=(const AgentLoop&) = delete;

  void start(MonoTime now) override;
  void on_frame(const AudioFrame& heard, MonoTime now) override;
  void on_dtmf(char digit, MonoTime now) override;
  void on_playout_idle(MonoTime now) override;
  void on_hangup(std::string_view reason) override;

  enum class State { kListening, kRecognizing, kThinking, kSpeaking, kEnding, kEnded };
  State state() const { return state_; }
  const llm::Conversation& conversation() const { return dialogue_.conversation(); }
  int turns() const { return turn_count_; }

 private:
  // `embedded`: from the host's phrases (espeak-ng) even if the persona has its own TTS.
  void speak(std::string text, MonoTime now, bool answer, bool embedded = false);
  // AnswerVoiceEvents: the voice's progress, for the turn's timing and failures.
  void on_answer_audio(MonoTime now) override;
  void on_sentence_queued(const Sentence& s, bool first, size_t part, MonoTime now) override;
  void on_voice_error(const VoiceError& error, MonoTime now) override;
  void on_voice_drained(MonoTime now) override;
  // turn::EndpointerEvents.
  void on_speech_started(const turn::TurnEvent& ev, MonoTime now) override;
  void on_turn_dropped(MonoTime now) override;
  void on_end_of_turn(const turn::TurnEvent& ev, MonoTime now) override;
  void on_barge_in(MonoTime now) override;
  void on_short_pause(MonoTime speech_end, MonoTime now) override;
  void on_speech_resumed(MonoTime now) override;
  void on_words_wanted(MonoTime now) override;
  void on_overlap_words(speech::Recognition r);
  void end_of_turn(const turn::TurnEvent& ev, MonoTime now);
  // Sends the utterance so far to the recogniser; the result comes to on_recognized.
  void recognize_utterance();
  speech::RecognitionRequest utterance_request() const;
  void on_recognized(speech::Recognition r);
  // The turn's transcript: recorded and put in the history. False: the turn failed.
  bool accept_transcript(speech::Recognition& r, MonoTime now);
  // The streaming recogniser's words (CallerWords): partials while the caller speaks, the
  // final after the end of the turn.
  void on_caller_partial(const std::string& text);
  void on_stream_final(speech::Recognition r);
  // Speculation (agent/speculation.h).
  bool may_speculate() const;
  void begin_speculation(MonoTime now);
  void speculate_on_words(const std::string& text, MonoTime now);
  void drop_speculation();
  void on_speculative_transcript(speech::Recognition r);
  void adopt_speculation(MonoTime now);
  void report_speculation(bool used);
  // DialogueEvents: the answer's progress.
  void on_asked(bool speculative, MonoTime now) override;
  void on_model_output(bool text, MonoTime now) override;
  void on_sentence(std::string text, int round, MonoTime now) override;
  void on_builtin_tool(const llm::ToolCall& call, MonoTime now) override;
  void on_tools_running(bool said_any, MonoTime now) override;
  void on_answer_end(const AnswerEnd& end, MonoTime now) override;
  void on_answer_failed(std::string error, MonoTime now) override;
  bool call_ending() const override;
  void maybe_finish(MonoTime now);
  MonoTime clock_now() const;
  void fail_turn(std::string error, MonoTime now, bool embedded = false);
  void interrupt(MonoTime now);
  void finish_turn(MonoTime now);
  void say_goodbye(std::string why, MonoTime now);
  // transfer_to_human (agent/human_transfer.h): its outcomes.
  bool agent_gone() const override;
  void on_handed_over() override;
  void on_transfer_failed(const std::string& why) override;
  void cancel_work();
  // In-flight work is ignored from now on: the answer's token is cancelled, a new one taken.
  void new_answer();
  double offset_ms(MonoTime t) const;
  // A callback for another thread that runs `fn(this, arg)` on the media thread, unless
  // this answer's token was cancelled by then (the answer is over, or the loop is gone).
  template <class Arg, class Fn>
  std::function<void(Arg)> back_on_media(Fn fn);

  flow::FlowHost& host_;
  Leg& leg_;
  AnswerToken token_;  // of the answer in progress: every callback of its work holds it
  AgentSettings settings_;
  AgentEngines engines_;
  turn::Endpointer ear_;
  AnswerVoice voice_;  // synthesiser and playout of everything the agent says
  Dialogue dialogue_;  // the history, the LLM's answer and its tool rounds

  State state_ = State::kListening;
  MonoTime started_{};
  MonoTime listen_since_{};
  MonoTime chat_sent_{};
  int no_input_count_ = 0;
  int turn_count_ = 0;
  bool hangup_after_playout_ = false;

  // Where this round's sentences start in the voice's played() (after a tool round).
  std::optional<size_t> round_first_part_;
  AgentTurn turn_;  // the turn in progress
  bool turn_open_ = false;
  Speculation spec_;                    // the answer started at a short pause, not yet the turn's
  bool in_pause_ = false;               // short_pause said, the caller has not gone on (yet)
  std::unique_ptr<CallerWords> words_;  // engines_.stream_stt's streams; null without one
  bool words_fresh_ = false;            // opened in this frame with the utterance so far (no push)
  bool awaiting_final_ = false;         // the turn ended; its transcript comes from words_
  bool overlap_pending_ = false;        // words of speech over the answer are being recognised

  HumanTransfer transfer_{host_, *this};  // transfer_to_human
};

}  // namespace atende::agent
