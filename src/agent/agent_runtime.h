// Builds agent loops for personas: one set of provider engines per persona (chat client,
// recogniser, TTS), made once when the personas are loaded and shared by that persona's
// calls, on one shared HTTP client. Observes every turn's stage times as /metrics
// histograms (atende_turn_*_seconds) before handing the turn to the caller's sink.
//
// A persona whose providers are not configured (no LLM base_url, or no free-speech
// recogniser) still answers: the loop says "this assistant is not configured" and hangs
// up; why is logged at load.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/agent_loop.h"
#include "agent/persona.h"
#include "core/metrics.h"
#include "net/http_client.h"
#include "realtime/realtime_client.h"
#include "speech/http_tts.h"
#include "speech/phrase_cache.h"

namespace atende::agent {

// The stage histograms, measured from the end of the caller's speech.
struct TurnMetrics {
  explicit TurnMetrics(MetricsRegistry& registry);
  void observe(const AgentTurn& turn);
  Histogram& stt;          // atende_turn_stt_seconds: speech end -> transcript
  Histogram& first_token;  // atende_turn_llm_first_token_seconds: transcript -> first token
  Histogram& first_audio;  // atende_turn_tts_first_audio_seconds: first token -> first clip
  Histogram& response;     // atende_turn_response_seconds: speech end -> first audio out
  // atende_turn_errors_total{stage}: turns a provider failed (an error, a stall, an empty
  // answer), by the stage whose provider it was. Silence or noise ("nothing recognised")
  // and hang-ups are not provider errors and are not counted.
  Counter& stt_errors;
  Counter& llm_errors;
  Counter& tts_errors;
  // atende_speculative_requests_total{kind,outcome}: requests a speculative answer sent
  // (agent/speculation.h), kind stt/llm/tts, outcome used (the turn ended there) or wasted
  // (the caller went on: the request was cancelled or its result dropped).
  void observe(const SpeculationReport& report);
  Counter* speculative[3][2];  // [stt, llm, tts][used, wasted]
};

class AgentRuntime {
 public:
  // `server`: providers from the server config. `metrics` may be null (no histograms).
  AgentRuntime(AgentProviders server, MetricsRegistry* metrics);
  ~AgentRuntime();
  AgentRuntime(const AgentRuntime&) = delete;
  AgentRuntime& operator=(const AgentRuntime&) = delete;

  // Builds the engines of every persona. Returns one line per persona that is not
  // configured (the calls to it will be refused politely), for the log. Again on a reload:
  // the engines it replaces are kept (calls in progress hold pointers into them) until
  // the runtime is destroyed. Thread-safe against create().
  std::vector<std::string> prepare(const PersonaLibrary& personas);

  // A loop for `persona` (prepared) on `host`; `on_turn` gets every finished turn on the
  // media thread.
  std::unique_ptr<flow::Flow> create(const Persona& persona, flow::FlowHost& host,
                                     std::function<void(const AgentTurn&)> on_turn);

 private:
  struct Engines {
    AgentProviders providers;
    std::unique_ptr<llm::ChatClient> chat;  // null: not configured
    std::unique_ptr<speech::Recognizer> stt;
    std::shared_ptr<speech::HttpTts> http_tts;
    std::unique_ptr<speech::PhraseCache> tts;  // null: espeak through the host
    // engine: realtime: the session every call of this persona opens (null: pipeline).
    std::unique_ptr<realtime::SessionOptions> realtime;
  };
  bool build_realtime(const Persona& persona, Engines& e, std::string& why_not);
  Engines build(const Persona& persona, std::string& why_not);

  AgentProviders server_;
  std::unique_ptr<TurnMetrics> metrics_;
  std::shared_ptr<net::HttpClient> http_;
  std::unique_ptr<llm::HttpToolRunner> tools_;         // the personas' HTTP tools
  std::mutex mutex_;                                   // guards engines_ and retired_
  std::map<std::string, Engines> engines_;             // by persona name
  std::vector<Engines> retired_;                       // replaced by a reload; see prepare()
  std::unique_ptr<realtime::RealtimeIo> realtime_io_;  // made for the first realtime persona
};

}  // namespace atende::agent
