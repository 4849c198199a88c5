// ScriptedFlow: a menu step that also takes spoken choices (flows/ivr.yaml, ura.yaml).
//
// The caller may answer at any moment, the prompt included. The keypad wins at once (a
// digit flushes the prompt, and a spoken answer still with the recogniser is dropped).
// Speech goes VAD -> end of turn -> recogniser (a grammar of the options' words and the
// digit words, menu_speech.h) and only then acts:
//   - a choice: the prompt is flushed (barge-in, now that the words are known to be a
//     choice) and the flow goes on as if the digit had been pressed;
//   - a digit word the menu does not offer ("seven"): as pressing 7 (invalid, re-prompt);
//   - rejected (noise, a cough, unrelated speech): while the prompt still plays, nothing
//     happens (the caller keeps hearing it, a `no_match` event is recorded); after the
//     prompt, it is an invalid answer: apology and prompt again, like a wrong digit.
// Unlike ask steps, speech over the prompt does not stop it by itself: a menu prompt is
// the list of options, and a cough should not cut it off.
#include "flow/menu_speech.h"
#include "flow/scripted_flow.h"

namespace atende::flow {

void ScriptedFlow::menu_forget_turn() {
  ++turn_generation_;  // a spoken answer in flight belongs to the previous prompt
  menu_pending_ = false;
  listener_->prompt_stopped();  // never a barge-in policy here: every turn is judged by words
  listener_->reset();
}

void ScriptedFlow::menu_listen(const AudioFrame& heard, MonoTime now) {
  if (phase_ != Phase::kPrompting && phase_ != Phase::kWaiting) return;
  if (!menu_pending_) {
    const uint64_t before = heard_count_;
    listener_->on_frame(heard, now);  // an end of turn goes to heard(): send_turn
    if (heard_count_ != before || ended_) return;
  }
  // No answer: once the prompt is over, nobody is speaking and nothing is being recognised.
  if (phase_ == Phase::kWaiting && now >= deadline_ && !menu_pending_ && !listener_->speaking()) {
    retry("no_input", step().no_input, now);
  }
}

void ScriptedFlow::menu_heard(const speech::Recognition& r, MonoTime now) {
  menu_pending_ = false;
  const StepSpec& s = step();
  if (!r.ok) {
    host_.record_event("stt_error", r.error);
  } else {
    host_.record_event("heard", r.text.empty() ? "(nothing)" : r.text);
    if (!r.text.empty()) host_.note_transcript(Speaker::kCaller, r.text);
  }
  MenuSpeechDecision d = decide_menu_speech(s, r);
  if (d.kind == MenuSpeechDecision::Kind::kChoice ||
      d.kind == MenuSpeechDecision::Kind::kNotOffered) {
    player_.stop();
    return menu_digit(d.digit, now, d.heard);
  }
  host_.record_event("no_match", s.id);
  if (phase_ == Phase::kPrompting) return;  // still playing: let the caller hear the options
  ++invalid_count_;
  retry("invalid", s.invalid, now);
}

}  // namespace atende::flow
