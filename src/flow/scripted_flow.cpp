#include "flow/scripted_flow.h"

#include <ctime>

#include "flow/clock_text.h"
#include "flow/flow_loader.h"
#include "flow/template_text.h"

namespace atende::flow {

ScriptedFlow::ScriptedFlow(FlowSpecPtr spec, FlowHost& host)
    : spec_(std::move(spec)), host_(host), player_(host, spec_->voice) {
  // Reserved up front so digits never allocate on the media path.
  digit_log_.reserve(kMaxDigitLog);
  collected_.reserve(LoadLimits::kMaxCollectDigits);
}

const std::string& ScriptedFlow::current_step() const { return step().id; }

void ScriptedFlow::start(MonoTime now) {
  if (started_ || ended_) return;
  started_ = true;
  host_.record_event("flow", spec_->name);
  enter(spec_->start, now);
}

void ScriptedFlow::enter(StepIndex index, MonoTime now) {
  current_ = index;
  const StepSpec& s = step();
  host_.record_event("step", s.id);
  attempts_ = 0;
  collected_.clear();
  phase_ = Phase::kPrompting;
  switch (s.type) {
    case StepType::kSay:
      player_.play({s.uses_variables ? variable_text() : s.text});
      break;
    case StepType::kMenu:
    case StepType::kCollect:
      player_.play({s.text});
      break;
    case StepType::kSayTime:
      player_.play({time_text()});
      break;
    case StepType::kHangup:
      phase_ = Phase::kEnding;
      player_.play({s.uses_variables ? variable_text() : s.text});
      break;
    case StepType::kEcho:
      if (s.text.empty()) {
        player_.stop();
        prompt_finished(now);
      } else {
        player_.play({s.text});
      }
      break;
  }
}

void ScriptedFlow::check_finished(MonoTime now) {
  if (player_.take_finished()) prompt_finished(now);
}

void ScriptedFlow::prompt_finished(MonoTime now) {
  const StepSpec& s = step();
  switch (s.type) {
    case StepType::kSay:
    case StepType::kSayTime:
      enter(s.next, now);
      break;
    case StepType::kHangup:
      end_call("flow: " + s.id);
      break;
    case StepType::kMenu:
    case StepType::kCollect:
      phase_ = Phase::kWaiting;
      deadline_ = now + s.timeout;
      break;
    case StepType::kEcho:
      phase_ = Phase::kEchoing;
      deadline_ = now + s.max_duration;
      break;
  }
}

void ScriptedFlow::on_frame(const AudioFrame& heard, MonoTime now) {
  if (!started_ || ended_) return;
  check_finished(now);
  if (ended_) return;
  const StepSpec& s = step();
  if (phase_ == Phase::kEchoing) {
    if (now >= deadline_) {
      host_.record_event("echo", "max duration");
      return enter(s.next, now);
    }
    // Queued now, heard by the caller in the next 20 ms slot.
    host_.leg().play_frame(heard);
    return;
  }
  if (phase_ != Phase::kWaiting || now < deadline_) return;
  if (s.type == StepType::kCollect && !collected_.empty()) return collect_done(now);
  retry("no_input", s.no_input, now);
}

void ScriptedFlow::on_dtmf(char digit, MonoTime now) {
  if (!started_ || ended_ || !is_dtmf_digit(digit)) return;
  if (digit_log_.size() < kMaxDigitLog) digit_log_.push_back(digit);
  const StepSpec& s = step();
  switch (s.type) {
    case StepType::kMenu:
      player_.stop();  // barge-in: the digit is the answer, the prompt is no longer needed
      menu_digit(digit, now);
      break;
    case StepType::kCollect:
      player_.stop();
      collect_digit(digit, now);
      break;
    case StepType::kEcho:
      if (s.stop_digit != '\0' && digit == s.stop_digit) {
        player_.stop();
        host_.record_event("echo", "stop digit");
        enter(s.next, now);
      }
      break;
    default:
      break;  // say, say_time, hangup play to the end; the digit is only logged
  }
}

void ScriptedFlow::on_playout_idle(MonoTime now) {
  if (!started_ || ended_) return;
  player_.on_playout_idle();
  check_finished(now);
}

void ScriptedFlow::on_hangup(std::string_view reason) {
  if (ended_) return;
  ended_ = true;
  player_.abandon();  // the leg is gone: no flush, nothing more to it
  host_.record_event("hangup", "caller: " + std::string(reason));
  host_.record_event("counts", "no_input=" + std::to_string(no_input_count_) +
                                   " invalid=" + std::to_string(invalid_count_));
  host_.record_digits(digit_log_);
}

void ScriptedFlow::menu_digit(char digit, MonoTime now) {
  const StepSpec& s = step();
  StepIndex target = s.choices[digit_slot(digit)];
  if (target != kNoStep) {
    host_.record_event("choice", std::string(1, digit) + " " + spec_->steps[target].id);
    return enter(target, now);
  }
  ++invalid_count_;
  host_.record_event("invalid", std::string(1, digit));
  retry("invalid", s.invalid, now);
}

void ScriptedFlow::collect_digit(char digit, MonoTime now) {
  const StepSpec& s = step();
  phase_ = Phase::kWaiting;
  if (s.terminator != '\0' && digit == s.terminator) return collect_done(now);
  collected_.push_back(digit);
  if (static_cast<int>(collected_.size()) >= s.max_digits) return collect_done(now);
  deadline_ = now + s.inter_digit_timeout;
}

void ScriptedFlow::collect_done(MonoTime now) {
  const StepSpec& s = step();
  if (static_cast<int>(collected_.size()) < s.min_digits) {
    ++invalid_count_;
    host_.record_event("invalid", collected_.empty() ? "(none)" : collected_);
    return retry("invalid", s.invalid, now);
  }
  variables_[s.into] = collected_;
  host_.record_event("collected", s.into + "=" + collected_);
  enter(s.next, now);
}

void ScriptedFlow::retry(std::string_view kind, const std::string& apology, MonoTime now) {
  const StepSpec& s = step();
  if (kind == "no_input") {
    ++no_input_count_;
    host_.record_event("no_input", s.id);
  }
  collected_.clear();
  if (++attempts_ > s.retries) {
    host_.record_event("failure", s.id);
    if (s.on_failure == kNoStep) return end_call("flow: no valid answer in " + s.id);
    return enter(s.on_failure, now);
  }
  phase_ = Phase::kPrompting;
  player_.play({apology, s.text});
}

void ScriptedFlow::end_call(std::string_view reason) {
  if (ended_) return;
  ended_ = true;
  player_.stop();
  host_.record_event("hangup", reason);
  host_.record_event("counts", "no_input=" + std::to_string(no_input_count_) +
                                   " invalid=" + std::to_string(invalid_count_));
  host_.record_digits(digit_log_);
  host_.leg().hangup(reason);
}

std::string ScriptedFlow::variable_text() const {
  return fill_template(step().text, [this](std::string_view name, std::string* value) {
    auto it = variables_.find(std::string(name));
    // A variable whose collect step was not reached in this call reads as nothing.
    *value = it == variables_.end() ? "" : spell_digits(it->second);
    return true;
  });
}

std::string ScriptedFlow::time_text() const {
  std::time_t t = std::chrono::system_clock::to_time_t(host_.wall_now());
  std::tm local{};
  localtime_r(&t, &local);
  return fill_time_template(step().text, local.tm_hour, local.tm_min);
}

}  // namespace atende::flow
