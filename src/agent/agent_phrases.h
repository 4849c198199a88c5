// What the agent says on its own (fallback, re-prompt, goodbye, hand-off, not configured),
// per language, for personas that do not set their own.
#pragma once
#include <string>
#include <string_view>

namespace atende::agent {

enum class AgentPhrase {
  kFallback,
  kReprompt,
  kGoodbye,
  kHandoff,
  kNotConfigured,
  kWait,
  kNoHuman
};

// "pt", "pt-br", "pt_BR" get Portuguese; everything else English.
std::string default_phrase(AgentPhrase which, std::string_view language);

}  // namespace atende::agent
