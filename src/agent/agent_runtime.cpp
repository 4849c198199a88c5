#include "agent/agent_runtime.h"

#include <spdlog/spdlog.h>

#include <optional>

#include "agent/persona_tools.h"
#include "agent/realtime_engine.h"
#include "speech/http_stt.h"
#include "speech/streaming_recognizer.h"

namespace atende::agent {

namespace {
double seconds_between(double from_ms, double to_ms) { return (to_ms - from_ms) / 1000.0; }
constexpr const char* kTurnErrorsHelp = "Agent turns a provider failed, by stage";
}  // namespace

TurnMetrics::TurnMetrics(MetricsRegistry& r)
    : stt(r.histogram("atende_turn_stt_seconds",
                      "Agent turn: end of caller speech to final transcript",
                      default_seconds_buckets())),
      first_token(r.histogram("atende_turn_llm_first_token_seconds",
                              "Agent turn: transcript to the LLM's first token",
                              default_seconds_buckets())),
      first_audio(r.histogram("atende_turn_tts_first_audio_seconds",
                              "Agent turn: first token to the first synthesised clip",
                              default_seconds_buckets())),
      response(r.histogram("atende_turn_response_seconds",
                           "Agent turn: end of caller speech to the first answer audio out",
                           default_seconds_buckets())),
      stt_errors(r.counter("atende_turn_errors_total", kTurnErrorsHelp, {{"stage", "stt"}})),
      llm_errors(r.counter("atende_turn_errors_total", kTurnErrorsHelp, {{"stage", "llm"}})),
      tts_errors(r.counter("atende_turn_errors_total", kTurnErrorsHelp, {{"stage", "tts"}})) {
  const char* kinds[] = {"stt", "llm", "tts"};
  const char* outcomes[] = {"used", "wasted"};
  for (int k = 0; k < 3; ++k) {
    for (int o = 0; o < 2; ++o) {
      speculative[k][o] = &r.counter(
          "atende_speculative_requests_total",
          "Requests sent for an answer started at a short pause, by kind and outcome "
          "(wasted: the caller went on and the request was cancelled or its result dropped)",
          {{"kind", kinds[k]}, {"outcome", outcomes[o]}});
    }
  }
}

void TurnMetrics::observe(const SpeculationReport& report) {
  const int o = report.used ? 0 : 1;
  if (report.recognition) speculative[0][o]->inc();
  if (report.chat) speculative[1][o]->inc();
  if (report.speech > 0) speculative[2][o]->inc(report.speech);
}

void TurnMetrics::observe(const AgentTurn& t) {
  // The agent loop prefixes a failed turn's error with the stage ("llm: timeout").
  const std::string_view error = t.error;
  if (error.starts_with("llm: ")) llm_errors.inc();
  if (error.starts_with("tts: ")) tts_errors.inc();
  if (error.starts_with("stt: ") && error != "stt: nothing recognised") stt_errors.inc();
  // Only stages that happened, in order (a failed turn has gaps).
  if (t.speech_end_ms >= 0 && t.stt_final_ms >= 0) {
    stt.observe(seconds_between(t.speech_end_ms, t.stt_final_ms));
  }
  if (t.stt_final_ms >= 0 && t.first_token_ms >= 0) {
    first_token.observe(seconds_between(t.stt_final_ms, t.first_token_ms));
  }
  if (t.first_token_ms >= 0 && t.first_audio_ms >= 0) {
    first_audio.observe(seconds_between(t.first_token_ms, t.first_audio_ms));
  }
  if (t.speech_end_ms >= 0 && t.first_play_ms >= 0) {
    response.observe(seconds_between(t.speech_end_ms, t.first_play_ms));
  }
}

AgentRuntime::AgentRuntime(AgentProviders server, MetricsRegistry* metrics)
    : server_(std::move(server)),
      metrics_(metrics ? std::make_unique<TurnMetrics>(*metrics) : nullptr),
      http_(std::make_shared<net::HttpClient>()),
      tools_(std::make_unique<llm::HttpToolRunner>(*http_)) {}

// Engines (and their workers) go before the HTTP client they use.
AgentRuntime::~AgentRuntime() {
  engines_.clear();
  retired_.clear();
  realtime_io_.reset();
}

bool AgentRuntime::build_realtime(const Persona& persona, Engines& e, std::string& why_not) {
  const auto& r = persona.realtime;
  std::string missing;
  const auto url = expand_env(
      r.url, [](const char* n) { return std::getenv(n); }, &missing);
  if (!url) {
    why_not = "realtime.url: " + missing + " is not set";
    return false;
  }
  auto o = std::make_unique<realtime::SessionOptions>();
  if (auto bad = realtime::parse_endpoint(*url, o->endpoint); !bad.empty()) {
    why_not = "realtime.url: " + bad;
    return false;
  }
  if (const char* key = std::getenv(r.api_key_env.c_str())) o->api_key = key;
  const auto ca_file = expand_env(
      r.ca_file, [](const char* n) { return std::getenv(n); }, &missing);
  if (!ca_file) {
    why_not = "realtime.ca_file: " + missing + " is not set";
    return false;
  }
  o->ca_file = *ca_file;
  const auto& s = persona.settings;
  auto& c = o->config;
  c.model = r.model;
  c.instructions = s.system_prompt;
  c.voice = r.voice;
  c.max_output_tokens = s.max_tokens;
  c.tools = s.tools;
  for (const auto& t : s.http_tools) c.tools.push_back(t.spec);
  c.server_vad = r.server_vad;
  c.silence_ms = r.silence_ms;
  c.transcription_model = r.transcription_model;
  c.language = s.language.substr(0, 2);
  {
    std::lock_guard lock(mutex_);  // a reload (HTTP thread) and SIGHUP may both build
    if (!realtime_io_) realtime_io_ = std::make_unique<realtime::RealtimeIo>();
  }
  e.realtime = std::move(o);
  return true;
}

AgentRuntime::Engines AgentRuntime::build(const Persona& persona, std::string& why_not) {
  Engines e;
  e.providers = server_.merged(persona.providers);
  if (persona.realtime.enabled) {
    build_realtime(persona, e, why_not);
    return e;
  }
  const auto& p = e.providers;
  if (p.llm_base_url.empty()) {
    why_not = "no llm_base_url";
  } else {
    llm::ChatClientOptions o;
    o.base_url = p.llm_base_url;
    if (!p.llm_model.empty()) o.model = p.llm_model;
    if (!p.llm_api_key_env.empty()) o.api_key_env = p.llm_api_key_env;
    e.chat = std::make_unique<llm::ChatClient>(*http_, o);
  }
  const std::string stt_engine = p.stt_engine.empty() ? "http" : p.stt_engine;
  if (stt_engine == "http") {
    if (p.stt_base_url.empty()) {
      why_not = why_not.empty() ? "no stt_base_url" : why_not + ", no stt_base_url";
    } else {
      speech::RecognizerParams params{{"base_url", p.stt_base_url}};
      if (!p.stt_model.empty()) params["model"] = p.stt_model;
      if (!p.llm_api_key_env.empty()) params["api_key_env"] = p.llm_api_key_env;
      e.stt =
          std::make_unique<speech::HttpRecognizer>(speech::http_stt_options_from(params), http_);
    }
  } else if (stt_engine == "openai_realtime_stt" || stt_engine == "ws_stream") {
    // Streaming engines (docs/stt.md): one stream per utterance from its first frame, its
    // partials feeding the end of turn and barge-in (agent/caller_words.h); the one-shot
    // adapter is the fallback. stt_base_url is the WebSocket URL.
    if (p.stt_base_url.empty()) {
      why_not = why_not.empty() ? "no stt_base_url" : why_not + ", no stt_base_url";
    } else {
      speech::RecognizerParams params{{"url", p.stt_base_url}};
      if (!p.stt_model.empty()) params["model"] = p.stt_model;
      if (!p.llm_api_key_env.empty()) params["api_key_env"] = p.llm_api_key_env;
      e.stt = speech::RecognizerRegistry::with_builtins().create(stt_engine, params);
    }
  } else {
    // Grammar engine: without expected phrases it understands nothing, so every turn
    // falls back. Offered for completeness; free speech needs "http".
    e.stt = speech::RecognizerRegistry::with_builtins().create(stt_engine);
  }
  if (p.tts_engine == "http") {
    speech::HttpTtsOptions o;
    o.base_url = p.tts_base_url.empty() ? p.llm_base_url : p.tts_base_url;
    if (!p.tts_model.empty()) o.model = p.tts_model;
    if (!p.tts_voice.empty()) o.default_voice = p.tts_voice;
    if (!p.llm_api_key_env.empty()) o.api_key_env = p.llm_api_key_env;
    e.http_tts = std::make_shared<speech::HttpTts>(*http_, o);
    e.tts = std::make_unique<speech::PhraseCache>(e.http_tts);
  }
  if (!why_not.empty()) e.chat.reset();  // half-configured counts as not configured
  return e;
}

std::vector<std::string> AgentRuntime::prepare(const PersonaLibrary& personas) {
  std::vector<std::string> problems;
  for (const auto& persona : personas.personas()) {
    std::string why_not;
    Engines built;
    try {
      built = build(persona, why_not);
    } catch (const std::exception& ex) {
      why_not = ex.what();
      built = Engines{};
    }
    {
      std::lock_guard lock(mutex_);
      if (auto it = engines_.find(persona.name); it != engines_.end()) {
        retired_.push_back(std::move(it->second));  // the objects stay where calls see them
        it->second = std::move(built);
      } else {
        engines_.emplace(persona.name, std::move(built));
      }
    }
    if (!why_not.empty()) problems.push_back(persona.name + ": not configured (" + why_not + ")");
    for (const auto& off : persona.disabled_tools) {
      problems.push_back(persona.name + ": http tool off (" + off + ")");
    }
  }
  return problems;
}

std::unique_ptr<flow::Flow> AgentRuntime::create(const Persona& persona, flow::FlowHost& host,
                                                 std::function<void(const AgentTurn&)> on_turn) {
  AgentEngines engines;
  std::optional<realtime::SessionOptions> realtime_options;
  {
    std::lock_guard lock(mutex_);
    auto it = engines_.find(persona.name);
    if (it == engines_.end()) return nullptr;
    Engines& e = it->second;
    if (e.realtime) realtime_options = *e.realtime;
    engines.chat = e.chat.get();
    engines.stt = e.stt.get();
    // A streaming engine's partials reach the endpointer while the caller speaks.
    if (auto* streaming = dynamic_cast<speech::StreamingAsOneShot*>(e.stt.get())) {
      engines.stream_stt = &streaming->engine();
    }
    engines.tts = e.tts.get();
    engines.stream_tts = e.http_tts.get();  // the answer's sentences stream; phrases are cached
  }
  if (realtime_options) {
    RealtimeEngines r;
    realtime::SessionOptions options = std::move(*realtime_options);
    options.config.instructions = persona.settings.system_prompt;  // with the call's variables
    r.open = [io = realtime_io_.get(), options = std::move(options)](int rate) {
      auto bridge = std::make_shared<realtime::Bridge>(rate);
      io->open(options, bridge);
      return bridge;
    };
    r.tools = tools_.get();
    r.on_turn = [metrics = metrics_.get(), sink = std::move(on_turn)](const AgentTurn& t) {
      if (metrics) metrics->observe(t);
      if (sink) sink(t);
    };
    if (metrics_) {
      r.on_speculation = [metrics = metrics_.get()](const SpeculationReport& sr) {
        metrics->observe(sr);
      };
    }
    return std::make_unique<RealtimeEngine>(host, persona.settings, persona.realtime.server_vad,
                                            std::move(r));
  }
  engines.tools = tools_.get();
  engines.on_turn = [metrics = metrics_.get(), sink = std::move(on_turn)](const AgentTurn& t) {
    if (metrics) metrics->observe(t);
    if (sink) sink(t);
  };
  if (metrics_) {
    engines.on_speculation = [metrics = metrics_.get()](const SpeculationReport& r) {
      metrics->observe(r);
    };
  }
  return std::make_unique<AgentLoop>(host, persona.settings, std::move(engines));
}

}  // namespace atende::agent
