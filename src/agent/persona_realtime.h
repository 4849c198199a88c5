// A persona's `engine: realtime` and its `realtime:` map (docs/realtime.md): the persona is
// spoken by the OpenAI Realtime engine (agent/realtime_engine.h) instead of STT -> LLM -> TTS.
//
//   engine: realtime
//   realtime:
//     url: "wss://api.openai.com/v1/realtime?model=gpt-realtime"   # ${VAR} from the environment
//     model: gpt-realtime          # sent in session.update; empty: the URL's ?model= decides
//     voice: alloy                 # the server's voice name
//     vad: server                  # server (the server's turn detection) or local (ours)
//     silence_ms: 500              # server VAD: silence that ends the caller's turn
//     transcription_model: whisper-1   # caller transcripts for the record; "" for none
//     api_key_env: OPENAI_API_KEY  # "Authorization: Bearer $OPENAI_API_KEY"
//     ca_file: /etc/atende/ca.pem  # wss://: the CAs to trust instead of the system's (${VAR})
#pragma once
#include <yaml-cpp/yaml.h>

#include <string>

namespace atende::agent {

struct RealtimePersona {
  bool enabled = false;  // engine: realtime
  std::string url;       // as written (${VAR} expanded when the engines are built)
  std::string model;
  std::string voice = "alloy";
  bool server_vad = true;
  int silence_ms = 500;
  std::string transcription_model = "whisper-1";
  std::string api_key_env = "OPENAI_API_KEY";
  std::string ca_file;  // as written (${VAR} expanded when the engines are built); empty: the
                        // system's CA store
};

// From the persona's root map. Throws std::invalid_argument("realtime.key: problem").
RealtimePersona parse_realtime_persona(const YAML::Node& root);

}  // namespace atende::agent
