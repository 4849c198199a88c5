// Personas: LLM agents defined in YAML (personas/*.yaml, one per file), each reachable by
// its name or an alias as the dialled user ("sip:restaurante@..."). A persona says who the
// agent is (prompt, greeting, voice, language, tools) and may name its providers; what it
// leaves out comes from the server config (AgentProviders).
//
//   name: restaurante
//   aliases: [restaurant, 2001]
//   language: pt-br            # recogniser language and default phrases
//   voice: pt-br               # espeak-ng voice (or mapped by the HTTP TTS)
//   temperature: 0.6
//   greeting: "Restaurante Sabor, boa noite! Em que posso ajudar?"
//   system_prompt: |
//     Você é o atendente ...
//   tools: [end_call, transfer_to_human]
//   http_tools: [...]          # POST JSON to a URL (agent/persona_tools.h)
//   llm: {base_url: ..., model: ..., api_key_env: ...}   # optional overrides
//   stt: {engine: http, base_url: ..., model: ...}
//   tts: {engine: espeak | http, base_url: ..., model: ..., voice: ...}
//
// Loading validates everything and reports "file: key: problem" errors; a file with an
// error is not loaded (the others are).
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/agent_loop.h"
#include "agent/persona_realtime.h"
#include "core/config_recording.h"

namespace atende::agent {

// Provider settings: the server config's, overridden per persona. Empty means "not set".
struct AgentProviders {
  std::string llm_base_url{};
  std::string llm_model{};
  std::string llm_api_key_env{};
  // "http" (free speech), "sphinx", or a streaming engine "openai_realtime_stt" /
  // "ws_stream" (stt_base_url is then its wss:// or ws:// URL)
  std::string stt_engine{};
  std::string stt_base_url{};
  std::string stt_model{};
  std::string tts_engine{};  // "espeak" (embedded, the default) or "http"
  std::string tts_base_url{};
  std::string tts_model{};
  std::string tts_voice{};

  // Fields set in `over` replace ours.
  AgentProviders merged(const AgentProviders& over) const;
};

struct Persona {
  std::string name;
  std::vector<std::string> aliases;
  std::string file;
  AgentSettings settings;  // prompt, greeting, voice, language, temperature, tools
  // HTTP tools left out because an environment variable they need is not set ("name: why").
  std::vector<std::string> disabled_tools;
  AgentProviders providers;
  RealtimePersona realtime;  // engine: realtime (agent/persona_realtime.h)
  // Placeholders the prompt and greeting may use ("{customer_name}"), with their values when
  // the call does not give one (POST /api/calls "variables", /api/start_call).
  std::map<std::string, std::string> variables;
  // `recording: {audio, transcript}` (docs/recording.md); unset: the server's `recording:`.
  RecordingSwitches recording;
};

// Parses one persona document. Throws std::invalid_argument("key: problem").
Persona parse_persona(const std::string& yaml_text);

// Reloadable while calls run (SIGHUP, POST /api/reload): replace_with() swaps in another
// library's personas for every later read. What resolve() and personas() handed out before
// stays valid until the library is destroyed (the replaced sets are kept: a few KB per
// reload), so a reader never needs a lock across its use. Thread-safe.
class PersonaLibrary {
 public:
  // Loads every *.yaml / *.yml in `dir` (a missing dir is not an error: no personas).
  // Returns one "file: problem" line per rejected file; duplicate names are errors too.
  std::vector<std::string> load_dir(const std::string& dir);
  // By name or alias (case-insensitive); nullptr if none.
  const Persona* resolve(const std::string& user) const;
  const std::vector<Persona>& personas() const { return current()->personas; }

  void replace_with(const PersonaLibrary& fresh);

 private:
  struct Set {
    std::vector<Persona> personas;
    std::map<std::string, size_t> by_name;  // lower-cased names and aliases
  };
  std::shared_ptr<const Set> current() const;

  mutable std::mutex mutex_;
  std::shared_ptr<const Set> set_ = std::make_shared<const Set>();
  std::vector<std::shared_ptr<const Set>> retired_;  // see the class comment
};

}  // namespace atende::agent
