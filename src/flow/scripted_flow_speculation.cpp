// Speculative recognition for spoken menus and ask/confirm steps: the same idea as the
// agent's (agent/speculation.h), for the grammar recogniser. At the endpointer's short pause
// (200 ms of silence) the utterance so far goes to the recogniser. A menu option, yes/no or
// choice it matched is given back to the listener as a closed answer, so the turn ends after
// the short wait of a complete one instead of the default; the end of the turn then takes
// that result, or waits for it, instead of recognising the utterance again. If the caller goes on,
// the result is dropped (a stale one is recognised by its id) and the end of the turn recognises
// the whole.
#include "flow/scripted_flow.h"

namespace atende::flow {

void ScriptedFlow::speculate(MonoTime now) {
  (void)now;
  if (!spec_->speculative) return;
  const StepSpec& s = step();
  const bool menu = s.type == StepType::kMenu && !s.spoken.empty() && !menu_pending_ &&
                    (phase_ == Phase::kPrompting || phase_ == Phase::kWaiting);
  const bool ask =
      (s.type == StepType::kAsk || s.type == StepType::kConfirm) && phase_ == Phase::kListening;
  if (!menu && !ask) return;
  const uint64_t id = ++spec_count_;
  spec_id_ = id;
  spec_turn_ = turn_generation_;
  spec_result_.reset();
  spec_adopted_ = false;
  std::weak_ptr<ScriptedFlow*> weak = self_;
  host_.recognizer().recognize(turn_request(), [gate = gate_, weak, id](speech::Recognition r) {
    std::lock_guard lock(gate->mutex);
    if (!gate->host) return;
    gate->host->post([weak, id, r = std::move(r)]() mutable {
      if (auto self = weak.lock()) (*self)->on_speculative_recognition(id, std::move(r));
    });
  });
}

void ScriptedFlow::forget_speculation() {
  spec_id_ = 0;
  spec_result_.reset();
  spec_adopted_ = false;
}

void ScriptedFlow::on_speculative_recognition(uint64_t id, speech::Recognition r) {
  if (ended_ || id != spec_id_ || spec_turn_ != turn_generation_) return;
  if (spec_adopted_) {  // the turn ended while it was being recognised: it is the answer
    forget_speculation();
    return on_recognition(turn_generation_, std::move(r), MonoTime{});
  }
  // A menu option, a yes/no or a choice the grammar matched is a whole answer: closed with
  // ".", the turn ends after the short wait of a complete one (turn/turn_text.h). Names,
  // numbers and dates keep the usual wait (people pause inside them: "John... Smith",
  // "twelve... oh four"); the result still saves recognising the turn again.
  const StepSpec& s = step();
  const bool whole_answer = s.type == StepType::kMenu || s.type == StepType::kConfirm ||
                            (s.type == StepType::kAsk && s.match == MatchKind::kChoices);
  const bool matched = r.ok && !r.rejected && !r.matched.empty();
  const std::string words = matched && whole_answer ? r.matched + "." : "";
  spec_result_ = std::move(r);
  if (!words.empty() && listener_) listener_->words(words, last_now_);
}

bool ScriptedFlow::adopt_speculation() {
  if (spec_id_ == 0 || spec_turn_ != turn_generation_) return false;
  if (!spec_result_) {
    spec_adopted_ = true;  // on_speculative_recognition delivers it
    return true;
  }
  // Delivered as a recogniser's answer would be, from the media thread's queue: the
  // listener that called us is still in its event.
  speech::Recognition r = std::move(*spec_result_);
  forget_speculation();
  const uint64_t generation = turn_generation_;
  std::weak_ptr<ScriptedFlow*> weak = self_;
  host_.post([weak, generation, r = std::move(r)]() mutable {
    if (auto self = weak.lock()) (*self)->on_recognition(generation, std::move(r), MonoTime{});
  });
  return true;
}

}  // namespace atende::flow
