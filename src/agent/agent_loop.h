// The agent loop: a voice conversation with an LLM on one leg. It is a flow::Flow, so the
// call manager runs it like any scripted flow (it is the leg's listener).
//
// One turn:
//   caller frame -> turn::Endpointer (VAD, end of turn on a worker timer) -> end of turn
//   -> Recognizer (worker)
//   -> text posted back -> Conversation.add(user) -> ChatClient::complete (HTTP thread)
//   -> text deltas posted back -> SentenceSplitter -> each sentence -> StreamingTts::speak
//   (chunks played as they arrive: agent/streamed_sentence.h) or PhraseSource::fetch
//   -> clips played in order on the leg -> playout idle: the turn is over, listen again.
//
// HTTP tools (AgentSettings::http_tools): when the answer calls one, the loop POSTs the
// arguments through the HttpToolRunner (says `wait_text` if the model said nothing first),
// puts every result in the history as the tool message and asks the model again; that
// second answer is spoken. At most `max_tool_rounds` such rounds per caller turn.
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
// threads (recognition, HTTP, synthesis) reports through FlowHost::post via the answer's
// cancellation token (agent/answer_token.h): one token per answer, cancelled when the
// answer is over for good (next turn, barge-in, failure, the call ending, destruction), so
// stale results (from before a barge-in) and results for a destroyed agent are dropped.
#pragma once
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/agent_turn.h"
#include "agent/answer_token.h"
#include "agent/answer_voice.h"
#include "agent/barge_in_heard.h"
#include "agent/caller_words.h"
#include "agent/human_transfer.h"
#include "agent/speculation.h"
#include "audio/vad.h"
#include "flow/flow_host.h"
#include "llm/chat_client.h"
#include "llm/conversation.h"
#include "llm/sentence_splitter.h"
#include "llm/tools.h"
#include "speech/streaming_tts.h"
#include "turn/endpointer.h"

namespace atende::agent {

struct AgentSettings {
  std::string name;             // persona name, for logs and the record
  std::string language = "en";  // for the recogniser: "en", "pt-br"
  speech::Voice voice;          // for TTS
  std::string system_prompt;
  std::string greeting;  // spoken first (and put in the history); "" for none
  std::optional<double> temperature;
  std::optional<int> max_tokens;
  std::vector<llm::ToolSpec> tools;       // offered to the model (builtins by name)
  std::vector<llm::HttpTool> http_tools;  // offered too; run by AgentEngines::tools

  // Phrases the agent says on its own. Empty: the language's default (agent_phrases.h).
  std::string fallback_text;        // the turn failed
  std::string reprompt_text;        // no input
  std::string goodbye_text;         // max turns / no input / session timeout
  std::string handoff_text;         // transfer_to_human
  std::string no_human_text;        // transfer_to_human: nobody answered
  std::string wait_text;            // an HTTP tool runs and the model said nothing yet
  std::string not_configured_text;  // no LLM configured

  Millis first_token_timeout{2000};  // chat request sent -> first token, else fallback
  Millis tts_stall_timeout{1500};    // a streamed sentence leaves the caller in silence
  int max_tool_rounds = 3;           // HTTP tool rounds (and second answers) per turn
  Millis no_input{8000};             // silence after our answer before a re-prompt
  int max_no_input = 2;              // re-prompts before saying goodbye
  int max_turns = 30;                // caller turns before saying goodbye
  Millis session_timeout{600000};    // whole call
  // transfer_to_human: where the person is (a number, extension or sip: URI; empty: the
  // hand-off is only said and recorded), and how: "bridge" (dial, say the hand-off, connect
  // and leave; nobody answers: say so and carry on) or "refer" (SIP REFER, blind).
  std::string human_to;
  std::string transfer_mode = "bridge";
  Millis human_ring_timeout{20000};

  turn::TurnConfig turn;  // sample_rate is set from the leg
  turn::BargeInConfig barge_in;
  // Start the answer at a short pause, before the turn is known to be over
  // (agent/speculation.h). Off: recognition starts at the end of the turn.
  bool speculative = true;
  // Barge-in by words: caller speech over an answer is recognised (at the barge-in
  // policy's min_speech, then every 400 ms of it) and its words decide: backchannels
  // ("okay", "uh-huh") never interrupt however long, other words ("wait", "stop") at once.
  // Off: only the length rule (interrupt_without_text).
  bool barge_in_words = true;
};

// What the agent needs besides the host. Pointers, not owned; they outlive the loop.
struct AgentEngines {
  speech::Recognizer* stt = nullptr;  // nullptr: host.recognizer()
  // The same engine's streaming side, when it has one (speech/streaming_recognizer.h): the
  // caller's words arrive while they speak (agent/caller_words.h). `stt` stays the
  // fallback (a stream that broke, an engine that sends no partials before the end).
  speech::StreamingRecognizer* stream_stt = nullptr;
  llm::ChatClient* chat = nullptr;      // nullptr: not configured (say so, hang up)
  speech::PhraseSource* tts = nullptr;  // nullptr: host.phrases()
  // Streams the LLM's sentences (first audio = first chunk); fixed phrases still come from
  // `tts` (cached). nullptr: every sentence is a whole clip from `tts`.
  speech::StreamingTts* stream_tts = nullptr;
  llm::HttpToolRunner* tools = nullptr;  // runs http_tools; nullptr: they answer an error
  // Makes the VAD for the leg's rate; empty: WebRtcVad.
  std::function<std::unique_ptr<audio::Vad>(int sample_rate)> make_vad;
  // Every finished turn (also interrupted and failed ones), on the media thread.
  std::function<void(const AgentTurn&)> on_turn;
  // Every speculative answer, used or wasted, on the media thread.
  std::function<void(const SpeculationReport&)> on_speculation;
  // The media clock for work that comes back from other threads; empty: MonoClock::now.
  std::function<MonoTime()> clock;
};

class AgentLoop final : public flow::Flow,
                        private turn::EndpointerEvents,
                        private AnswerVoiceEvents,
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
  const llm::Conversation& conversation() const { return conversation_; }
  int turns() const { return turn_count_; }

 private:
  // `embedded`: from the host's phrases (espeak-ng) even if the persona has its own TTS.
  void speak(std::string text, MonoTime now, bool answer, bool embedded = false);
  // An LLM sentence: streamed when there is a StreamingTts.
  void speak_answer(std::string text, MonoTime now);
  // AnswerVoiceEvents: the voice's progress, for the turn's timing and failures.
  void on_answer_audio(MonoTime now) override;
  void on_sentence_queued(const Sentence& s, bool first, size_t part, MonoTime now) override;
  void on_voice_error(const VoiceError& error, MonoTime now) override;
  void on_voice_drained(MonoTime now) override;
  const llm::HttpTool* http_tool(const std::string& name) const;
  void run_tools(MonoTime now);
  void on_tool_result(size_t index, llm::ToolResult result);
  void add_tool_messages(const std::string& missing);
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
  // `speculative_user`: the caller's words not yet in the history (a speculation's).
  void ask_llm(MonoTime now, const std::string* speculative_user = nullptr);
  void on_delta(std::string delta);
  void on_tool(llm::ToolCall call);
  void on_chat_done(llm::ChatResult result);
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
  llm::Conversation conversation_;
  llm::SentenceSplitter splitter_;

  State state_ = State::kListening;
  MonoTime started_{};
  MonoTime listen_since_{};
  MonoTime chat_sent_{};
  int no_input_count_ = 0;
  int turn_count_ = 0;
  bool hangup_after_playout_ = false;

  llm::ChatCallPtr chat_call_;
  bool chat_done_ = true;
  bool chat_got_token_ = false;  // of the completion in flight
  std::string answer_;           // text received this turn
  std::vector<llm::ToolCall> tool_calls_;
  // HTTP tools of this turn: results in call order (empty: still running), how many are
  // still running, rounds done, and where this round's sentences start in the voice's played().
  std::vector<std::optional<std::string>> tool_results_;
  int tools_pending_ = 0;
  int tool_rounds_ = 0;
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
