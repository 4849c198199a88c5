#include "sessions/agent_turns.h"

#include <cmath>

namespace atende::sessions {

namespace {
std::optional<int64_t> ms(double v) {
  if (v < 0) return std::nullopt;
  return static_cast<int64_t>(std::llround(v));
}
}  // namespace

store::CallTurn to_call_turn(const agent::AgentTurn& t) {
  store::CallTurn c;
  c.index = t.index;
  c.user_text = t.user_text;
  c.agent_text = t.agent_text;
  c.interrupted = t.interrupted;
  c.error = t.error;
  c.speech_end_ms = ms(t.speech_end_ms);
  c.stt_final_ms = ms(t.stt_final_ms);
  c.first_token_ms = ms(t.first_token_ms);
  c.first_audio_ms = ms(t.first_audio_ms);
  c.first_play_ms = ms(t.first_play_ms);
  return c;
}

std::function<void(const agent::AgentTurn&)> agent_turn_sink(store::CallStore& store,
                                                             std::string call_id) {
  return [&store, id = std::move(call_id)](const agent::AgentTurn& t) {
    store.add_turn(id, to_call_turn(t));
  };
}

}  // namespace atende::sessions
