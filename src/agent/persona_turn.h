// A persona's `turn:` map: how the agent takes turns (docs/turn-taking.md).
//
//   turn:
//     speculative: true             # start the answer at a 200 ms pause (agent/speculation.h)
//     barge_in_words: true          # words over an answer decide barge-in ("ok" never, "stop" at
//     once) end_silence_ms: 600           # silence that ends a turn with nothing to go on
//     end_silence_complete_ms: 200  # ... after a closed sentence or a short answer
//     end_silence_number_ms: 500    # ... after a digit string (read in groups)
//     end_silence_unfinished_ms: 1200  # ... after "and", "for", "um", "..."
#pragma once
#include <yaml-cpp/yaml.h>

#include "agent/agent_loop.h"

namespace atende::agent {

// Reads root["turn"] (absent: the defaults stay) into `settings`. Throws
// std::invalid_argument("turn.key: problem").
void parse_turn_settings(const YAML::Node& root, AgentSettings& settings);

}  // namespace atende::agent
