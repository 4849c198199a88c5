#include "app/server.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "agent/agent_runtime.h"
#include "agent/persona.h"
#include "api/http_server.h"
#include "api/static_files.h"
#include "app/call_event_feed.h"
#include "app/catalog.h"
#include "app/http_routes.h"
#include "asp/asp_dialer.h"
#include "asp/asp_front.h"
#include "audiosocket/audiosocket_front.h"
#include "audiosocket/transport_dialer.h"
#include "core/config_env.h"
#include "recording/recorder.h"
#ifdef ATENDE_GRPC
#include "control/grpc_front.h"
#endif
#include "core/metrics.h"
#include "flow/flow_library.h"
#include "hooks/webhook_sender.h"
#include "media/media_engine.h"
#include "sessions/dial_plan.h"
#include "sessions/session_manager.h"
#include "sip/sdp_crypto.h"
#include "sip/sip_server.h"
#include "sip/tls_files.h"
#include "sipfront/sip_front.h"
#include "speech/espeak_synthesizer.h"
#include "speech/phrase_cache.h"
#include "speech/recognizer.h"
#include "store/call_store.h"

namespace atende::app {
namespace {

std::filesystem::path find_personas_dir(const Config& cfg) {
  if (!cfg.personas_dir.empty()) return cfg.personas_dir;
  if (std::filesystem::is_directory("personas")) return "personas";
  return std::filesystem::path(ATENDE_SOURCE_DIR) / "personas";
}

std::filesystem::path find_flows_dir(const Config& cfg) {
  if (!cfg.flows_dir.empty()) return cfg.flows_dir;
  if (std::filesystem::is_directory("flows")) return "flows";
  return std::filesystem::path(ATENDE_SOURCE_DIR) / "flows";
}

bool is_wildcard(const std::string& host) { return host == "0.0.0.0" || host == "::"; }

// A reload (SIGHUP, POST /api/reload) reads the config file again for its `access:`
// section. A file that does not load keeps the rules in force (and the flows and personas:
// the reload changes nothing), and the log says why. Null without --config.
std::function<std::function<void()>(std::string&)> access_reloader(const Config& cfg,
                                                                   sip::SipServer& sip) {
  if (cfg.config_path.empty()) return nullptr;
  return [&cfg, &sip](std::string& error) -> std::function<void()> {
    try {
      auto fresh = std::make_shared<Config>();
      load_config_file(cfg.config_path, *fresh);
      apply_environment(process_environment(), *fresh);  // ATENDE_ACCESS still wins
      return [&cfg, &sip, fresh] {
        spdlog::info("access: SIGHUP: reloading the access rules from {}", cfg.config_path);
        sip.reload_access(fresh->access);
      };
    } catch (const std::exception& e) {
      spdlog::error("access: SIGHUP: {} does not load, the access rules in force stay: {}",
                    cfg.config_path, e.what());
      error = cfg.config_path + ": " + e.what();
      return nullptr;
    }
  };
}

// Block the stop signals in every thread (threads inherit the mask), so only run()'s
// sigwait sees them: no async-signal-safety traps, and sofia is never called from a handler.
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);  // reload flows, personas and access rules (docs/security.md)
  return set;
}

}  // namespace

std::string choose_media_address(const Config& cfg) {
  if (!cfg.public_address.empty()) return cfg.public_address;
  if (!is_wildcard(cfg.sip_listen.host)) return cfg.sip_listen.host;
  std::string found = "127.0.0.1";
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) == 0) {
    for (ifaddrs* i = list; i; i = i->ifa_next) {
      if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
      char buf[INET_ADDRSTRLEN];
      auto* sin = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
      if (!inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf)) continue;
      if (std::string(buf).rfind("127.", 0) == 0) continue;
      found = buf;
      break;
    }
    freeifaddrs(list);
  }
  return found;
}

Server::Server(Config config) : config_(std::move(config)) {}

int Server::run() {
  sigset_t signals = stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const auto& cfg = config_;
  std::filesystem::create_directories(cfg.data_dir);
  const auto db_path = (std::filesystem::path(cfg.data_dir) / "atende.db").string();

  // SIP over TLS: sofia reads its certificate directory, assembled here from the configured
  // files, first thing: a missing or unreadable one stops the start with a ConfigError.
  const bool tls = !cfg.sip_tls_certificate.empty();
  const auto tls_dir = std::filesystem::path(cfg.data_dir) / "tls";
  if (tls) {
    const auto check = sip::prepare_tls_dir(
        {.certificate = cfg.sip_tls_certificate, .key = cfg.sip_tls_key, .ca = cfg.sip_tls_ca},
        tls_dir);
    spdlog::info("sip: TLS certificate {} ({}), CAs from {}", cfg.sip_tls_certificate,
                 check.subject, check.ca_source);
    if (check.expired) spdlog::warn("sip: TLS certificate {} has expired", cfg.sip_tls_certificate);
  }

  MetricsRegistry registry;
  CoreMetrics metrics = register_core_metrics(registry);

  // The server's own store: one server per data dir (a lock), calls a crash left open are
  // closed now as server_restart, and a heartbeat says until when this process was alive.
  store::CallStore store({.path = db_path,
                          .max_open_calls = static_cast<size_t>(std::max(cfg.max_calls, 0)),
                          .dropped_writes = &metrics.store_dropped_writes,
                          .metrics = &registry,
                          .own_database = true});
  {
    const auto q = store.queue_state();
    spdlog::info(
        "store: {} (new calls refused above {} queued writes or {} ms behind; "
        "capacity {})",
        db_path, store::CallStoreOptions{}.high_watermark,
        store::CallStoreOptions{}.max_commit_lag.count(), q.capacity);
    const auto& r = store.recovered();
    if (r.calls > 0) {
      spdlog::warn(
          "store: {} calls (legs) were left open by the previous process; closed as "
          "server_restart at {}",
          r.calls,
          r.last_seen ? store::format_iso8601(*r.last_seen) + " (its last heartbeat)"
                      : std::string("their last recorded moment"));
    }
  }

  // Flows, and their fixed phrases synthesised before the first call.
  flow::FlowLibrary flows;
  const auto flows_dir = find_flows_dir(cfg);
  auto errors = flows.load_dir(flows_dir);
  for (const auto& e : errors) spdlog::error("flows: {}", e.message);
  if (!errors.empty())
    throw ConfigError("flows_dir: " + flows_dir.string() + " has invalid flows (see above)");
  if (flows.size() == 0) throw ConfigError("flows_dir: no *.yaml flows in " + flows_dir.string());
  auto synth = std::make_shared<speech::EspeakSynthesizer>();
  speech::PhraseCache phrases(synth);
  size_t prepared = 0;
  for (int rate : {8000, 16000}) {
    for (const auto& p : flows.phrases(rate)) prepared += phrases.prepare(p) != nullptr;
  }
  spdlog::info("flows: {} loaded from {} ({} phrases pre-synthesised)", flows.size(),
               flows_dir.string(), prepared);

  const int media_threads =
      cfg.media_threads > 0 ? cfg.media_threads
                            : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  // The embedded recogniser for flows that listen (ask/confirm steps): pocketsphinx in
  // grammar mode. Without it those steps still take keypad answers.
  std::unique_ptr<speech::Recognizer> recognizer;
  try {
    recognizer = speech::RecognizerRegistry::with_builtins().create("sphinx");
  } catch (const std::exception& e) {
    spdlog::warn("stt: embedded recogniser unavailable ({}); spoken answers will not match",
                 e.what());
  }

  media::MediaEngine media(media_threads, cfg.rtp_port_min, cfg.rtp_port_max, metrics);
  media.start();

  // LLM personas: asked before the flows for each dialled user (docs/agent.md). Declared
  // before the call manager so that calls (their agent loops) end before the engines.
  agent::PersonaLibrary personas;
  const auto personas_dir = find_personas_dir(cfg);
  auto persona_errors = personas.load_dir(personas_dir.string());
  for (const auto& e : persona_errors) spdlog::error("personas: {}", e);
  if (!persona_errors.empty()) {
    throw ConfigError("personas_dir: " + personas_dir.string() +
                      " has invalid personas (see above)");
  }
  agent::AgentRuntime agents({.llm_base_url = cfg.llm_base_url,
                              .llm_model = cfg.llm_model,
                              .llm_api_key_env = cfg.llm_api_key_env,
                              .stt_engine = cfg.stt_engine,
                              .stt_base_url = cfg.stt_base_url,
                              .stt_model = cfg.stt_model,
                              .tts_engine = cfg.tts_engine,
                              .tts_base_url = cfg.tts_base_url,
                              .tts_model = cfg.tts_model,
                              .tts_voice = cfg.tts_voice},
                             &registry);
  for (const auto& w : agents.prepare(personas)) spdlog::warn("personas: {}", w);
  spdlog::info("personas: {} loaded from {}", personas.personas().size(), personas_dir.string());

  sessions::DialPlan dial_plan(cfg.dialplan, cfg.trunks);
  // Call recording (docs/recording.md): its writer thread, what a crash left unfinished
  // repaired, and the retention sweep; flows and personas choose what they record.
  recording::Recorder recorder(
      {.dir = (std::filesystem::path(cfg.data_dir) / "recordings").string(),
       .stereo = cfg.recording.stereo,
       .retention_days = cfg.recording.retention_days},
      &registry,
      [&store](const recording::FinishedRecording& r) {
        store.set_recording(
            r.call_id, {.path = r.path, .bytes = static_cast<int64_t>(r.bytes), .format = "wav"},
            r.started);
      },
      [&store](recording::WallTime before) {
        store.recordings_deleted(before, std::chrono::system_clock::now());
      });
  recorder.start();

  sessions::SessionManager calls({.max_calls = cfg.max_calls}, store, flows, phrases,
                                 recognizer.get(), metrics, dial_plan);
  calls.set_agents(&personas, &agents);
  calls.set_recording(cfg.recording, &recorder);
  const std::string media_address = choose_media_address(cfg);
  sipfront::SipFront front(
      {.media_address = media_address,
       .bind_address = cfg.sip_listen.host,
       .local_host = media_address,
       .ring_ms = cfg.ring_ms,
       .rtp_timeout = std::chrono::seconds(cfg.rtp_timeout_seconds),
       .latch = *media::parse_latch_mode(cfg.rtp_latch),
       .srtp = sip::parse_srtp_policy(cfg.srtp).value_or(sip::SrtpPolicy::kOptional),
       .tls_srtp = sip::parse_srtp_policy(cfg.sip_tls_srtp).value_or(sip::SrtpPolicy::kRequired)},
      media, calls, dial_plan, registry);
  sip::SipServer sip(
      {.host = cfg.sip_listen.host,
       .port = cfg.sip_listen.port,
       .max_call_seconds = cfg.max_call_seconds,
       .session_expires = cfg.session_expires,
       .min_se = cfg.session_min_se,
       .tls_host = cfg.sip_tls_listen.host,
       .tls_port = tls ? (cfg.sip_tls_listen.port ? cfg.sip_tls_listen.port : 5061) : 0,
       .contact_host = media_address,
       .tls_dir = tls_dir.string(),
       .tls_verify_server = cfg.sip_tls_verify_server,
       .access = cfg.access,
       .metrics = &registry},
      front);
  front.attach(sip);
  // Asterisk AudioSocket (docs/audiosocket.md): listeners, and the client role behind the
  // same Dialer as SIP ("audiosocket:HOST:PORT" targets).
  audiosocket::AudioSocketFront audiosocket_front(
      {.listeners = cfg.audiosocket_listen, .leg_rate = cfg.audiosocket_rate}, media, calls,
      registry);
  audiosocket::TransportDialer transports(front, audiosocket_front, dial_plan);
  // ASP over WebSocket (docs/asp.md): sessions on /asp, and "ws://" targets dialled.
  asp::AspFront asp_front({.client_rate = cfg.asp_rate,
                           .silence_threshold_ms = cfg.asp_silence_threshold_ms,
                           .client_token = cfg.asp_client_token,
                           .client_ca_file = cfg.asp_client_ca_file,
                           .max_sessions = static_cast<size_t>(cfg.asp_max_sessions),
                           .io_threads = asp::io_threads_for(cfg.asp_io_threads)},
                          media, calls, registry);
  asp::AspRoutingDialer dialer(transports, asp_front);
  calls.set_dialer(&dialer);

  // Call events to the configured webhooks (none: nothing runs).
  hooks::WebhookSender webhooks(hooks::webhook_options(cfg));
  const auto webhook_subscription =
      calls.subscribe([&webhooks](const sessions::SessionEvent& e) { webhooks.on_event(e); });
  if (webhooks.enabled()) spdlog::info("webhooks: {} endpoints", cfg.webhooks.size());

  // Ready once every listener is up and until the drain starts: HTTP starts first, so
  // /readyz must not say yes before SIP and AudioSocket listen.
  std::atomic<bool> serving{false};

  // The gRPC control service (docs/grpc.md): off unless grpc_listen is set.
#ifdef ATENDE_GRPC
  std::unique_ptr<control::GrpcFront> grpc_front;
  if (!cfg.grpc_listen.host.empty()) {
    grpc_front = std::make_unique<control::GrpcFront>(
        control::GrpcFrontOptions{.listen = cfg.grpc_listen,
                                  .park_timeout = std::chrono::seconds(cfg.grpc_park_seconds),
                                  .ring_timeout = std::chrono::seconds(cfg.grpc_ring_seconds)},
        calls, api::ApiAuth::from_config(cfg), registry);
  }
#else
  if (!cfg.grpc_listen.host.empty()) throw ConfigError("grpc_listen: built without gRPC");
#endif

  // GET /api/events: its own thread, so streams never hold the HTTP thread. Stopped after
  // HTTP and before the feed goes (a drain task the hub still holds points at the feed).
  api::SseHub events_hub({.metrics = &registry});
  CallEventFeed event_feed(calls, events_hub);
  events_hub.start();

  // Flows, personas and access rules read again on SIGHUP and POST /api/reload.
  Catalog catalog({.flows = &flows,
                   .personas = &personas,
                   .agents = &agents,
                   .phrases = &phrases,
                   .flows_dir = flows_dir,
                   .personas_dir = personas_dir,
                   .prepare_access = access_reloader(cfg, sip)});

  const auto web_root = api::find_web_root(cfg.web_root);
  spdlog::info("http: the web console from {}", web_root.string());

  api::HttpServer http;
  const api::ApiAuth asp_auth = api::ApiAuth::from_config(cfg);
  install_http_routes(
      http,
      {.store = &store,
       .metrics = &registry,
       .ready = [&calls, &serving] { return serving.load() && !calls.draining(); },
       .control = &calls,
       .trunks = [&front] { return front.trunk_status(); },
       .auth = api::ApiAuth::from_config(cfg),
       .audiosocket = {.directory = &audiosocket_front.directory(),
                       .known =
                           [&flows, &personas](const std::string& name, bool persona,
                                               std::string* resolved) {
                             if (persona) {
                               const agent::Persona* p = personas.resolve(name);
                               if (p) *resolved = p->name;
                               return p != nullptr;
                             }
                             if (!flows.find(name)) return false;
                             *resolved = name;
                             return true;
                           }},
       .asp = {.front = &asp_front, .auth = &asp_auth, .require_token = cfg.asp_require_token},
       .events = &events_hub,
       .events_snapshot = [&event_feed] { return event_feed.snapshot(); },
       .catalog = &catalog,
       .web_root = web_root.string(),
       .recordings_dir = recorder.options().dir});
  asp_front.start();
  http.start(cfg.http_listen.host, static_cast<uint16_t>(cfg.http_listen.port));
  sip.start();
  audiosocket_front.start();
#ifdef ATENDE_GRPC
  if (grpc_front) grpc_front->start();
#endif
  front.register_trunks();
  serving = true;
  spdlog::info(
      "atende: ready (media address {}, rtp {}-{}, {} media threads, max {} calls, {} trunks, "
      "srtp {}{})",
      media_address, cfg.rtp_port_min, cfg.rtp_port_max, media_threads, cfg.max_calls,
      cfg.trunks.size(), cfg.srtp, tls ? ", tls srtp " + cfg.sip_tls_srtp : std::string());

  int sig = 0;
  while (sigwait(&signals, &sig) == 0 && sig == SIGHUP) {
    spdlog::info("atende: SIGHUP: reloading flows, personas and access rules");
    catalog.reload();
  }
  spdlog::info("atende: {} received: draining ({} calls, up to {} s)",
               sig == SIGTERM ? "SIGTERM" : "SIGINT", calls.active_legs(), cfg.drain_seconds);
  calls.set_draining();
  // Let current calls finish on their own; a second signal cuts the wait short.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(cfg.drain_seconds);
  timespec poll{0, 100'000'000};
  while (calls.active_legs() > 0 && std::chrono::steady_clock::now() < deadline) {
    const int again = sigtimedwait(&signals, nullptr, &poll);
    if (again == SIGHUP) continue;
    if (again > 0) break;
  }
  if (calls.active_legs() > 0) {
    spdlog::info("atende: hanging up {} calls", calls.active_legs());
  }
  sip.stop();                // BYE to whatever is left, then the stack shuts down
  audiosocket_front.stop();  // 0x00 to every AudioSocket peer (on the workers)
  asp_front.stop();          // session.ended and close 1001 to every ASP peer
#ifdef ATENDE_GRPC
  if (grpc_front) grpc_front->stop();  // controllers' streams end with a hang-up event
#endif
  // Whatever sofia did not report: its RTP legs close (their flows record their last
  // events), then every leg still up is recorded ended. Nothing leaves unrecorded.
  front.end_all("shutdown");
  calls.end_all("shutdown");
  media.stop();
  recorder.stop();  // every recording in progress finished (the legs tick no more)
  calls.unsubscribe(webhook_subscription);
  webhooks.stop();  // what is queued gets a few seconds, never more
  http.stop();
  events_hub.stop();
  store.close();
  spdlog::info("atende: stopped cleanly");
  return 0;
}

}  // namespace atende::app
