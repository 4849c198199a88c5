#include "agent/agent_phrases.h"

namespace atende::agent {

std::string default_phrase(AgentPhrase which, std::string_view language) {
  const bool pt = language.size() >= 2 && (language[0] == 'p' || language[0] == 'P') &&
                  (language[1] == 't' || language[1] == 'T');
  switch (which) {
    case AgentPhrase::kFallback:
      return pt ? "Desculpe, não entendi. Pode repetir?"
                : "Sorry, I did not catch that, could you repeat?";
    case AgentPhrase::kReprompt:
      return pt ? "Você ainda está aí?" : "Are you still there?";
    case AgentPhrase::kGoodbye:
      return pt ? "Obrigado pela ligação. Até logo." : "Thank you for calling. Goodbye.";
    case AgentPhrase::kHandoff:
      return pt ? "Vou transferir você para um atendente. Um momento."
                : "I will transfer you to a person. One moment please.";
    case AgentPhrase::kWait:
      return pt ? "Só um momento, por favor." : "One moment, please.";
    case AgentPhrase::kNoHuman:
      return pt ? "Desculpe, ninguém pode atender agora. Vamos continuar."
                : "Sorry, nobody is available right now. Let's carry on.";
    case AgentPhrase::kNotConfigured:
      return pt ? "Este assistente não está configurado. Até logo."
                : "This assistant is not configured. Goodbye.";
  }
  return {};
}

}  // namespace atende::agent
