// The OpenAI Realtime engine (docs/realtime.md): a persona's conversation spoken by one
// speech-to-speech model over a WebSocket, instead of STT -> LLM -> TTS. It is a flow::Flow
// on the leg's media thread like AgentLoop; the socket, the JSON and the 24 kHz resampling
// live on the Realtime I/O thread (realtime/realtime_client.h), reached through a Bridge of
// fixed rings: on_frame copies the caller's frame in and one answer frame out, nothing more.
//
// Turns: with the server's VAD (`realtime.vad: server`) the server decides when the caller
// is done and answers; with ours (`vad: local`) our TurnDetector ends the turn and the engine
// commits the input buffer and asks for a response. When the caller starts speaking, the
// server's input buffer is cleared and refilled with the utterance from its first frame
// (and the endpointer's pre-roll): what came before (silence, the echo of our answer, a
// backchannel that was no turn) is not sent as part of the caller's turn.
//
// Speculation (local VAD, the persona's `turn.speculative`, on by default): the commit and
// the response are asked at the endpointer's short pause (200 ms), and the answer's audio
// waits in the answer ring until the end of the turn confirms it; its tool calls wait too.
// If the caller goes on instead, the response is cancelled and its output items deleted
// (conversation.item.delete); what they said before the pause stays in the conversation as
// a user item of its own, and the rest follows as the next one, so the model hears the whole
// sentence. Nothing new is asked until the cancelled response is over (the API refuses a
// response while one is active). The speculative commit's transcript, when it comes before the
// end of the turn, sets the endpointer's wait as the pipeline's words do: a closed question
// ends the turn after 200 ms, a trailing "and..." waits longer. Barge-in: the server's
// speech_started (server VAD) or our turn::Endpointer (local VAD) while an answer plays flushes the
// leg, sends response.cancel (if the response is still running) and conversation.item.truncate at
// the audio actually handed to the leg. Tools: the persona's built-ins and HTTP tools, through the
// same llm::HttpToolRunner as AgentLoop; the result goes back as function_call_output and a new
// response. Each caller turn is one AgentTurn, as AgentLoop records them.
//
// transfer_to_human: as AgentLoop (agent/human_transfer.h). The hand-off is what the model
// said in the response that called the tool, or, when it said nothing, the persona's
// `handoff` text in the host's voice (FlowHost::phrases). The person is dialled meanwhile;
// once they answered and the hand-off was heard, the caller is bridged to them (or REFERred)
// and the Realtime session is closed. The call's function output waits for the outcome:
// when nobody answers the model gets {"transferred": false, "error": ...} and a new
// response, so it tells the caller, and the conversation goes on.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/agent_loop.h"
#include "agent/human_transfer.h"
#include "agent/speculation.h"
#include "realtime/realtime_bridge.h"
#include "turn/endpointer.h"

namespace atende::agent {

struct RealtimeEngines {
  // Opens a Realtime session for a leg at `rate`; the engine owns the returned bridge.
  std::function<std::shared_ptr<realtime::Bridge>(int rate)> open;
  llm::HttpToolRunner* tools = nullptr;  // runs http_tools; nullptr: they answer an error
  std::function<std::unique_ptr<audio::Vad>(int sample_rate)> make_vad;  // local VAD
  std::function<void(const AgentTurn&)> on_turn;
  // Every speculative response, used or wasted (kind llm), on the media thread.
  std::function<void(const SpeculationReport&)> on_speculation;
};

class RealtimeEngine final : public flow::Flow,
                             private turn::EndpointerEvents,
                             private HumanTransferEvents {
 public:
  RealtimeEngine(flow::FlowHost& host, AgentSettings settings, bool server_vad,
                 RealtimeEngines engines);
  ~RealtimeEngine() override;
  RealtimeEngine(const RealtimeEngine&) = delete;
  RealtimeEngine& operator=(const RealtimeEngine&) = delete;

  void start(MonoTime now) override;
  void on_frame(const AudioFrame& heard, MonoTime now) override;
  void on_dtmf(char digit, MonoTime now) override;
  void on_hangup(std::string_view reason) override;

  struct Gate;  // lets tool results find the engine, or learn it is gone

 private:
  // turn::EndpointerEvents (local VAD only).
  void on_end_of_turn(const turn::TurnEvent& ev, MonoTime now) override;
  void on_speech_started(const turn::TurnEvent& ev, MonoTime now) override;
  void on_short_pause(MonoTime speech_end, MonoTime now) override;
  void on_speech_resumed(MonoTime now) override;
  void on_barge_in(MonoTime now) override;
  // HumanTransferEvents.
  bool agent_gone() const override { return ended_; }
  void on_handed_over() override;
  void on_transfer_failed(const std::string& why) override;

  void drain_events(MonoTime now);
  void on_event(realtime::EngineEvent& e, MonoTime now);
  void on_function_call(const realtime::ServerEvent& e, MonoTime now);
  void on_tool_result(uint64_t round, const std::string& call_id, const std::string& output);
  void start_transfer(const realtime::ServerEvent& e);
  void say_handoff();
  void on_handoff_clip(ClipPtr clip);
  void check_handoff();
  void play_answer(MonoTime now);
  bool answering() const;
  void interrupt(MonoTime now);
  void open_turn(MonoTime speech_end);
  void confirm_speculation(MonoTime now);
  void drop_speculation();
  void end_cancel();
  bool on_cancelled_event(const realtime::EngineEvent& ev);
  void finish_turn();
  void command(realtime::Command c);
  void end_call(std::string why);
  double offset_ms(MonoTime t) const;

  flow::FlowHost& host_;
  Leg& leg_;
  AgentSettings settings_;
  const bool server_vad_;
  RealtimeEngines engines_;
  std::shared_ptr<Gate> gate_;
  std::shared_ptr<realtime::Bridge> bridge_;
  std::unique_ptr<turn::Endpointer> ear_;  // local VAD; null with the server's
  AudioFrame out_frame_;

  MonoTime started_{};
  bool ended_ = false;
  bool hangup_when_played_ = false;
  int turn_count_ = 0;

  // The response in progress (empty: none) and the assistant audio items it queued: where
  // each starts in the answer ring, so the heard part of the current one is known.
  std::string response_id_;
  bool response_running_ = false;
  std::string cancelled_response_;  // barged in: its late events are ignored
  bool call_in_response_ = false;   // the running response called a tool
  bool answer_done_ = false;        // this turn's answer is complete (played out: finish)
  int tools_pending_ = 0;           // HTTP tools of this round still running
  uint64_t tool_round_ = 0;         // bumped by a barge-in: older results ask for nothing
  bool outputs_waiting_ = false;    // tool outputs sent, the follow-up response not asked
  struct AudioItem {
    std::string item_id;
    uint64_t start = 0;
  };
  std::vector<AudioItem> items_;
  bool was_playing_ = false;

  // transfer_to_human: the call whose output waits for the outcome, and the hand-off the
  // caller must hear first (the model's audio or our clip, still fetching or playing).
  HumanTransfer transfer_{host_, *this};
  std::string transfer_call_;
  bool handoff_waiting_ = false;
  bool handoff_fetching_ = false;
  std::string handoff_text_;
  bool response_spoke_ = false;  // the running response has audio

  // The speculative response (see the top): asked, neither confirmed nor dropped yet.
  bool speculating_ = false;
  std::vector<realtime::ServerEvent> held_calls_;  // its tool calls, run once confirmed
  std::vector<std::string> spec_items_;            // its output items (deleted if dropped)
  std::string spec_response_;                      // its id, once response.created came
  int awaited_ = 0;  // responses asked for (commit, respond) whose response.created is to come
  // A dropped speculative response until its response.done: nothing plays, nothing is asked.
  bool cancel_pending_ = false;
  bool cancel_named_ = false;         // its response.created was seen (cancelled_response_)
  bool commit_after_cancel_ = false;  // the turn ended meanwhile: commit once it is over
  // The caller's words of dropped speculations: transcripts still to come for their user
  // items, and what came, for the turn that carries on from them.
  int dropped_user_items_ = 0;
  std::string carried_user_text_;

  AgentTurn turn_;
  bool turn_open_ = false;
  std::string item_text_;           // transcript of the current audio item (for the heard part)
  bool item_text_in_turn_ = false;  // item_text_ is complete and already in turn_.agent_text
};

}  // namespace atende::agent
