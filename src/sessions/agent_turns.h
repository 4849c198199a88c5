// Agent turns into the call record: the loop's AgentTurn becomes a store::CallTurn row.
#pragma once
#include <functional>
#include <string>

#include "agent/agent_turn.h"
#include "store/call_store.h"

namespace atende::sessions {

store::CallTurn to_call_turn(const agent::AgentTurn& turn);
// A sink for AgentEngines::on_turn that writes through the store's queue (never blocks).
std::function<void(const agent::AgentTurn&)> agent_turn_sink(store::CallStore& store,
                                                             std::string call_id);

}  // namespace atende::sessions
