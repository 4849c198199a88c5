// One turn of an agent conversation as recorded: both texts, what went wrong, and when
// each stage happened (ms since the agent started; negative: the stage never happened).
#pragma once
#include <string>

namespace atende::agent {

struct AgentTurn {
  int index = 0;               // 0 is the greeting, then one per caller turn
  std::string user_text{};     // what the recogniser heard ("" for the greeting)
  std::string agent_text{};    // what the agent said (only the heard part if interrupted)
  bool interrupted = false;    // the caller barged in
  std::string error{};         // "" or why the turn fell back ("stt: ...", "llm: ...")
  double speech_end_ms = -1;   // end of caller speech (last speech frame)
  double stt_final_ms = -1;    // recogniser result back on the media thread
  double first_token_ms = -1;  // first LLM text or tool-call delta
  double first_audio_ms = -1;  // first synthesised clip of the answer ready
  double first_play_ms = -1;   // first clip of the answer handed to the leg
};

}  // namespace atende::agent
