// The engine that runs a FlowSpec on one call: say, menu, collect, echo, say_time and
// hangup steps. It is the leg's listener and runs on the media thread only: it never
// blocks (uncached phrases are synthesised off-thread by PromptPlayer) and the per-frame
// path (timeouts, echo) does not allocate.
//
// Timing: every timeout is measured from the `now` the leg passes in, so tests drive the
// flow with a fake clock. Menu/collect timeouts start when the prompt has been heard.
// Digits pressed during a menu/collect prompt interrupt it and count as the answer.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "flow/flow_host.h"
#include "flow/flow_spec.h"
#include "flow/listener.h"
#include "flow/prompt_player.h"

namespace atende::flow {

// `value` cut to at most `max_chars` bytes, not inside a UTF-8 sequence.
std::string cut_value(const std::string& value, size_t max_chars);

class ScriptedFlow : public Flow {
 public:
  static constexpr size_t kMaxDigitLog = 256;  // digits kept for record_digits()
  // CallInfo::variables copied into the slots at start (and a child flow's slots merged
  // back after a dial step): at most this many, each value cut to kMaxInputChars.
  static constexpr size_t kMaxInputs = 64;
  static constexpr size_t kMaxInputChars = 1024;

  ScriptedFlow(FlowSpecPtr spec, FlowHost& host);
  ~ScriptedFlow() override;
  ScriptedFlow(const ScriptedFlow&) = delete;
  ScriptedFlow& operator=(const ScriptedFlow&) = delete;

  void start(MonoTime now) override;
  void on_frame(const AudioFrame& heard, MonoTime now) override;
  void on_dtmf(char digit, MonoTime now) override;
  void on_playout_idle(MonoTime now) override;
  void on_hangup(std::string_view reason) override;

  // For tests and logs.
  const std::string& current_step() const;
  bool ended() const { return ended_; }
  const std::map<std::string, std::string>& variables() const { return variables_; }

 private:
  enum class Phase {
    kPrompting,     // playing the step's prompt/text
    kWaiting,       // menu/collect: prompt heard, waiting for digits until deadline_
    kEchoing,       // echo: returning what is heard until deadline_ or the stop digit
    kEnding,        // hangup step: saying goodbye, then hang up
    kListening,     // ask/confirm: prompt over (or interrupted), waiting for the caller's turn
    kRecognising,   // ask/confirm: the turn is with the recogniser
    kDialling,      // dial: the call is being placed (the prompt may still play)
    kChildFlow,     // dial with `flow`: that flow runs on the answered leg
    kBridged,       // bridge: the caller talks to the dialled leg; the flow is idle
    kResuming,      // bridge with `next`: the dialled side hung up; `next` at the next frame
    kTransferring,  // transfer: waiting for the transferee's answer
  };
  // capture (scripted_flow_capture.cpp): the caller's turn (or the first max_length of it)
  // becomes the clip `into`.
  void capture_turn(MonoTime now);
  bool capture_full() const;  // still speaking, and max_length is recorded already
  // The step's text as the player takes it: filled texts and, at "{name:audio}", the clip
  // kept under that name (a missing one reads as missing_clip_text()).
  std::vector<PromptPiece> spoken_pieces() const;
  std::string fill_spoken(std::string_view tmpl) const;

  void enter(StepIndex index, MonoTime now);
  void prompt_finished(MonoTime now);
  void check_finished(MonoTime now);
  // `spoken`: the recognised words when the digit was said rather than pressed.
  void menu_digit(char digit, MonoTime now, std::string_view spoken = {});
  void collect_digit(char digit, MonoTime now);
  void collect_done(MonoTime now);
  // No input or a wrong answer: re-prompt with `apology`, or give up after `retries`.
  void retry(std::string_view kind, const std::string& apology, MonoTime now);
  void end_call(std::string_view reason);
  // ask / confirm
  void play_prompt(std::string_view apology, MonoTime now);
  void listen_frame(const AudioFrame& heard, MonoTime now);
  // The listener's barge-in and end of turn (from a frame or its timer): acted on only
  // while the step still listens.
  void heard(Listener::Event e, MonoTime now);
  void send_turn(MonoTime now);
  // The request for the utterance so far (send_turn's and a speculation's).
  speech::RecognitionRequest turn_request() const;
  // Speculative recognition (scripted_flow_speculation.cpp): at a short pause the utterance
  // so far is recognised; a recognised answer shortens the wait, and the end of the turn
  // takes that result (or waits for it) instead of starting over. The caller going on drops
  // it.
  void speculate(MonoTime now);
  void forget_speculation();
  void on_speculative_recognition(uint64_t id, speech::Recognition r);
  bool adopt_speculation();  // from send_turn: true if the turn's answer is the speculation's
  void on_recognition(uint64_t generation, speech::Recognition r, MonoTime now);
  void answer(const speech::Recognition& r, MonoTime now);
  void ask_digit(char digit, MonoTime now);
  // menu with spoken choices (scripted_flow_menu.cpp): listen during the prompt and the
  // wait; act on the recogniser's answer.
  void menu_listen(const AudioFrame& heard, MonoTime now);
  void menu_heard(const speech::Recognition& r, MonoTime now);
  void menu_forget_turn();
  // ask: a spoken or typed answer that fits the step's match; checks match: date and
  // `expect`, then stores it and moves on (or re-asks).
  void accept_answer(const std::string& value, MonoTime now);
  void store(const std::string& slot, std::string value);
  std::vector<std::string> expected_phrases() const;
  // Which answer each expected phrase stands for (RecognitionRequest::answer_of): a menu's
  // digit, a choice's value, yes or no; empty where identical text is the only sameness.
  std::vector<int> expected_answers() const;
  // The words this step lets a caller say around the answer (speech/answer_carriers.h).
  speech::Carriers answer_carriers() const;
  // route / lookup / record: steps that act and move on at once.
  void run_route(MonoTime now);
  void run_lookup(MonoTime now);
  void run_record(MonoTime now);
  void check_timeout(MonoTime now);
  // dial / bridge / transfer (scripted_flow_legs.cpp). Host answers come back through
  // callbacks guarded by leg_generation_: a stale answer is dropped (an answered leg
  // nobody wants any more is hung up).
  void start_dial(MonoTime now);
  void on_dial_result(uint64_t generation, const DialResult& r);
  void dial_outcome(const DialResult& r, MonoTime now);
  void on_child_flow_done(uint64_t generation, const std::map<std::string, std::string>& slots,
                          std::string_view ended);
  void start_bridge(MonoTime now);
  void on_bridge_ended(uint64_t generation, std::string_view who);
  void start_transfer(MonoTime now);
  void on_transfer_result(uint64_t generation, int status);
  // Leaving a dial for good (hang-up, timeout): hang up the dialled leg unless bridged.
  void drop_dialled_leg();
  void finish_flow();  // hands the slots to the host (flow_finished), once
  std::string fill_raw(const std::string& tmpl) const;  // a template with values as they are
  std::string time_text() const;
  std::string variable_text() const;
  const StepSpec& step() const { return spec_->steps[current_]; }

  FlowSpecPtr spec_;
  FlowHost& host_;
  PromptPlayer player_;
  StepIndex current_ = 0;
  Phase phase_ = Phase::kPrompting;
  MonoTime deadline_{};
  int attempts_ = 0;       // failed answers in the current menu/collect step
  std::string collected_;  // collect: digits so far (reserved, bounded by max_digits)
  std::string digit_log_;  // every digit of the call (bounded by kMaxDigitLog)
  std::map<std::string, std::string> variables_;
  int no_input_count_ = 0;
  int invalid_count_ = 0;
  bool started_ = false;
  bool ended_ = false;

  std::unique_ptr<Listener> listener_;  // only for flows with ask/confirm steps
  uint64_t heard_count_ = 0;            // barge-ins and turns acted on: listen_frame's checks wait
  uint64_t turn_generation_ = 0;        // bumped per step entry: stale results are dropped
  bool menu_pending_ = false;           // a spoken menu answer is with the recogniser
  uint64_t spec_id_ = 0;                // the speculation in flight or done; 0: none
  uint64_t spec_count_ = 0;
  uint64_t spec_turn_ = 0;  // turn_generation_ it was made in
  std::optional<speech::Recognition> spec_result_;
  bool spec_adopted_ = false;  // the turn ended: its result is the answer
  MonoTime started_at_{};
  MonoTime last_now_{};  // the latest frame's time, for work posted from other threads
  bool timed_out_ = false;
  int hops_ = 0;  // steps entered without waiting (route, lookup, record): loop guard
  // dial / bridge / transfer
  uint64_t leg_generation_ = 0;  // bumped on every step entry and at the end
  std::string dialled_leg_;      // the answered dialled leg (parked, in a child flow or bridged)
  int dial_tries_ = 0;           // dials placed by the current dial step
  bool dial_prompt_heard_ = false;
  std::optional<DialResult> dial_pending_;  // an outcome waiting for the prompt to end
  bool bridged_ = false;
  bool finished_ = false;  // flow_finished() called
  // Same guard as PromptPlayer's: a recogniser finishing after the flow is gone posts
  // nothing.
  struct PostGate {
    std::recursive_mutex mutex;
    FlowHost* host;
  };
  std::shared_ptr<PostGate> gate_;
  std::shared_ptr<ScriptedFlow*> self_;
};

}  // namespace atende::flow
