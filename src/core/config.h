// Server configuration: defaults, then the YAML file, then command-line flags.
// Every key in the file has the same name as its flag (without "--", '-' → '_').
#pragma once
#include <yaml-cpp/yaml.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "core/config_access.h"
#include "core/config_recording.h"
#include "core/config_webhooks.h"
#include "core/log.h"

namespace atende {

struct HostPort {
  std::string host;
  int port = 0;
  std::string str() const;
};

// A SIP trunk or PBX account: where numbers are dialled, and optionally an account we
// register so that calls to it reach us (docs/sessions.md).
struct TrunkConfig {
  std::string name;
  std::string host;
  int port = 5060;
  std::string transport = "udp";  // udp, tcp or tls (then port defaults to 5061)
  std::string srtp = "off";       // off, optional or required: SRTP in our offers (SDES)
  std::string user;               // account user (digest auth, REGISTER, our Contact)
  std::string password;           // ${ENV} allowed in the file
  std::string domain;             // for From/To and the account; empty: host
  std::string from_user;          // caller ID we send; empty: user
  std::string from_display;
  std::string outbound_proxy;  // "sip:proxy:5060"; empty: straight to host
  bool register_account = false;
  int register_expires = 600;  // seconds
  std::string inbound;         // flow or persona for calls to our registered account
  bool is_default = false;     // numbers no dialplan entry names go here
  // Whose RTP a call through this trunk takes (docs/media.md): "strict", "nat", or empty
  // for the server's rtp_latch. Applies to calls we place through it and to calls that
  // come from its host.
  std::string rtp_latch;
};

// One dial plan line: numbers/extensions matching `match` go to a flow or persona
// (inbound), or are dialled through `trunk` (outbound).
struct DialPlanEntry {
  std::string match;
  std::string flow;
  std::string persona;
  std::string trunk;
};

// One REST API client (docs/api.md "Authentication"): the secret it sends as a Bearer token,
// the numbers it may dial and its request rate. `name` is what logs and the audit show.
struct ApiTokenConfig {
  std::string name{};
  std::string token{};               // the secret: never logged, never in an error message
  std::vector<std::string> allow{};  // dial patterns; empty: may not place calls
  int rate_per_minute = 60;
  int burst = 10;
};

// One AudioSocket listener (docs/audiosocket.md): where Asterisk connects, and the flow or
// persona that answers a UUID the API did not map (empty: the dial plan for "audiosocket").
struct AudioSocketListenConfig {
  HostPort address;
  std::string flow;
  bool is_default = false;  // the built-in 127.0.0.1:9092: a port in use is only a warning
};

struct Config {
  HostPort sip_listen{"0.0.0.0", 5060};
  HostPort http_listen{"127.0.0.1", 8080};
  // The gRPC control service (docs/grpc.md); empty host: off (the default).
  HostPort grpc_listen{"", 0};
  int grpc_park_seconds = 15;  // an inbound call waits this long for a controller
  // An inbound call to `flow: controller` rings (180) at most this long for a controller to
  // Answer or Reject it; then 480.
  int grpc_ring_seconds = 30;
  int rtp_port_min = 20000;
  int rtp_port_max = 29999;
  std::string data_dir = "./data";
  std::string flows_dir;       // empty: <source>/flows, then ./flows
  std::string public_address;  // address we put in SDP; empty: derived from sip_listen
  LogFormat log_format = LogFormat::text;
  std::string log_level = "info";
  int max_calls = 1000;
  int media_threads = 0;  // 0: one per CPU core (Envoy's model: workers = cores)
  int drain_seconds = 20;
  int max_call_seconds = 14400;  // any answered call is hung up after this (0: never)
  int ring_ms = 0;  // ring (180) this long before answering; 0 answers at once  // SIGTERM: how
                    // long current calls may go on before we hang up

  // Dead peers and media from the right place (docs/media.md, docs/sip.md).
  int rtp_timeout_seconds = 30;      // no RTP from the peer this long ends the call; 0: never
  std::string rtp_latch = "strict";  // "strict" or "nat" (comedia) for the SIP listener
  int session_expires = 0;           // RFC 4028 interval we ask for; 0: only when the peer asks
  int session_min_se = 90;           // shortest session interval we accept (422 below)
  // Encrypted SIP and media (docs/security.md "TLS and SRTP"). SRTP policies are off,
  // optional or required: `srtp` for calls on sip_listen (UDP, TCP), `sip_tls_srtp` for
  // calls over TLS. The TLS listener is on when a certificate is given.
  std::string srtp = "optional";
  HostPort sip_tls_listen{"", 0};   // empty host: sip_listen's host; port 0: 5061
  std::string sip_tls_certificate;  // PEM: our certificate (then the chain)
  std::string sip_tls_key;          // PEM: its private key (unencrypted)
  std::string sip_tls_ca;           // PEM: CAs to trust for trunks; empty: the system's
  std::string sip_tls_srtp = "required";
  bool sip_tls_verify_server = true;  // calls we place over TLS check the server's certificate

  // The web console's built files (docs/api.md "The console"); empty: <source>/web/dist,
  // then <exe dir>/../share/atende/web.
  std::string web_root;

  // LLM agents (docs/agent.md). Personas may override each provider setting.
  std::string personas_dir;     // empty: <source>/personas, then ./personas
  std::string llm_base_url;     // OpenAI-compatible server root; empty: agents not configured
  std::string llm_model;        // empty: gpt-4o-mini
  std::string llm_api_key_env;  // environment variable with the API key (OPENAI_API_KEY)
  std::string stt_engine;       // "http" (default) or "sphinx"
  std::string stt_base_url;
  std::string stt_model;     // empty: whisper-1
  std::string tts_engine;    // "espeak" (default) or "http"
  std::string tts_base_url;  // empty: llm_base_url
  std::string tts_model;
  std::string tts_voice;

  // Placing calls (docs/sessions.md).
  std::vector<TrunkConfig> trunks;
  std::vector<DialPlanEntry> dialplan;
  // Where call events are POSTed (file only: `webhooks:`, see core/config_webhooks.h).
  std::vector<WebhookEndpointConfig> webhooks;
  // REST API clients (file only: secrets do not belong on the command line).
  std::vector<ApiTokenConfig> api_tokens;
  bool api_read_requires_token = true;  // with api_tokens: GET /api/... needs a token too

  // Who may send SIP requests, who must authenticate, per-source limits (file only:
  // `access:`, see core/config_access.h and docs/security.md). Reloaded on SIGHUP.
  AccessConfig access;
  std::string config_path;  // the --config file, read again on SIGHUP; empty: none
  // Asterisk AudioSocket (docs/audiosocket.md): listeners ("off": none) and the rate flows
  // run at on those legs (8000 or 16000; the peer's own rate is converted).
  std::vector<AudioSocketListenConfig> audiosocket_listen{{{"127.0.0.1", 9092}, "", true}};
  int audiosocket_rate = 8000;
  // ASP over WebSocket (docs/asp.md): whether ws://.../asp needs an API token (Bearer), the
  // token our client role sends to remote agents, the CAs it trusts for wss:// agents, the
  // rate it asks for, and its VAD's end of speech.
  bool asp_require_token = true;
  std::string asp_client_token;
  std::string asp_client_ca_file;  // PEM; empty: the system's CA store
  int asp_rate = 8000;
  int asp_max_sessions = 512;  // ASP WebSockets open at once, both roles
  int asp_silence_threshold_ms = 500;
  int asp_io_threads = 0;  // WebSocket I/O threads; 0: one per core, at most 4
  // Call recording (docs/recording.md): what flows and personas record unless they say,
  // WAV channels, and how long recordings are kept. Off by default.
  RecordingConfig recording;
};

// A bad key or value: what() names the key and the problem. main() exits 2 with it.
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Parses "HOST:PORT" ("[::1]:5060" for IPv6). `key` names the setting in errors.
HostPort parse_host_port(const std::string& key, const std::string& value);
// One --audiosocket-listen flag: "HOST:PORT" or "HOST:PORT=FLOW".
AudioSocketListenConfig parse_audiosocket_flag(const std::string& key, const std::string& value);
// Parses "LO-HI" into cfg.rtp_port_min/max.
void parse_port_range(const std::string& key, const std::string& value, Config& cfg);
LogFormat parse_log_format(const std::string& key, const std::string& value);
// "true"/"false" (also yes/no, on/off, as YAML 1.1 writes them).
bool parse_bool(const std::string& key, const std::string& value);
// "strict" or "nat" (rtp_latch).
std::string parse_rtp_latch(const std::string& key, const std::string& value);

// A string value that may be "${NAME}": the environment variable's value (an error naming
// it when unset or empty). `ctx` names the setting in errors.
std::string expand_env(const std::string& ctx, const std::string& value);

// Applies the YAML file at `path` over `cfg`. Unknown keys are errors (typo protection).
void load_config_file(const std::string& path, Config& cfg);
// Applies one top-level key's value (what the file, the environment and the flags share):
// false when `key` is not a setting. `ctx` names the source in errors ("atende.yaml: max_calls
// (line 3)", "ATENDE_MAX_CALLS"); `list_ctx` is the prefix list sections use for their entries.
bool apply_config_key(const std::string& ctx, const std::string& list_ctx, const std::string& key,
                      const YAML::Node& node, Config& cfg);
// The keys whose value is a list or a map (trunks, dialplan, webhooks, access,
// audiosocket_listen, api_tokens) rather than one value.
bool is_config_section(const std::string& key);
// Cross-field checks once everything is applied.
void validate_config(const Config& cfg);
// The TLS and SRTP settings (part of validate_config). Files are checked when the server
// starts (sip/tls_files.h), where a missing or unreadable one is a ConfigError too.
void validate_tls(const Config& cfg);
bool valid_srtp_policy(const std::string& value);

}  // namespace atende
