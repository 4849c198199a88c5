#include "core/config.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <filesystem>
#include <set>

#include "core/config_api_tokens.h"
#include "core/config_sections.h"

namespace atende {
namespace {

int parse_int(const std::string& key, const std::string& value, int lo, int hi) {
  int out = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc() || end != value.data() + value.size()) {
    throw ConfigError(key + ": '" + value + "' is not a whole number");
  }
  if (out < lo || out > hi) {
    throw ConfigError(key + ": " + value + " is out of range " + std::to_string(lo) + ".." +
                      std::to_string(hi));
  }
  return out;
}

std::string where(const YAML::Node& node) {
  const auto& m = node.Mark();
  if (m.line < 0) return "";
  return " (line " + std::to_string(m.line + 1) + ")";
}

}  // namespace

std::string HostPort::str() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

HostPort parse_host_port(const std::string& key, const std::string& value) {
  HostPort hp;
  std::string port;
  if (!value.empty() && value.front() == '[') {
    auto close = value.find(']');
    if (close == std::string::npos || close + 1 >= value.size() || value[close + 1] != ':') {
      throw ConfigError(key + ": '" + value + "' is not [IPv6]:PORT");
    }
    hp.host = value.substr(1, close - 1);
    port = value.substr(close + 2);
  } else {
    auto colon = value.rfind(':');
    if (colon == std::string::npos) throw ConfigError(key + ": '" + value + "' is not HOST:PORT");
    hp.host = value.substr(0, colon);
    port = value.substr(colon + 1);
  }
  if (hp.host.empty()) throw ConfigError(key + ": '" + value + "' has no host");
  hp.port = parse_int(key, port, 1, 65535);
  return hp;
}

void parse_port_range(const std::string& key, const std::string& value, Config& cfg) {
  auto dash = value.find('-');
  if (dash == std::string::npos) throw ConfigError(key + ": '" + value + "' is not LO-HI");
  int lo = parse_int(key, value.substr(0, dash), 1024, 65534);
  int hi = parse_int(key, value.substr(dash + 1), 1025, 65535);
  if (hi <= lo) throw ConfigError(key + ": '" + value + "': HI must be above LO");
  cfg.rtp_port_min = lo;
  cfg.rtp_port_max = hi;
}

LogFormat parse_log_format(const std::string& key, const std::string& value) {
  if (value == "text") return LogFormat::text;
  if (value == "json") return LogFormat::json;
  throw ConfigError(key + ": '" + value + "' must be text or json");
}

bool parse_bool(const std::string& key, const std::string& value) {
  if (value == "true" || value == "yes" || value == "on") return true;
  if (value == "false" || value == "no" || value == "off") return false;
  throw ConfigError(key + ": '" + value + "' must be true or false");
}

std::string parse_rtp_latch(const std::string& key, const std::string& value) {
  if (value == "strict" || value == "nat") return value;
  throw ConfigError(key + ": '" + value + "' must be strict or nat");
}

void load_config_file(const std::string& path, Config& cfg) {
  if (!std::filesystem::is_regular_file(path)) {
    throw ConfigError("--config: " + path + " is not a readable file");
  }
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw ConfigError(path + ": " + e.what());
  }
  cfg.config_path = path;
  if (root.IsNull()) return;
  if (!root.IsMap()) throw ConfigError(path + ": the top level must be a map of key: value");
  for (const auto& item : root) {
    const std::string key = item.first.as<std::string>();
    const YAML::Node& node = item.second;
    const std::string ctx = path + ": " + key + where(node);
    if (!apply_config_key(ctx, path + ": " + key, key, node, cfg)) {
      throw ConfigError(ctx + ": unknown key");
    }
  }
}

bool is_config_section(const std::string& key) {
  return key == "trunks" || key == "dialplan" || key == "webhooks" || key == "access" ||
         key == "audiosocket_listen" || key == "api_tokens" || key == "recording";
}

bool apply_config_key(const std::string& ctx, const std::string& list_ctx, const std::string& key,
                      const YAML::Node& node, Config& cfg) {
  {
    // Structured sections first, each parsed in its own file.
    if (key == "trunks") {
      cfg.trunks = parse_trunks(ctx, node);
      return true;
    }
    if (key == "dialplan") {
      cfg.dialplan = parse_dialplan(ctx, node);
      return true;
    }
    if (key == "webhooks") {
      cfg.webhooks = parse_webhooks(list_ctx, node);
      return true;
    }
    if (key == "access") {
      cfg.access = parse_access(ctx, node);
      return true;
    }
    if (key == "audiosocket_listen") {
      cfg.audiosocket_listen = parse_audiosocket_listen(ctx, node);
      return true;
    }
    if (key == "api_tokens") {
      parse_api_tokens(list_ctx, node, cfg);
      return true;
    }
    if (key == "recording") {
      cfg.recording = parse_recording_config(ctx, node);
      return true;
    }
    if (!node.IsScalar()) throw ConfigError(ctx + ": expected a single value");
    const std::string v = node.Scalar();
    if (key == "sip_listen")
      cfg.sip_listen = parse_host_port(ctx, v);
    else if (key == "http_listen")
      cfg.http_listen = parse_host_port(ctx, v);
    else if (key == "grpc_listen")
      cfg.grpc_listen = v == "off" ? HostPort{"", 0} : parse_host_port(ctx, v);
    else if (key == "grpc_park_seconds")
      cfg.grpc_park_seconds = parse_int(ctx, v, 1, 3600);
    else if (key == "grpc_ring_seconds")
      cfg.grpc_ring_seconds = parse_int(ctx, v, 1, 300);
    else if (key == "rtp_ports")
      parse_port_range(ctx, v, cfg);
    else if (key == "data_dir")
      cfg.data_dir = v;
    else if (key == "flows_dir")
      cfg.flows_dir = v;
    else if (key == "web_root")
      cfg.web_root = v;
    else if (key == "public_address")
      cfg.public_address = v;
    else if (key == "log_format")
      cfg.log_format = parse_log_format(ctx, v);
    else if (key == "log_level")
      cfg.log_level = v;
    else if (key == "max_calls")
      cfg.max_calls = parse_int(ctx, v, 1, 100000);
    else if (key == "media_threads")
      cfg.media_threads = parse_int(ctx, v, 0, 64);
    else if (key == "ring_ms")
      cfg.ring_ms = parse_int(ctx, v, 0, 60000);
    else if (key == "drain_seconds")
      cfg.drain_seconds = parse_int(ctx, v, 0, 3600);
    else if (key == "max_call_seconds")
      cfg.max_call_seconds = parse_int(ctx, v, 0, 7 * 86400);
    else if (key == "rtp_timeout_seconds")
      cfg.rtp_timeout_seconds = parse_int(ctx, v, 0, 86400);
    else if (key == "rtp_latch")
      cfg.rtp_latch = parse_rtp_latch(ctx, v);
    else if (key == "session_expires")
      cfg.session_expires = parse_int(ctx, v, 0, 86400);
    else if (key == "session_min_se")
      cfg.session_min_se = parse_int(ctx, v, 1, 86400);
    else if (key == "personas_dir")
      cfg.personas_dir = v;
    else if (key == "llm_base_url")
      cfg.llm_base_url = v;
    else if (key == "llm_model")
      cfg.llm_model = v;
    else if (key == "llm_api_key_env")
      cfg.llm_api_key_env = v;
    else if (key == "stt_engine")
      cfg.stt_engine = v;
    else if (key == "stt_base_url")
      cfg.stt_base_url = v;
    else if (key == "stt_model")
      cfg.stt_model = v;
    else if (key == "tts_engine")
      cfg.tts_engine = v;
    else if (key == "tts_base_url")
      cfg.tts_base_url = v;
    else if (key == "tts_model")
      cfg.tts_model = v;
    else if (key == "tts_voice")
      cfg.tts_voice = v;
    else if (key == "audiosocket_rate")
      cfg.audiosocket_rate = parse_int(ctx, v, 8000, 16000);
    else if (key == "asp_require_token")
      cfg.asp_require_token = parse_bool(ctx, v);
    else if (key == "asp_client_token")
      cfg.asp_client_token = v;
    else if (key == "asp_client_ca_file")
      cfg.asp_client_ca_file = v;
    else if (key == "asp_max_sessions")
      cfg.asp_max_sessions = parse_int(ctx, v, 1, 20000);
    else if (key == "asp_rate")
      cfg.asp_rate = parse_int(ctx, v, 8000, 16000);
    else if (key == "asp_silence_threshold_ms")
      cfg.asp_silence_threshold_ms = parse_int(ctx, v, 100, 10000);
    else if (key == "asp_io_threads")
      cfg.asp_io_threads = parse_int(ctx, v, 0, 64);
    else if (key == "api_read_requires_token")
      cfg.api_read_requires_token = parse_bool(ctx, v);
    else if (key == "srtp")
      cfg.srtp = v;
    else if (key == "sip_tls_listen")
      cfg.sip_tls_listen = parse_host_port(ctx, v);
    else if (key == "sip_tls_certificate")
      cfg.sip_tls_certificate = v;
    else if (key == "sip_tls_key")
      cfg.sip_tls_key = v;
    else if (key == "sip_tls_ca")
      cfg.sip_tls_ca = v;
    else if (key == "sip_tls_srtp")
      cfg.sip_tls_srtp = v;
    else if (key == "sip_tls_verify_server")
      cfg.sip_tls_verify_server = parse_bool(ctx, v);
    else
      return false;
  }
  return true;
}

void validate_config(const Config& cfg) {
  static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error", "off"};
  if (!levels.count(cfg.log_level)) {
    throw ConfigError("log_level: '" + cfg.log_level +
                      "' must be one of trace debug info warn error off");
  }
  // Two ports per call (RTP + RTCP), so a range must hold at least one pair.
  if (cfg.rtp_port_max - cfg.rtp_port_min < 1) throw ConfigError("rtp_ports: range too small");
  if (cfg.data_dir.empty()) throw ConfigError("data_dir: must not be empty");
  if (cfg.max_calls < 1 || cfg.max_calls > 100000)
    throw ConfigError("max_calls: must be 1..100000");
  if (cfg.media_threads < 0 || cfg.media_threads > 64) {
    throw ConfigError("media_threads: must be 0 (one per core) .. 64");
  }
  if (cfg.drain_seconds < 0 || cfg.drain_seconds > 3600)
    throw ConfigError("drain_seconds: must be 0..3600");
  if (!cfg.stt_engine.empty() && cfg.stt_engine != "http" && cfg.stt_engine != "sphinx" &&
      cfg.stt_engine != "openai_realtime_stt" && cfg.stt_engine != "ws_stream") {
    throw ConfigError("stt_engine: '" + cfg.stt_engine +
                      "' must be http, sphinx, openai_realtime_stt or ws_stream");
  }
  if (!cfg.tts_engine.empty() && cfg.tts_engine != "espeak" && cfg.tts_engine != "http") {
    throw ConfigError("tts_engine: '" + cfg.tts_engine + "' must be espeak or http");
  }
  if (cfg.max_call_seconds < 0 || cfg.max_call_seconds > 7 * 86400) {
    throw ConfigError("max_call_seconds: must be 0 (never) .. 604800");
  }
  if (cfg.rtp_timeout_seconds < 0 || cfg.rtp_timeout_seconds > 86400) {
    throw ConfigError("rtp_timeout_seconds: must be 0 (never) .. 86400");
  }
  if (cfg.session_min_se < 1 || cfg.session_min_se > 86400) {
    throw ConfigError("session_min_se: must be 1..86400");
  }
  if (cfg.session_expires < 0 || cfg.session_expires > 86400) {
    throw ConfigError("session_expires: must be 0 (only when the peer asks) .. 86400");
  }
  if (cfg.session_expires != 0 && cfg.session_expires < cfg.session_min_se) {
    throw ConfigError("session_expires: must be 0 or at least session_min_se");
  }
  if (cfg.audiosocket_rate != 8000 && cfg.audiosocket_rate != 16000) {
    throw ConfigError("audiosocket_rate: must be 8000 or 16000");
  }
  if (cfg.asp_rate != 8000 && cfg.asp_rate != 16000) {
    throw ConfigError("asp_rate: must be 8000 or 16000");
  }
  validate_dialplan(cfg.dialplan, cfg.trunks);
  validate_tls(cfg);
}

bool valid_srtp_policy(const std::string& value) {
  return value == "off" || value == "optional" || value == "required";
}

void validate_tls(const Config& cfg) {
  if (!valid_srtp_policy(cfg.srtp)) {
    throw ConfigError("srtp: '" + cfg.srtp + "' must be off, optional or required");
  }
  if (!valid_srtp_policy(cfg.sip_tls_srtp)) {
    throw ConfigError("sip_tls_srtp: '" + cfg.sip_tls_srtp + "' must be off, optional or required");
  }
  const bool tls = !cfg.sip_tls_certificate.empty();
  if (tls && cfg.sip_tls_key.empty()) {
    throw ConfigError("sip_tls_key: the TLS listener needs the certificate's private key");
  }
  if (!tls && !cfg.sip_tls_key.empty()) {
    throw ConfigError("sip_tls_certificate: a key is given but no certificate");
  }
  if (!tls && cfg.sip_tls_listen.port != 0) {
    throw ConfigError("sip_tls_listen: TLS needs sip_tls_certificate and sip_tls_key");
  }
  if (tls && cfg.sip_tls_listen.port != 0 && cfg.sip_tls_listen.port == cfg.sip_listen.port &&
      (cfg.sip_tls_listen.host.empty() || cfg.sip_tls_listen.host == cfg.sip_listen.host)) {
    throw ConfigError("sip_tls_listen: must not be the same port as sip_listen (TCP)");
  }
  for (const auto& t : cfg.trunks) {
    if (t.transport == "tls" && !tls) {
      // Calls over TLS go out through sofia's TLS transport, which exists with the listener.
      throw ConfigError("trunks: '" + t.name +
                        "' uses transport tls: set sip_tls_certificate and sip_tls_key");
    }
  }
}

}  // namespace atende
