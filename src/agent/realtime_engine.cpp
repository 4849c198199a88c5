#include "agent/realtime_engine.h"

#include <spdlog/spdlog.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <utility>

#include "agent/agent_phrases.h"

namespace atende::agent {

using realtime::Command;
using realtime::EventType;

struct RealtimeEngine::Gate {
  std::mutex mu;
  RealtimeEngine* engine = nullptr;  // null once the engine is gone
  flow::FlowHost* host = nullptr;
};

namespace {

std::string error_json(std::string_view message) {
  return nlohmann::json{{"error", message}}.dump(-1, ' ', false,
                                                 nlohmann::json::error_handler_t::replace);
}
constexpr const char* kOk = R"({"ok":true})";
constexpr size_t kMaxAudioItems = 16;

std::string joined(std::string a, const std::string& b) {
  if (!a.empty() && !b.empty()) a += ' ';
  return a + b;
}

// The first `fraction` of `text`, cut back to a word boundary: what the caller heard of a
// transcript whose audio was cut (an estimate: speech is not spoken at an even rate).
std::string heard_part(const std::string& text, double fraction) {
  if (fraction >= 1.0) return text;
  if (fraction <= 0.0) return {};
  size_t cut = static_cast<size_t>(double(text.size()) * fraction);
  while (cut > 0 && text[cut] != ' ') --cut;
  return text.substr(0, cut);
}

}  // namespace

RealtimeEngine::RealtimeEngine(flow::FlowHost& host, AgentSettings settings, bool server_vad,
                               RealtimeEngines engines)
    : host_(host),
      leg_(host.leg()),
      settings_(std::move(settings)),
      server_vad_(server_vad),
      engines_(std::move(engines)),
      gate_(std::make_shared<Gate>()),
      out_frame_(AudioFrame::silence(leg_.sample_rate())) {
  gate_->engine = this;
  gate_->host = &host_;
  if (!server_vad_) {
    turn::EndpointerConfig c{.turn = settings_.turn, .barge_in = settings_.barge_in};
    c.turn.sample_rate = leg_.sample_rate();
    const int rate = leg_.sample_rate();
    ear_ = std::make_unique<turn::Endpointer>(
        c, engines_.make_vad ? engines_.make_vad(rate) : turn::make_default_vad(rate),
        leg_.executor().timers(), static_cast<turn::EndpointerEvents&>(*this));
  }
}

RealtimeEngine::~RealtimeEngine() {
  {
    std::lock_guard lock(gate_->mu);
    gate_->engine = nullptr;
    gate_->host = nullptr;
  }
  if (bridge_) bridge_->close();
}

double RealtimeEngine::offset_ms(MonoTime t) const {
  return std::chrono::duration<double, std::milli>(t - started_).count();
}

void RealtimeEngine::start(MonoTime now) {
  started_ = now;
  host_.record_event("agent", settings_.name + " (realtime)");
  if (engines_.open) bridge_ = engines_.open(leg_.sample_rate());
  if (!bridge_) return end_call("realtime: not configured");
  if (!settings_.greeting.empty()) {
    // Turn 0: the model says the greeting, in its own voice, as its first response.
    turn_ = AgentTurn{};
    turn_open_ = true;
    command({Command::Kind::kRespond, "",
             "Greet the caller with exactly these words and nothing else: " + settings_.greeting});
  }
}

void RealtimeEngine::command(Command c) {
  if (c.kind == Command::Kind::kCommit || c.kind == Command::Kind::kRespond) ++awaited_;
  if (!bridge_->push_command(std::move(c))) end_call("realtime: the session is stuck");
}

void RealtimeEngine::on_frame(const AudioFrame& heard, MonoTime now) {
  if (ended_ || !bridge_) return;
  if (now - started_ >= settings_.session_timeout) return end_call("session timeout");
  bridge_->push_caller(heard.pcm.data(), size_t(heard.samples));
  if (auto why = bridge_->ended()) return end_call("realtime: " + *why);
  drain_events(now);
  if (ended_) return;
  if (ear_) ear_->on_frame(heard, now);  // may end a turn or barge in (below)
  if (ended_) return;
  play_answer(now);
  if (!ended_) check_handoff();
}

void RealtimeEngine::on_end_of_turn(const turn::TurnEvent& ev, MonoTime now) {
  if (ended_) return;
  if (speculating_) return confirm_speculation(now);
  if (answering()) return;
  open_turn(ev.speech_end);
  if (cancel_pending_) {
    commit_after_cancel_ = true;  // the API takes no response while one is still active
    return;
  }
  command({Command::Kind::kCommit});
}

void RealtimeEngine::on_speech_started(const turn::TurnEvent& ev, MonoTime now) {
  if (ended_) return;
  const auto since_start = std::chrono::duration_cast<Millis>(now - ev.speech_start);
  const Millis keep = since_start + settings_.turn.pre_roll;
  command({Command::Kind::kRestartInput, "", "", static_cast<int>(keep.count())});
}

void RealtimeEngine::on_short_pause(MonoTime speech_end, MonoTime) {
  if (ended_ || !settings_.speculative || speculating_ || cancel_pending_ || awaited_ > 0 ||
      answering() || transfer_.active() || handoff_waiting_) {
    return;
  }
  open_turn(speech_end);
  speculating_ = true;
  command({Command::Kind::kCommit});
}

void RealtimeEngine::on_speech_resumed(MonoTime) {
  if (speculating_) drop_speculation();
}

void RealtimeEngine::confirm_speculation(MonoTime now) {
  speculating_ = false;
  spec_items_.clear();
  spec_response_.clear();
  if (engines_.on_speculation) engines_.on_speculation({.used = true, .chat = true});
  // The held tool calls run now, as if they had just come; their follow-up response is asked
  // here when the calling response is over already.
  for (const auto& call : std::exchange(held_calls_, {})) on_function_call(call, now);
  if (outputs_waiting_ && tools_pending_ == 0 && !response_running_) {
    outputs_waiting_ = false;
    command({Command::Kind::kRespond});
  }
  // Its audio, held in the answer ring, plays from the next frame (play_answer).
}

void RealtimeEngine::drop_speculation() {
  speculating_ = false;
  held_calls_.clear();  // never run: the model's calls go with its response
  if (engines_.on_speculation) engines_.on_speculation({.used = false, .chat = true});
  if (turn_open_) {  // not a turn after all: its words carry over to the one that goes on
    if (turn_.user_text.empty()) {
      ++dropped_user_items_;
    } else {
      carried_user_text_ = joined(std::move(carried_user_text_), turn_.user_text);
    }
    turn_ = AgentTurn{};
    turn_open_ = false;
    answer_done_ = false;
    --turn_count_;
  }
  items_.clear();
  cancel_pending_ = true;
  if (spec_response_.empty()) {  // not created yet: the next response.created names it
    cancel_named_ = false;
    command({Command::Kind::kCancel});
    return;
  }
  cancel_named_ = true;
  cancelled_response_ = std::exchange(spec_response_, {});
  bridge_->drop_answer(cancelled_response_);
  if (!response_running_) return end_cancel();  // over already: only its items to delete
  response_running_ = false;
  command({Command::Kind::kCancel});
}

// Events of a dropped speculative response: its output items are noted, to be deleted, and its
// end lets the conversation go on. True when `ev` was one.
bool RealtimeEngine::on_cancelled_event(const realtime::EngineEvent& ev) {
  if (!cancel_pending_) return false;
  const auto& e = ev.event;
  if (!cancel_named_) {
    // Nothing of it can come before its response.created.
    if (ev.audio_start || e.type != EventType::kResponseCreated) return false;
    // Nothing else was asked since the speculation (on_short_pause), so this is its response.
    cancel_named_ = true;
    cancelled_response_ = e.response_id;
    bridge_->drop_answer(e.response_id);
    return true;
  }
  if (e.response_id != cancelled_response_) return false;
  if (!ev.audio_start && e.type == EventType::kOutputItem) {
    if (!e.item_id.empty() && spec_items_.size() < kMaxAudioItems) spec_items_.push_back(e.item_id);
  } else if (!ev.audio_start && e.type == EventType::kResponseDone) {
    end_cancel();
  }
  return true;
}

void RealtimeEngine::end_cancel() {
  cancel_pending_ = false;
  bridge_->drop_answer(cancelled_response_);  // what came before the I/O thread knew
  for (auto& id : std::exchange(spec_items_, {})) command({Command::Kind::kDeleteItem, id});
  if (std::exchange(commit_after_cancel_, false)) command({Command::Kind::kCommit});
}

void RealtimeEngine::on_barge_in(MonoTime now) {
  if (!ended_) interrupt(now);
}

void RealtimeEngine::drain_events(MonoTime now) {
  realtime::EngineEvent e;
  while (!ended_ && bridge_->pop_event(e)) on_event(e, now);
}

bool RealtimeEngine::answering() const {
  return response_running_ || tools_pending_ > 0 || outputs_waiting_ || was_playing_;
}

void RealtimeEngine::on_event(realtime::EngineEvent& ev, MonoTime now) {
  const auto& e = ev.event;
  if (!ev.audio_start && e.type == EventType::kResponseCreated && awaited_ > 0) --awaited_;
  if (on_cancelled_event(ev)) return;
  const bool stale = !cancelled_response_.empty() && e.response_id == cancelled_response_;
  if (ev.audio_start) {
    if (stale) return;
    if (items_.size() == kMaxAudioItems) items_.erase(items_.begin());
    items_.push_back({e.item_id, ev.ring_pos});
    if (e.response_id == response_id_) response_spoke_ = true;
    if (item_text_in_turn_) {  // a second audio item in one response: its own transcript
      item_text_.clear();
      item_text_in_turn_ = false;
    }
    if (turn_open_) {
      if (turn_.first_token_ms < 0) turn_.first_token_ms = offset_ms(now);
      if (turn_.first_audio_ms < 0) turn_.first_audio_ms = offset_ms(now);
    }
    return;
  }
  switch (e.type) {
    case EventType::kSpeechStarted:
      if (answering()) interrupt(now);
      break;
    case EventType::kSpeechStopped:
      if (server_vad_) open_turn(now);
      break;
    case EventType::kInputTranscript:
      host_.record_event("user", e.text);
      if (dropped_user_items_ > 0) {  // the words before a pause the caller talked through
        --dropped_user_items_;
        carried_user_text_ = joined(std::move(carried_user_text_), e.text);
      } else if (turn_open_ && turn_.index > 0 && turn_.user_text.empty()) {
        turn_.user_text = joined(std::exchange(carried_user_text_, {}), e.text);
        turn_.stt_final_ms = offset_ms(now);
        // The speculative commit's words: a closed question ends the turn sooner, a
        // trailing "and..." later (turn/turn_text.h), as the pipeline's partials do.
        if (speculating_ && ear_) ear_->on_partial_text(turn_.user_text, now);
      }
      break;
    case EventType::kResponseCreated:
      if (speculating_) spec_response_ = e.response_id;
      response_id_ = e.response_id;
      response_running_ = true;
      response_spoke_ = false;
      call_in_response_ = false;
      item_text_.clear();
      item_text_in_turn_ = false;
      break;
    case EventType::kOutputItem:
      // What a speculative response adds to the conversation: deleted if it is dropped.
      if (speculating_ && !e.item_id.empty() && spec_items_.size() < kMaxAudioItems) {
        spec_items_.push_back(e.item_id);
      }
      break;
    case EventType::kTranscriptDelta:
      // Kept so that a barge-in before .done still knows what was being said.
      if (!stale && item_text_.size() + e.text.size() <= realtime::kMaxTextBytes) {
        item_text_ += e.text;
      }
      break;
    case EventType::kTranscriptDone:
      if (stale) break;
      item_text_ = e.text;
      if (turn_open_) {
        if (!turn_.agent_text.empty()) turn_.agent_text += ' ';
        turn_.agent_text += e.text;
        item_text_in_turn_ = true;
      }
      break;
    case EventType::kFunctionCall:
      if (stale) break;
      if (speculating_) {  // run once the turn is confirmed (it may be dropped)
        call_in_response_ = true;
        if (held_calls_.size() < kMaxAudioItems) held_calls_.push_back(e);
        break;
      }
      on_function_call(e, now);
      break;
    case EventType::kResponseDone:
      if (e.response_id != response_id_ && !response_id_.empty()) break;  // an old one
      response_running_ = false;
      if (e.status == "failed" && turn_open_ && turn_.error.empty()) {
        turn_.error = "llm: realtime response failed";
      }
      if (e.status != "cancelled" && !call_in_response_) answer_done_ = true;
      if (outputs_waiting_ && tools_pending_ == 0) {
        outputs_waiting_ = false;
        command({Command::Kind::kRespond});
      }
      break;
    case EventType::kError:
      // Often benign (a cancel that raced the response's end); recorded, the call goes on.
      host_.record_event("realtime_error", (e.code.empty() ? "" : e.code + ": ") + e.text);
      spdlog::info("call={} realtime error {}: {}", host_.call().id, e.code, e.text);
      break;
    default:
      break;
  }
}

void RealtimeEngine::on_function_call(const realtime::ServerEvent& e, MonoTime now) {
  call_in_response_ = true;
  if (turn_open_ && turn_.first_token_ms < 0) turn_.first_token_ms = offset_ms(now);
  host_.record_event("tool", e.name + " " + e.text.substr(0, 500));
  const llm::ToolCall call{e.call_id, e.name, e.text};
  auto output_now = [&](std::string output) {
    command({Command::Kind::kToolOutput, e.call_id, std::move(output)});
    outputs_waiting_ = true;
  };
  if (e.name == llm::kEndCall) {
    hangup_when_played_ = true;  // after the goodbye the model says next
    return output_now(kOk);
  }
  if (e.name == llm::kSendDtmf) {
    if (auto digits = llm::dtmf_digits(call)) {
      for (char d : *digits) leg_.send_dtmf(d);
      return output_now(kOk);
    }
    return output_now(error_json("digits must be 1 to 32 of 0-9 * # A-D"));
  }
  if (e.name == llm::kTransferToHuman) {
    if (transfer_.active()) return output_now(error_json("a transfer is already in progress"));
    return start_transfer(e);
  }
  const llm::HttpTool* tool = nullptr;
  for (const auto& t : settings_.http_tools) {
    if (t.spec.name == e.name) tool = &t;
  }
  if (!tool) return output_now(error_json("no such tool: " + e.name.substr(0, 64)));
  if (!engines_.tools) return output_now(error_json("tools are not available"));
  ++tools_pending_;
  // The result comes back on the HTTP thread: hop to the media thread, unless we are gone.
  engines_.tools->run(*tool, call,
                      [gate = gate_, id = e.call_id, round = tool_round_](llm::ToolResult r) {
                        std::lock_guard lock(gate->mu);
                        if (!gate->host) return;
                        gate->host->post([gate, id, round, content = std::move(r.content)] {
                          if (gate->engine) gate->engine->on_tool_result(round, id, content);
                        });
                      });
}

void RealtimeEngine::on_tool_result(uint64_t round, const std::string& call_id,
                                    const std::string& output) {
  if (ended_) return;
  host_.record_event("tool_result", output.substr(0, 500));
  // Every call gets its output, so the model's history stays whole; but the answer to a
  // round the caller interrupted is not asked for: their new turn has its own.
  command({Command::Kind::kToolOutput, call_id, output});
  if (round != tool_round_) return;
  --tools_pending_;
  outputs_waiting_ = true;
  if (tools_pending_ == 0 && !response_running_) {
    outputs_waiting_ = false;
    command({Command::Kind::kRespond});
  }
}

void RealtimeEngine::start_transfer(const realtime::ServerEvent& e) {
  const llm::ToolCall call{e.call_id, e.name, e.text};
  host_.record_event("transfer_to_human", llm::string_argument(call, "department", 100) + ": " +
                                              llm::string_argument(call, "reason", 200));
  // No output yet: the model hears how it went (on_transfer_failed), or never again.
  transfer_call_ = e.call_id;
  transfer_.start({settings_.human_to, settings_.transfer_mode, settings_.human_ring_timeout});
  if (!transfer_.active()) return;  // failed at once (no human): the model has its output
  handoff_waiting_ = true;
  if (!response_spoke_) say_handoff();  // the model said nothing: our hand-off is what is heard
}

void RealtimeEngine::say_handoff() {
  handoff_text_ = settings_.handoff_text.empty()
                      ? default_phrase(AgentPhrase::kHandoff, settings_.language)
                      : settings_.handoff_text;
  const speech::Phrase phrase{handoff_text_, settings_.voice, leg_.sample_rate()};
  auto& tts = host_.phrases();
  if (ClipPtr clip = tts.cached(phrase)) return on_handoff_clip(std::move(clip));
  handoff_fetching_ = true;
  // Synthesised on a speech worker: hop to the media thread, unless we are gone.
  tts.fetch(phrase, [gate = gate_](ClipPtr clip) {
    std::lock_guard lock(gate->mu);
    if (!gate->host) return;
    gate->host->post([gate, clip = std::move(clip)]() mutable {
      if (gate->engine) gate->engine->on_handoff_clip(std::move(clip));
    });
  });
}

void RealtimeEngine::on_handoff_clip(ClipPtr clip) {
  handoff_fetching_ = false;
  if (ended_ || !handoff_waiting_) return;  // talked over, or the transfer is over already
  if (!clip) return;                        // no voice: the ringing goes on in silence
  leg_.play(std::move(clip));
  // Part of the turn's answer (recorded with it), or on its own.
  if (turn_open_) {
    turn_.agent_text += (turn_.agent_text.empty() ? "" : " ") + handoff_text_;
  } else {
    host_.record_event("agent_said", handoff_text_);
  }
}

// The hand-off has been heard once the response is over and nothing is left to play.
void RealtimeEngine::check_handoff() {
  if (!handoff_waiting_ || handoff_fetching_ || response_running_ || was_playing_ ||
      leg_.playing() || bridge_->answer_queued() > 0) {
    return;
  }
  handoff_waiting_ = false;
  transfer_.handoff_heard();  // may hand over: on_handed_over()
}

void RealtimeEngine::on_handed_over() {
  // The caller is the person's now: the session goes, the leg stays (bridged or referred).
  handoff_waiting_ = false;
  transfer_call_.clear();
  ended_ = true;
  finish_turn();
  if (bridge_) bridge_->close();
}

void RealtimeEngine::on_transfer_failed(const std::string& why) {
  handoff_waiting_ = false;
  if (ended_ || transfer_call_.empty()) return;
  const std::string output =
      nlohmann::json{{"transferred", false}, {"error", "no one took the call (" + why + ")"}}.dump(
          -1, ' ', false, nlohmann::json::error_handler_t::replace);
  command({Command::Kind::kToolOutput, std::exchange(transfer_call_, {}), output});
  host_.record_event("tool_result", output);
  // A new response so the model tells the caller; after the running one, if any.
  if (response_running_) {
    outputs_waiting_ = true;
  } else {
    command({Command::Kind::kRespond});
  }
}

void RealtimeEngine::play_answer(MonoTime now) {
  // A speculative answer waits for the end of the turn; a dropped one is never heard.
  if (speculating_ || cancel_pending_) return;
  const size_t n = static_cast<size_t>(samples_per_frame(leg_.sample_rate()));
  if (bridge_->pop_answer(out_frame_.pcm.data(), n)) {
    out_frame_.samples = static_cast<int>(n);
    leg_.play_frame(out_frame_);
    if (turn_open_ && turn_.first_play_ms < 0) turn_.first_play_ms = offset_ms(now);
    if (!was_playing_) {
      was_playing_ = true;
      if (ear_) ear_->playback_started(now);
    }
    return;
  }
  if (was_playing_ && bridge_->answer_queued() == 0) {
    was_playing_ = false;
    if (ear_) ear_->playback_stopped();
  }
  if (turn_open_ && answer_done_ && !answering()) {
    finish_turn();
    if (hangup_when_played_) end_call("end_call");
  }
}

void RealtimeEngine::interrupt(MonoTime now) {
  leg_.flush();
  // Where the caller stopped hearing us: samples handed to the leg for the current item.
  const uint64_t popped = bridge_->answer_popped();
  const uint64_t pushed = bridge_->answer_pushed();
  bridge_->drop_answer(response_id_);
  const AudioItem* item = nullptr;
  for (const auto& it : items_) {
    if (it.start <= popped) item = &it;
  }
  if (response_running_) {
    command({Command::Kind::kCancel});
    cancelled_response_ = response_id_;
  }
  int played_ms = 0;
  if (item) {
    played_ms = static_cast<int>((popped - item->start) * 1000 / uint64_t(leg_.sample_rate()));
    command({Command::Kind::kTruncate, item->item_id, "", played_ms});
    if (turn_open_) {
      const double total = double(pushed - item->start);
      const double fraction = total > 0 ? double(popped - item->start) / total : 1.0;
      // The transcript of this item, if it came, is at the end of agent_text: keep its heard
      // part only.
      auto& said = turn_.agent_text;
      if (item_text_in_turn_ && said.ends_with(item_text_)) {
        said.resize(said.size() - item_text_.size());
      }
      while (!said.empty() && said.back() == ' ') said.pop_back();
      const std::string heard = heard_part(item_text_, fraction);
      if (!heard.empty()) said += (said.empty() ? "" : " ") + heard;
    }
  }
  host_.record_event("barge_in", std::to_string(played_ms) + " ms heard");
  const bool handoff_cut = handoff_waiting_;
  handoff_waiting_ = false;
  items_.clear();
  response_running_ = false;
  ++tool_round_;  // results still out answer their calls but ask for no response
  tools_pending_ = 0;
  outputs_waiting_ = false;
  was_playing_ = false;
  if (ear_) ear_->playback_stopped();
  if (turn_open_) {
    turn_.interrupted = true;
    finish_turn();
  }
  if (handoff_cut) transfer_.handoff_heard();  // talked over: heard enough to know what comes
  (void)now;
}

void RealtimeEngine::open_turn(MonoTime speech_end) {
  finish_turn();
  turn_ = AgentTurn{};
  turn_.index = ++turn_count_;
  turn_.speech_end_ms = offset_ms(speech_end);
  turn_open_ = true;
  answer_done_ = false;
}

void RealtimeEngine::finish_turn() {
  if (!turn_open_) return;
  turn_open_ = false;
  answer_done_ = false;
  if (!turn_.agent_text.empty()) host_.record_event("agent_said", turn_.agent_text.substr(0, 500));
  if (engines_.on_turn) engines_.on_turn(turn_);
  if (turn_count_ >= settings_.max_turns && !hangup_when_played_) {
    hangup_when_played_ = true;  // the next answer is the last
  }
}

void RealtimeEngine::on_dtmf(char digit, MonoTime) { host_.record_digits(std::string(1, digit)); }

void RealtimeEngine::end_call(std::string why) {
  if (ended_) return;
  ended_ = true;
  transfer_.cancel();
  finish_turn();
  host_.record_event("hangup", why);
  if (bridge_) bridge_->close();
  leg_.hangup(why);
}

void RealtimeEngine::on_hangup(std::string_view) {
  if (ended_) return;
  ended_ = true;
  transfer_.cancel();
  finish_turn();
  if (bridge_) bridge_->close();
}

}  // namespace atende::agent
