#include "flow/scripted_flow.h"

#include <algorithm>
#include <ctime>

#include "flow/caller_id.h"
#include "flow/clock_text.h"
#include "flow/flow_loader.h"
#include "flow/spoken_value.h"
#include "flow/template_text.h"
#include "turn/fuzzy.h"

namespace atende::flow {

std::string cut_value(const std::string& value, size_t max_chars) {
  if (value.size() <= max_chars) return value;
  size_t cut = max_chars;
  // Not inside a UTF-8 sequence: the value may be spoken.
  while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;
  return value.substr(0, cut);
}

ScriptedFlow::ScriptedFlow(FlowSpecPtr spec, FlowHost& host)
    : spec_(std::move(spec)),
      host_(host),
      player_(host, spec_->voice),
      gate_(std::make_shared<PostGate>()),
      self_(std::make_shared<ScriptedFlow*>(this)) {
  gate_->host = &host;
  // Reserved up front so digits never allocate on the media path.
  digit_log_.reserve(kMaxDigitLog);
  collected_.reserve(LoadLimits::kMaxCollectDigits);
  bool listens = std::any_of(spec_->steps.begin(), spec_->steps.end(), [](const StepSpec& s) {
    return s.type == StepType::kAsk || s.type == StepType::kConfirm ||
           s.type == StepType::kCapture || !s.spoken.empty();
  });
  if (listens) {
    listener_ =
        std::make_unique<Listener>(host.leg().sample_rate(), host.leg().executor().timers(),
                                   [this](Listener::Event e, MonoTime now) { heard(e, now); });
  }
}

ScriptedFlow::~ScriptedFlow() {
  std::lock_guard lock(gate_->mutex);
  gate_->host = nullptr;
}

const std::string& ScriptedFlow::current_step() const { return step().id; }

void ScriptedFlow::start(MonoTime now) {
  if (started_ || ended_) return;
  started_ = true;
  host_.record_event("flow", spec_->name);
  // What the starter gave (the REST API's variables, a parent flow's slots), bounded.
  size_t given = 0;
  for (const auto& [name, value] : host_.call().variables) {
    if (name.empty() || name.size() > LoadLimits::kMaxNameChars) continue;
    if (++given > kMaxInputs) break;
    variables_[name] = cut_value(value, kMaxInputChars);
  }
  variables_["caller"] = caller_user(host_.call().from);
  started_at_ = now;
  enter(spec_->start, now);
}

void ScriptedFlow::enter(StepIndex index, MonoTime now) {
  if (ended_) return;
  current_ = index;
  const StepSpec& s = step();
  host_.record_event("step", s.id);
  attempts_ = 0;
  collected_.clear();
  phase_ = Phase::kPrompting;
  ++turn_generation_;
  menu_pending_ = false;
  ++leg_generation_;  // a host answer for the step left behind is stale
  bool immediate =
      s.type == StepType::kRoute || s.type == StepType::kLookup || s.type == StepType::kRecord ||
      ((s.type == StepType::kBridge || s.type == StepType::kTransfer) && s.text.empty());
  hops_ = immediate ? hops_ + 1 : 0;
  if (hops_ > static_cast<int>(LoadLimits::kMaxSteps)) {
    return end_call("flow: loop without a prompt at " + s.id);
  }
  switch (s.type) {
    case StepType::kAsk:
    case StepType::kConfirm:
    case StepType::kCapture:
      play_prompt("", now);
      break;
    case StepType::kRoute:
      run_route(now);
      break;
    case StepType::kLookup:
      run_lookup(now);
      break;
    case StepType::kRecord:
      run_record(now);
      break;
    case StepType::kSay:
      player_.play("", spoken_pieces());
      break;
    case StepType::kMenu:
    case StepType::kCollect:
      player_.play({s.text});
      if (!s.spoken.empty()) menu_forget_turn();  // listen afresh, the prompt included
      break;
    case StepType::kSayTime:
      player_.play({time_text()});
      break;
    case StepType::kHangup:
      phase_ = Phase::kEnding;
      player_.play("", spoken_pieces());
      break;
    case StepType::kEcho:
      if (s.text.empty()) {
        player_.stop();
        prompt_finished(now);
      } else {
        player_.play({s.text});
      }
      break;
    case StepType::kDial:
      phase_ = Phase::kDialling;
      dial_tries_ = 0;
      dial_pending_.reset();
      dial_prompt_heard_ = s.text.empty();
      if (s.text.empty())
        player_.stop();  // nothing to say: the caller hears silence while it rings
      else
        player_.play("", spoken_pieces());
      start_dial(now);
      break;
    case StepType::kBridge:
    case StepType::kTransfer:
      if (s.text.empty()) {
        player_.stop();
        prompt_finished(now);
      } else {
        player_.play("", spoken_pieces());
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
    case StepType::kAsk:
    case StepType::kConfirm:
    case StepType::kCapture:
      if (phase_ != Phase::kPrompting) break;
      listener_->prompt_stopped();
      phase_ = Phase::kListening;
      deadline_ = now + s.timeout;
      break;
    case StepType::kRoute:
    case StepType::kLookup:
    case StepType::kRecord:
      break;  // never prompt
    case StepType::kDial:
      // After the prompt the caller hears silence; an outcome that came meanwhile is
      // acted on now, so a quick "busy" does not cut the prompt off.
      dial_prompt_heard_ = true;
      if (phase_ == Phase::kDialling && dial_pending_) {
        DialResult r = std::move(*dial_pending_);
        dial_pending_.reset();
        dial_outcome(r, now);
      }
      break;
    case StepType::kBridge:
      if (phase_ == Phase::kPrompting) start_bridge(now);
      break;
    case StepType::kTransfer:
      if (phase_ == Phase::kPrompting) start_transfer(now);
      break;
  }
}

void ScriptedFlow::on_frame(const AudioFrame& heard, MonoTime now) {
  if (!started_ || ended_) return;
  const bool resuming = phase_ == Phase::kResuming;
  // Time spent bridged (no frames came) does not count towards max_duration.
  if (resuming) started_at_ += now - last_now_;
  last_now_ = now;
  check_timeout(now);
  if (ended_) return;
  if (resuming && phase_ == Phase::kResuming) return enter(step().next, now);
  check_finished(now);
  if (ended_) return;
  const StepSpec& s = step();
  if (phase_ == Phase::kRecognising || phase_ == Phase::kDialling || phase_ == Phase::kChildFlow ||
      phase_ == Phase::kBridged || phase_ == Phase::kTransferring) {
    return;  // the caller's speech is not listened to meanwhile
  }
  if (s.type == StepType::kAsk || s.type == StepType::kConfirm || s.type == StepType::kCapture) {
    if (phase_ == Phase::kPrompting || phase_ == Phase::kListening) {
      return listen_frame(heard, now);
    }
  }
  if (s.type == StepType::kMenu && !s.spoken.empty()) return menu_listen(heard, now);
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
  if ((s.type == StepType::kCollect || s.type == StepType::kAsk) && !collected_.empty()) {
    return collect_done(now);  // typed digits without the terminator: the pause ends them
  }
  retry("no_input", s.no_input, now);
}

void ScriptedFlow::on_dtmf(char digit, MonoTime now) {
  if (!started_ || ended_ || !is_dtmf_digit(digit)) return;
  // Digits typed for an identity check are logged as 'x'.
  bool secret = step().type == StepType::kAsk && !step().expect.empty();
  if (digit_log_.size() < kMaxDigitLog) {
    digit_log_.push_back(secret ? 'x' : digit);
    // Stored as they come, not only at the end: the caller's BYE finalises the call record
    // on the SIP thread while this flow may not have heard of the hang-up yet.
    host_.record_digits(digit_log_);
  }
  const StepSpec& s = step();
  switch (s.type) {
    case StepType::kMenu:
      player_.stop();  // barge-in: the digit is the answer, the prompt is no longer needed
      if (!s.spoken.empty()) menu_forget_turn();  // the keypad answers first
      menu_digit(digit, now);
      break;
    case StepType::kCollect:
      player_.stop();
      collect_digit(digit, now);
      break;
    case StepType::kAsk:
    case StepType::kConfirm:
      if (phase_ == Phase::kRecognising) {
        ++turn_generation_;  // the keypad answers first; the spoken turn is dropped
      }
      player_.stop();
      listener_->prompt_stopped();
      listener_->reset();
      ask_digit(digit, now);
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
  drop_dialled_leg();
  host_.record_event("hangup", "caller: " + std::string(reason));
  host_.record_event("counts", "no_input=" + std::to_string(no_input_count_) +
                                   " invalid=" + std::to_string(invalid_count_));
  host_.record_digits(digit_log_);
  finish_flow();
}

void ScriptedFlow::menu_digit(char digit, MonoTime now, std::string_view spoken) {
  const StepSpec& s = step();
  StepIndex target = s.choices[digit_slot(digit)];
  const std::string by = spoken.empty() ? "digit" : "speech: " + std::string(spoken);
  if (target != kNoStep) {
    host_.record_event("choice_by", by);
    host_.record_event("choice", std::string(1, digit) + " " + spec_->steps[target].id);
    return enter(target, now);
  }
  ++invalid_count_;
  host_.record_event(
      "invalid", spoken.empty() ? std::string(1, digit) : std::string(1, digit) + " (" + by + ")");
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
  host_.record_event("collected", s.into + "=" + (s.expect.empty() ? collected_ : "***"));
  if (s.type == StepType::kAsk) return accept_answer(collected_, now);  // date, expect
  variables_[s.into] = collected_;
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
  if (s.type == StepType::kAsk || s.type == StepType::kConfirm || s.type == StepType::kCapture) {
    return play_prompt(apology, now);
  }
  phase_ = Phase::kPrompting;
  player_.play({apology, s.text});
  if (s.type == StepType::kMenu && !s.spoken.empty()) menu_forget_turn();
}

void ScriptedFlow::end_call(std::string_view reason) {
  if (ended_) return;
  ended_ = true;
  player_.stop();
  drop_dialled_leg();
  host_.record_event("hangup", reason);
  host_.record_event("counts", "no_input=" + std::to_string(no_input_count_) +
                                   " invalid=" + std::to_string(invalid_count_));
  host_.record_digits(digit_log_);
  finish_flow();  // before the hang-up: a parent flow gets these slots
  host_.leg().hangup(reason);
}

std::string ScriptedFlow::variable_text() const { return fill_spoken(step().text); }

std::string ScriptedFlow::fill_spoken(std::string_view tmpl) const {
  return fill_template(tmpl, [this](std::string_view placeholder, std::string* value) {
    auto [name, format] = split_placeholder(placeholder);
    auto it = variables_.find(std::string(name));
    // A variable whose step was not reached in this call reads as nothing. Numbers are
    // read digit by digit ("1204" -> "1 2 0 4"), names as they are, unless a format
    // ("{amount:money}") says how.
    std::optional<std::string> formatted;
    if (it != variables_.end() && !format.empty()) {
      formatted = speak_value(it->second, format, language_of_voice(spec_->voice.name));
    }
    if (it == variables_.end()) {
      value->clear();
    } else if (formatted) {
      *value = std::move(*formatted);
    } else {
      bool digits = !it->second.empty() && std::all_of(it->second.begin(), it->second.end(),
                                                       [](char c) { return c >= '0' && c <= '9'; });
      *value = digits ? spell_digits(it->second) : it->second;
    }
    return true;
  });
}

void ScriptedFlow::check_timeout(MonoTime now) {
  if (timed_out_ || spec_->max_duration.count() == 0) return;
  if (now - started_at_ < spec_->max_duration) return;
  timed_out_ = true;
  host_.record_event("timeout", "max_duration");
  drop_dialled_leg();  // a call still ringing, or a child flow still running
  if (spec_->on_timeout == kNoStep) return end_call("flow: max duration");
  player_.stop();
  if (listener_) listener_->prompt_stopped();
  enter(spec_->on_timeout, now);
}

std::string ScriptedFlow::time_text() const {
  std::time_t t = std::chrono::system_clock::to_time_t(host_.wall_now());
  std::tm local{};
  localtime_r(&t, &local);
  return fill_time_template(step().text, local.tm_hour, local.tm_min);
}

}  // namespace atende::flow
