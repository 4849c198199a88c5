#include "agent/agent_loop.h"

#include <spdlog/spdlog.h>

#include "agent/agent_phrases.h"
#include "audio/vad_webrtc.h"
#include "turn/fuzzy.h"

namespace atende::agent {

namespace {

std::string or_default(const std::string& text, AgentPhrase which, const std::string& lang) {
  return text.empty() ? default_phrase(which, lang) : text;
}

std::unique_ptr<audio::Vad> default_vad(int rate) {
  audio::WebRtcVadOptions o;
  o.sample_rate = rate == 16000 ? 16000 : 8000;
  return std::make_unique<audio::WebRtcVad>(o);
}

}  // namespace

AgentLoop::AgentLoop(flow::FlowHost& host, AgentSettings settings, AgentEngines engines)
    : host_(host),
      leg_(host.leg()),
      token_(host),
      settings_(std::move(settings)),
      engines_(std::move(engines)),
      ear_(
          [&] {
            turn::EndpointerConfig c{.turn = settings_.turn, .barge_in = settings_.barge_in};
            c.turn.sample_rate = leg_.sample_rate();
            return c;
          }(),
          engines_.make_vad ? engines_.make_vad(leg_.sample_rate())
                            : default_vad(leg_.sample_rate()),
          leg_.executor().timers(), *this),
      voice_(host_,
             AnswerVoiceSettings{.voice = settings_.voice,
                                 .stall_timeout = settings_.tts_stall_timeout,
                                 .clock = engines_.clock},
             engines_.tts, engines_.stream_tts, *this),
      dialogue_(host_, settings_, engines_.chat, engines_.tools, engines_.clock, *this) {
  auto& lang = settings_.language;
  settings_.fallback_text = or_default(settings_.fallback_text, AgentPhrase::kFallback, lang);
  settings_.reprompt_text = or_default(settings_.reprompt_text, AgentPhrase::kReprompt, lang);
  settings_.goodbye_text = or_default(settings_.goodbye_text, AgentPhrase::kGoodbye, lang);
  settings_.handoff_text = or_default(settings_.handoff_text, AgentPhrase::kHandoff, lang);
  settings_.no_human_text = or_default(settings_.no_human_text, AgentPhrase::kNoHuman, lang);
  settings_.wait_text = or_default(settings_.wait_text, AgentPhrase::kWait, lang);
  settings_.not_configured_text =
      or_default(settings_.not_configured_text, AgentPhrase::kNotConfigured, lang);
  if (engines_.stream_stt) {
    speech::StreamRequest req;
    req.sample_rate = leg_.sample_rate();
    req.language = settings_.language;
    req.tag = host_.call().id;
    words_ = std::make_unique<CallerWords>(
        host_, *engines_.stream_stt, std::move(req),
        CallerWords::Events{
            .on_partial = [this](const std::string& text) { on_caller_partial(text); },
            .on_final = [this](speech::Recognition r) { on_stream_final(std::move(r)); }});
  }
}

AgentLoop::~AgentLoop() {
  token_.cancel();  // nothing in flight reaches this loop or its host any more
}

template <class Arg, class Fn>
std::function<void(Arg)> AgentLoop::back_on_media(Fn fn) {
  return token_.bind<Arg>([this, fn](Arg arg) mutable { fn(this, std::move(arg)); });
}

void AgentLoop::new_answer() {
  token_.cancel();
  token_ = AnswerToken(host_);
  // A speculation is work of the answer: a new answer makes it waste.
  if (spec_.active) report_speculation(false);
  spec_ = Speculation{};
  voice_.hold(false);
  overlap_pending_ = false;  // its result was bound to the old token
}

void AgentLoop::report_speculation(bool used) {
  if (!engines_.on_speculation) return;
  engines_.on_speculation(
      SpeculationReport{.used = used,
                        .recognition = spec_.recognition_sent,
                        .chat = spec_.asked,
                        .speech = voice_.requests() - spec_.voice_requests_before});
}

MonoTime AgentLoop::clock_now() const {
  return engines_.clock ? engines_.clock() : MonoClock::now();
}

double AgentLoop::offset_ms(MonoTime t) const {
  return std::chrono::duration<double, std::milli>(t - started_).count();
}

void AgentLoop::start(MonoTime now) {
  started_ = now;
  listen_since_ = now;
  if (!engines_.chat) {
    // Configuration problem, not the caller's: say so and hang up (logged once per call).
    spdlog::warn("call={} agent={} no LLM configured: the call is refused politely",
                 host_.call().id, settings_.name);
    host_.record_event("agent", "not configured");
    state_ = State::kEnding;
    speak(settings_.not_configured_text, now, false);
    return;
  }
  host_.record_event("agent", settings_.name);
  if (settings_.greeting.empty()) return;
  turn_ = AgentTurn{};
  turn_open_ = true;
  dialogue_.conversation().add(llm::Message::assistant(settings_.greeting));
  state_ = State::kSpeaking;
  speak(settings_.greeting, now, true);
}

void AgentLoop::speak(std::string text, MonoTime now, bool answer, bool embedded) {
  voice_.say(Sentence{.text = std::move(text),
                      .answer = answer,
                      .embedded = embedded,
                      .round = dialogue_.round()},
             now);
}

void AgentLoop::on_answer_audio(MonoTime now) {
  if (turn_open_ && turn_.first_audio_ms < 0) turn_.first_audio_ms = offset_ms(now);
}

void AgentLoop::on_sentence_queued(const Sentence& s, bool first, size_t part, MonoTime now) {
  if (first && s.answer && s.round > 0 && s.round == dialogue_.round() && !round_first_part_) {
    round_first_part_ = part;
  }
  if (s.answer && turn_open_ && turn_.first_play_ms < 0) turn_.first_play_ms = offset_ms(now);
  if (state_ != State::kEnding && !ear_.playing()) ear_.playback_started(now);
}

void AgentLoop::on_voice_error(const VoiceError& error, MonoTime now) {
  const std::string what = "tts: " + error.message;
  const bool silent = error.kind == VoiceError::Kind::kStalled ||
                      (error.kind == VoiceError::Kind::kStreamFailed && !error.heard_any &&
                       turn_open_ && turn_.first_play_ms < 0);
  // The caller would be left in silence: the fallback, from the embedded voice.
  if (silent) return fail_turn(what, now, /*embedded=*/true);
  if (turn_open_ && turn_.error.empty()) turn_.error = what;
}

void AgentLoop::on_voice_drained(MonoTime now) { maybe_finish(now); }

void AgentLoop::on_frame(const AudioFrame& heard, MonoTime now) {
  if (state_ == State::kEnded) return;
  if (state_ != State::kEnding && now - started_ >= settings_.session_timeout) {
    say_goodbye("session timeout", now);
  }
  voice_.count_played(size_t(heard.samples));
  // Barge-in (on_barge_in) is decided in this frame; the end of turn on its timer.
  ear_.on_frame(heard, now);
  if (words_) {
    if (words_fresh_) {
      words_fresh_ = false;  // this frame went in with the utterance so far
    } else {
      words_->push(heard.data());
    }
  }
  voice_.tick(now);
  if (state_ == State::kThinking && !dialogue_.got_output() &&
      now - chat_sent_ >= settings_.first_token_timeout) {
    fail_turn("llm: no first token within " +
                  std::to_string(settings_.first_token_timeout.count()) + " ms",
              now);
  }
  if (state_ == State::kListening && ear_.detector().state() == turn::TurnDetector::State::kIdle &&
      now - listen_since_ >= settings_.no_input) {
    if (++no_input_count_ > settings_.max_no_input) {
      say_goodbye("no input", now);
    } else {
      host_.record_event("no_input", std::to_string(no_input_count_));
      state_ = State::kSpeaking;
      speak(settings_.reprompt_text, now, false);
    }
  }
}

void AgentLoop::on_barge_in(MonoTime now) {
  // Saying goodbye or handing over: that is not interrupted.
  if (state_ == State::kEnding || state_ == State::kEnded) return;
  interrupt(now);
}

void AgentLoop::on_speech_started(const turn::TurnEvent& ev, MonoTime now) {
  in_pause_ = false;
  if (!words_ || state_ == State::kEnding || state_ == State::kEnded) return;
  words_->open(ear_.utterance());
  words_fresh_ = true;
}

void AgentLoop::on_turn_dropped(MonoTime now) {
  in_pause_ = false;
  if (words_) words_->cancel();
}

void AgentLoop::on_end_of_turn(const turn::TurnEvent& ev, MonoTime now) {
  in_pause_ = false;
  if (state_ == State::kListening) return end_of_turn(ev, now);
  if (words_) words_->cancel();
  // Speech while we think or end the call: not a turn (over our answer the endpointer
  // already dropped what did not interrupt).
  spdlog::debug("call={} agent: utterance ignored while busy", host_.call().id);
}

void AgentLoop::end_of_turn(const turn::TurnEvent& ev, MonoTime now) {
  if (++turn_count_ > settings_.max_turns) {
    say_goodbye("max turns", now);
    return;
  }
  no_input_count_ = 0;
  turn_ = AgentTurn{};
  turn_.index = turn_count_;
  turn_.speech_end_ms = offset_ms(ev.speech_end);
  turn_open_ = true;
  dialogue_.new_turn();
  round_first_part_.reset();
  state_ = State::kRecognizing;
  if (words_) {
    const std::string last_words =
        words_->listening() && !words_->failed() ? words_->partial() : std::string();
    if (words_->finish()) {
      // The transcript comes to on_stream_final; a speculation waits there to be judged.
      awaiting_final_ = true;
      // The provider still has to finalise (~150 ms for hosted ones): start the answer from
      // the newest partial now. The final usually says the same words, and then the answer
      // is already on its way; other words drop it (counted wasted) and ask again.
      if (!spec_.active && !last_words.empty() && settings_.speculative && engines_.chat) {
        speculate_on_words(last_words, now);
      }
      return;
    }
  }
  if (spec_.active) return adopt_speculation(now);
  new_answer();
  recognize_utterance();
}

// A partial transcript of the caller's speech in progress.
void AgentLoop::on_caller_partial(const std::string& text) {
  const MonoTime now = clock_now();
  ear_.on_partial_text(text, now);  // the wait follows the words; may barge in at once
  if (!in_pause_ || !may_speculate()) return;
  // In a pause, newer words than the speculation's: it answers the wrong question.
  if (spec_.active && (spec_.recognition_sent || (spec_.heard && spec_.heard->text == text))) {
    return;
  }
  if (spec_.active) drop_speculation();
  speculate_on_words(text, now);
}

// The streamed utterance's final transcript: the turn's words.
void AgentLoop::on_stream_final(speech::Recognition r) {
  if (!awaiting_final_ || state_ != State::kRecognizing) return;
  awaiting_final_ = false;
  const MonoTime now = clock_now();
  if (spec_.active) {
    // A speculation answered these very words: adopt it. Other words: it is waste.
    if (r.ok && !r.rejected && spec_.heard &&
        turn::normalize_text(spec_.heard->text) == turn::normalize_text(r.text)) {
      spec_.heard = std::move(r);
      spec_.heard_at = now;
      return adopt_speculation(now);
    }
    drop_speculation();
  } else {
    new_answer();
  }
  turn_.stt_final_ms = offset_ms(now);
  if (accept_transcript(r, now)) dialogue_.ask(now);
}

void AgentLoop::recognize_utterance() {
  speech::Recognizer& stt = engines_.stt ? *engines_.stt : host_.recognizer();
  stt.recognize(utterance_request(),
                back_on_media<speech::Recognition>([](AgentLoop* self, speech::Recognition r) {
                  self->on_recognized(std::move(r));
                }));
}

// The caller talks over the answer: what they say decides whether it stops.
void AgentLoop::on_words_wanted(MonoTime now) {
  if (!settings_.barge_in_words || overlap_pending_ || state_ == State::kEnding ||
      state_ == State::kEnded) {
    return;
  }
  // Streamed partials already reach the endpointer as they form.
  if (words_ && words_->listening() && !words_->failed() && !words_->partial().empty()) return;
  overlap_pending_ = true;
  speech::Recognizer& stt = engines_.stt ? *engines_.stt : host_.recognizer();
  stt.recognize(utterance_request(),
                back_on_media<speech::Recognition>([](AgentLoop* self, speech::Recognition r) {
                  self->on_overlap_words(std::move(r));
                }));
}

void AgentLoop::on_overlap_words(speech::Recognition r) {
  overlap_pending_ = false;
  if (!r.ok || r.rejected || r.text.empty()) return;  // no news: the length rule stays
  ear_.on_partial_text(r.text, clock_now());          // may barge in (on_barge_in) at once
}

speech::RecognitionRequest AgentLoop::utterance_request() const {
  auto audio = ear_.utterance();
  speech::RecognitionRequest req;
  req.pcm = std::make_shared<const std::vector<int16_t>>(audio.begin(), audio.end());
  req.sample_rate = leg_.sample_rate();
  req.language = settings_.language;
  req.tag = host_.call().id;
  return req;
}

void AgentLoop::on_recognized(speech::Recognition r) {
  if (spec_.active && (state_ == State::kListening || awaiting_final_)) {
    return on_speculative_transcript(std::move(r));
  }
  if (awaiting_final_) return;  // the stream's final is the turn's transcript
  if (state_ != State::kRecognizing) return;
  const MonoTime now = clock_now();
  turn_.stt_final_ms = offset_ms(now);
  if (accept_transcript(r, now)) dialogue_.ask(now);
}

bool AgentLoop::accept_transcript(speech::Recognition& r, MonoTime now) {
  if (!r.ok) {
    fail_turn("stt: " + r.error, now);
    return false;
  }
  if (r.rejected || r.text.empty()) {
    fail_turn("stt: nothing recognised", now);
    return false;
  }
  turn_.user_text = r.text;
  host_.record_event("user", r.text);
  host_.note_transcript(Speaker::kCaller, r.text);
  dialogue_.conversation().add(llm::Message::user(std::move(r.text)));
  return true;
}

bool AgentLoop::may_speculate() const {
  return settings_.speculative && state_ == State::kListening && engines_.chat &&
         turn_count_ < settings_.max_turns;
}

// The caller paused: maybe the end of the turn. Start the answer; play nothing yet.
void AgentLoop::on_short_pause(MonoTime speech_end, MonoTime now) {
  in_pause_ = true;
  if (!may_speculate() || spec_.active) return;
  if (words_ && words_->listening() && !words_->failed() && !words_->partial().empty()) {
    return speculate_on_words(words_->partial(), now);  // no request: the words are here
  }
  // No words streamed yet (no streaming engine, or one that transcribes only at the end):
  // send the utterance so far.
  begin_speculation(now);
  spec_.recognition_sent = true;
  recognize_utterance();
}

void AgentLoop::begin_speculation(MonoTime now) {
  new_answer();  // nothing of an older answer may mix in
  voice_.drop();
  voice_.hold(true);
  dialogue_.new_turn();
  dialogue_.hold(true);
  round_first_part_.reset();
  spec_.active = true;
  spec_.started = now;
  spec_.voice_requests_before = voice_.requests();
}

void AgentLoop::speculate_on_words(const std::string& text, MonoTime now) {
  begin_speculation(now);
  speech::Recognition heard;
  heard.ok = true;
  heard.text = text;
  spec_.heard = std::move(heard);
  spec_.heard_at = now;
  dialogue_.ask(now, &text);
}

// The speculation's work is stopped and counted as waste.
void AgentLoop::drop_speculation() {
  dialogue_.cancel();
  voice_.drop();
  new_answer();  // reports it wasted
}

// The caller went on: the speculation was for a turn that did not end there.
void AgentLoop::on_speech_resumed(MonoTime now) {
  in_pause_ = false;
  if (spec_.active) drop_speculation();
}

void AgentLoop::on_speculative_transcript(speech::Recognition r) {
  const MonoTime now = clock_now();
  spec_.heard_at = now;
  const std::string text = r.ok && !r.rejected ? r.text : std::string();
  spec_.heard = std::move(r);
  if (!text.empty()) dialogue_.ask(now, &text);
  // Last: the words may end the turn now (on the worker's next timer run, never inside
  // this call), which adopts what was just started.
  ear_.on_partial_text(text, now);
}

// The turn ended where the speculation started: its work becomes the answer.
void AgentLoop::adopt_speculation(MonoTime now) {
  report_speculation(true);
  Speculation s = std::move(spec_);
  spec_ = Speculation{};
  voice_.hold(false);    // what it holds goes once the transcript is accepted (pump below)
  if (!s.heard) return;  // still recognising: on_recognized takes it as the turn's
  turn_.stt_final_ms = offset_ms(s.heard_at);
  if (!accept_transcript(*s.heard, now)) return;
  if (!s.asked) return dialogue_.ask(now);
  state_ = State::kThinking;
  chat_sent_ = s.asked_at;
  if (s.first_token_at) {
    turn_.first_token_ms = offset_ms(*s.first_token_at);
    if (voice_.has_audio()) turn_.first_audio_ms = offset_ms(now);
  }
  if (!voice_.idle()) state_ = State::kSpeaking;
  dialogue_.hold(false);  // the tool calls and the end it held are acted on now
  voice_.pump(now);       // what arrived while held (clips, stream audio, a failed stream) goes now
}

void AgentLoop::on_asked(bool speculative, MonoTime now) {
  if (speculative) {
    spec_.asked = true;
    spec_.asked_at = now;
  } else {
    state_ = State::kThinking;
    chat_sent_ = now;
  }
}

void AgentLoop::on_model_output(bool text, MonoTime now) {
  if (spec_.active) {
    if (!spec_.first_token_at) spec_.first_token_at = now;
    return;
  }
  if (turn_.first_token_ms < 0) turn_.first_token_ms = offset_ms(now);
  if (text && (!voice_.idle() || leg_.playing())) state_ = State::kSpeaking;
}

void AgentLoop::on_sentence(std::string text, int round, MonoTime now) {
  voice_.say(Sentence{.text = std::move(text), .answer = true, .stream = true, .round = round},
             now);
}

void AgentLoop::on_builtin_tool(const llm::ToolCall& call, MonoTime now) {
  if (call.name == llm::kEndCall) {
    hangup_after_playout_ = true;
    host_.record_event("tool", "end_call " + llm::string_argument(call, "reason", 200));
  } else if (call.name == llm::kTransferToHuman) {
    host_.record_event("transfer_to_human", llm::string_argument(call, "department", 100) + ": " +
                                                llm::string_argument(call, "reason", 200));
    state_ = State::kSpeaking;
    speak(settings_.handoff_text, now, true);
    transfer_.start({settings_.human_to, settings_.transfer_mode, settings_.human_ring_timeout});
  } else if (call.name == llm::kSendDtmf) {
    if (auto digits = llm::dtmf_digits(call)) {
      for (char d : *digits) leg_.send_dtmf(d);
      host_.record_event("tool", "send_dtmf " + *digits);
    } else {
      host_.record_event("tool", "send_dtmf refused: bad digits");
    }
  }
}

void AgentLoop::on_tools_running(bool said_any, MonoTime now) {
  // The caller should not wait in silence: unless the model already said something.
  if (!said_any && voice_.idle() && !leg_.playing()) speak(settings_.wait_text, now, true);
  state_ = State::kSpeaking;
}

void AgentLoop::on_answer_failed(std::string error, MonoTime now) { fail_turn(error, now); }

bool AgentLoop::call_ending() const { return hangup_after_playout_; }

void AgentLoop::on_answer_end(const AnswerEnd& end, MonoTime now) {
  if (!end.ok) turn_.error = end.error;
  if (hangup_after_playout_) {
    if (!end.said_any) speak(settings_.goodbye_text, now, true);
    state_ = State::kEnding;
  } else {
    if (!end.ok) {
      // Never leave the caller with an answer that stops mid-way (a stream that stalled
      // or broke after its first sentences): what was said, then the fallback.
      spdlog::warn("call={} agent={} turn {} answer broke off: {}", host_.call().id, settings_.name,
                   turn_.index, turn_.error);
      host_.record_event("agent_error", turn_.error);
      speak(settings_.fallback_text, now, true);
    }
    state_ = State::kSpeaking;
  }
  maybe_finish(now);
}

void AgentLoop::fail_turn(std::string error, MonoTime now, bool embedded) {
  spdlog::warn("call={} agent={} turn {} failed: {}", host_.call().id, settings_.name, turn_.index,
               error);
  host_.record_event("agent_error", error);
  dialogue_.cancel();
  new_answer();  // whatever is still in flight for this turn is ignored
  voice_.drop();
  turn_.error = std::move(error);
  state_ = State::kSpeaking;
  speak(settings_.fallback_text, now, true, embedded);
}

void AgentLoop::interrupt(MonoTime now) {
  leg_.flush();
  ear_.playback_stopped();
  std::string heard = voice_.played().heard_text();
  // After a tool round the last assistant message is this round's answer only.
  const std::string heard_now =
      dialogue_.round() == 0
          ? heard
          : (round_first_part_ ? voice_.played().heard_text_from(*round_first_part_) : "");
  dialogue_.interrupt(heard_now);
  new_answer();
  voice_.drop();
  hangup_after_playout_ = false;  // the caller wants to talk after all
  host_.record_event("barge_in", heard);
  if (turn_open_) {
    turn_.interrupted = true;
    turn_.agent_text = heard;
    if (engines_.on_turn) engines_.on_turn(turn_);
    turn_open_ = false;
  }
  voice_.played().clear();
  state_ = State::kListening;
  listen_since_ = now;
  transfer_.handoff_heard();  // talked over: heard enough to know what comes
}

void AgentLoop::maybe_finish(MonoTime now) {
  if (!voice_.idle() || dialogue_.busy() || leg_.playing()) return;
  if (state_ == State::kSpeaking || state_ == State::kEnding) finish_turn(now);
}

void AgentLoop::on_playout_idle(MonoTime now) { maybe_finish(now); }

bool AgentLoop::agent_gone() const { return state_ == State::kEnded; }

void AgentLoop::on_handed_over() {
  // The session destroys the agent once the bridge stands (or hangs up after the REFER).
  state_ = State::kEnded;
  cancel_work();
  voice_.drop();
}

void AgentLoop::on_transfer_failed(const std::string& why) {
  if (state_ == State::kEnded) return;
  const MonoTime now = clock_now();
  state_ = State::kSpeaking;
  speak(settings_.no_human_text, now, false, true);
}

void AgentLoop::finish_turn(MonoTime now) {
  ear_.playback_stopped();
  if (turn_open_) {
    turn_.agent_text = voice_.played().full_text();
    host_.record_event("agent", turn_.agent_text);
    if (engines_.on_turn) engines_.on_turn(turn_);
    turn_open_ = false;
  }
  voice_.played().clear();
  if (state_ == State::kEnding || hangup_after_playout_) {
    state_ = State::kEnded;
    cancel_work();
    leg_.hangup("agent ended the call");
    return;
  }
  state_ = State::kListening;
  listen_since_ = now;
  transfer_.handoff_heard();  // the hand-off phrase was this turn's answer
}

void AgentLoop::say_goodbye(std::string why, MonoTime now) {
  host_.record_event("agent_end", why);
  cancel_work();
  if (leg_.playing()) leg_.flush();
  voice_.drop();
  if (turn_open_) {
    turn_.error = turn_.error.empty() ? why : turn_.error;
    turn_.agent_text = voice_.played().heard_text();
    if (engines_.on_turn) engines_.on_turn(turn_);
    turn_open_ = false;
  }
  voice_.played().clear();
  ear_.playback_stopped();
  if (words_) words_->cancel();
  awaiting_final_ = false;
  state_ = State::kEnding;
  speak(settings_.goodbye_text, now, false);
}

void AgentLoop::cancel_work() {
  dialogue_.cancel();
  new_answer();
}

void AgentLoop::on_dtmf(char digit, MonoTime now) {
  // Keys are not part of the conversation yet; keep them in the record.
  host_.record_digits(std::string_view(&digit, 1));
}

void AgentLoop::on_hangup(std::string_view reason) {
  transfer_.cancel();
  if (turn_open_) {
    turn_.error = turn_.error.empty() ? "caller hung up" : turn_.error;
    turn_.agent_text = voice_.played().heard_text();
    if (engines_.on_turn) engines_.on_turn(turn_);
    turn_open_ = false;
  }
  state_ = State::kEnded;
  cancel_work();
  voice_.drop();
  if (words_) words_->cancel();
  awaiting_final_ = false;
}

}  // namespace atende::agent
