// atende: the command line. `serve` runs the server; `calls` prints the call records; `call`
// asks a server to place one; `db` migrates and backs up the call database.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "app/call_command.h"
#include "app/db_command.h"
#include "app/server.h"
#include "core/config.h"
#include "core/config_env.h"
#include "core/log.h"
#include "store/call_store.h"
#include "store/print_calls.h"

#if defined(__SANITIZE_ADDRESS__)
// ASan builds only: pocketsphinx 0.8 leaks a few hundred bytes per compiled JSGF grammar
// inside libsphinxbase (no frame of ours in the trace; grammars are cached, so it is
// bounded). Suppressed so LeakSanitizer judges our code; the same list as the STT tests.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libsphinxbase.so\nleak:libpocketsphinx.so\n";
}
#endif

namespace {

constexpr int kExitConfig = 2;

constexpr const char* kEnvironmentHelp =
    "Every setting can also be given in the environment: ATENDE_ and the key in capitals\n"
    "(--sip-listen / sip_listen: ATENDE_SIP_LISTEN; the file: ATENDE_CONFIG; list sections\n"
    "such as dialplan as flow-style YAML). Precedence: flags > environment > config file >\n"
    "defaults. See docs/operations.md.";

std::vector<std::string> load_file_and_environment(const std::string& config_flag,
                                                   atende::Config& cfg) {
  return atende::load_file_and_environment(config_flag, atende::process_environment(), cfg);
}

int run_serve(atende::Config cfg, const std::vector<std::string>& from_env) {
  atende::setup_logging(cfg.log_format, cfg.log_level);
  if (!from_env.empty()) {
    std::string names;
    for (const auto& n : from_env) names += (names.empty() ? "" : ", ") + n;
    spdlog::info("config: from the environment: {}", names);  // names only: values may be secret
  }
  try {
    atende::app::Server server(cfg);
    return server.run();
  } catch (const atende::ConfigError& e) {
    std::fprintf(stderr, "atende: %s\n", e.what());
    return kExitConfig;
  } catch (const std::exception& e) {
    spdlog::critical("atende: cannot start: {}", e.what());
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"atende: answers and places phone calls and talks on them (SIP/RTP, IVR flows)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "atende 0.1.0");

  // Flags are kept apart from the config so the order is defaults < file < flags.
  std::string config_file;
  std::optional<std::string> sip_listen, http_listen, rtp_ports, data_dir, flows_dir, web_root,
      public_address, log_format, log_level, rtp_latch, srtp, sip_tls_listen, sip_tls_certificate,
      sip_tls_key, sip_tls_ca, sip_tls_srtp, grpc_listen;
  std::optional<int> max_calls, media_threads, drain_seconds, ring_ms, max_call_seconds,
      rtp_timeout_seconds, session_expires, session_min_se;

  auto* serve = app.add_subcommand("serve", "Answer calls: SIP on UDP+TCP (+TLS), HTTP API, flows");
  serve->footer(kEnvironmentHelp);
  serve->add_option("--config", config_file,
                    "YAML file; keys are these flags' names with _ (env ATENDE_CONFIG)");
  serve->add_option("--sip-listen", sip_listen, "SIP address, HOST:PORT (default 0.0.0.0:5060)");
  serve->add_option("--http-listen", http_listen, "HTTP API address (default 127.0.0.1:8080)");
  serve->add_option("--grpc-listen", grpc_listen,
                    "gRPC control service address, HOST:PORT, or off (default off; docs/grpc.md)");
  serve->add_option("--rtp-ports", rtp_ports, "RTP port range LO-HI (default 20000-29999)");
  serve->add_option("--data-dir", data_dir, "Where the call database lives (default ./data)");
  serve->add_option("--flows-dir", flows_dir, "Folder of *.yaml flows (default ./flows)");
  serve->add_option("--web-root", web_root,
                    "The built web console to serve on / (default <source>/web/dist)");
  serve->add_option("--public-address", public_address,
                    "Address to put in SDP (default: the SIP listen address, or the outward one)");
  serve->add_option("--max-calls", max_calls, "Concurrent calls before new ones get 486");
  serve->add_option("--media-threads", media_threads,
                    "RTP worker threads (default 0: one per core)");
  serve->add_option("--drain-seconds", drain_seconds,
                    "On SIGTERM, how long current calls may go on (default 20)");
  serve->add_option("--ring-ms", ring_ms, "Ring (180) this long before answering (default 0)");
  serve->add_option("--max-call-seconds", max_call_seconds,
                    "Hang up any answered call after this long (default 14400; 0: never)");
  serve->add_option("--rtp-timeout-seconds", rtp_timeout_seconds,
                    "Hang up a call whose peer sent no RTP this long (default 30; 0: never)");
  serve->add_option("--rtp-latch", rtp_latch,
                    "Whose RTP a call takes: strict (the SDP's address, default) or nat");
  serve->add_option("--session-expires", session_expires,
                    "SIP session timer we ask for, seconds (default 0: only when the peer asks)");
  serve->add_option("--session-min-se", session_min_se,
                    "Shortest session timer accepted, seconds (default 90)");
  serve->add_option("--srtp", srtp,
                    "SRTP on sip-listen calls: off, optional, required (default optional)");
  serve->add_option("--sip-tls-listen", sip_tls_listen,
                    "SIP over TLS address, HOST:PORT (default: sip-listen's host, port 5061)");
  serve->add_option("--sip-tls-certificate", sip_tls_certificate,
                    "PEM certificate (and chain) for SIP over TLS; turns the TLS listener on");
  serve->add_option("--sip-tls-key", sip_tls_key, "PEM private key of that certificate");
  serve->add_option("--sip-tls-ca", sip_tls_ca,
                    "PEM CA bundle to check trunks' certificates (default: the system's)");
  serve->add_option("--sip-tls-srtp", sip_tls_srtp,
                    "SRTP on calls over TLS: off, optional, required (default required)");
  serve->add_option("--log-format", log_format, "text or json (default text)");
  serve->add_option("--log-level", log_level, "trace, debug, info, warn, error (default info)");

  // A flag given twice: the last one wins, as in most Unix tools (scripts append overrides).
  for (CLI::Option* opt : serve->get_options()) {
    opt->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  }
  // Repeatable (one listener each); given at all, the flags replace the file's listeners.
  std::vector<std::string> audiosocket_listen;
  serve
      ->add_option("--audiosocket-listen", audiosocket_listen,
                   "AudioSocket listener HOST:PORT[=FLOW], repeatable; off: none "
                   "(default 127.0.0.1:9092)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);

  // The commands that read the database find it as `serve` does: --data-dir, else
  // $ATENDE_DATA_DIR, else the config file's data_dir, else ./data.
  std::optional<std::string> db_data_dir;
  std::string db_config_file;
  auto add_database_options = [&](CLI::App* cmd) {
    cmd->add_option("--data-dir", db_data_dir,
                    "Where the call database lives (default: $ATENDE_DATA_DIR, the config "
                    "file's data_dir, ./data)");
    cmd->add_option("--config", db_config_file,
                    "YAML file to read data_dir from (default: $ATENDE_CONFIG)");
  };
  int calls_limit = 20;
  auto* calls = app.add_subcommand("calls", "Print the most recent call records");
  add_database_options(calls);
  calls->add_option("-n,--limit", calls_limit, "How many calls (default 20)")
      ->check(CLI::Range(1, 10000));

  atende::app::CallCommand place;
  std::vector<std::string> vars;
  auto* call = app.add_subcommand("call", "Ask a running server to place a call (POST /api/calls)");
  call->add_option("to", place.to, "Number, extension or sip: URI to call")->required();
  call->add_option("--flow", place.flow, "Flow to run once answered");
  call->add_option("--persona", place.persona, "Or: the AI persona to talk");
  call->add_option("--var", vars, "k=v for the flow's templates / the persona's prompt (repeat)");
  call->add_option("--trunk", place.trunk, "Trunk to dial through (default: the dial plan's)");
  call->add_option("--caller-id", place.caller_id, "Caller ID to send");
  call->add_option("--ring-timeout", place.ring_timeout, "Seconds to ring before giving up");
  call->add_option("--api", place.api, "Server's HTTP address (default http://127.0.0.1:8080)");
  call->add_option("--token", place.token, "API token (default: $ATENDE_TOKEN)");

  auto* db = app.add_subcommand("db", "Care of the call database: migrate, backup");
  db->require_subcommand(1);
  bool dry_run = false;
  auto* migrate = db->add_subcommand(
      "migrate", "Apply pending schema migrations (atende serve does too) and print the version");
  migrate->add_flag("--dry-run", dry_run, "Only list the pending migrations; change nothing");
  add_database_options(migrate);
  std::string backup_dest;
  auto* backup = db->add_subcommand(
      "backup", "Copy the call database to DEST, consistent while atende runs (online backup)");
  backup
      ->add_option("dest", backup_dest,
                   "File to write (never overwritten), or a directory: atende-<UTC time>.db in it")
      ->required();
  add_database_options(backup);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitConfig;
  }

  if (*call) {
    for (const auto& kv : vars) {
      const auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        std::fprintf(stderr, "atende call: --var '%s' is not k=v\n", kv.c_str());
        return kExitConfig;
      }
      place.variables[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    return atende::app::run_call_command(place);
  }

  std::string db_path;
  if (*calls || *db) {
    try {
      db_path = (std::filesystem::path(atende::resolve_data_dir(db_data_dir, db_config_file,
                                                                atende::process_environment())) /
                 "atende.db")
                    .string();
    } catch (const atende::ConfigError& e) {
      std::fprintf(stderr, "atende: %s\n", e.what());
      return kExitConfig;
    }
  }
  if (*migrate) return atende::app::run_db_migrate(db_path, dry_run, std::cout, std::cerr);
  if (*backup) return atende::app::run_db_backup(db_path, backup_dest, std::cout, std::cerr);

  if (*calls) {
    try {
      const std::filesystem::path db = db_path;
      if (!std::filesystem::exists(db)) {
        std::fprintf(stderr, "atende calls: no call database at %s (wrong --data-dir?)\n",
                     db.c_str());
        return 1;
      }
      atende::store::CallStore store({.path = db.string()});
      atende::store::print_calls(store, std::cout, calls_limit);
      return 0;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "atende calls: %s\n", e.what());
      return 1;
    }
  }

  atende::Config cfg;
  std::vector<std::string> from_env;
  try {
    from_env = load_file_and_environment(config_file, cfg);
    if (sip_listen) cfg.sip_listen = atende::parse_host_port("--sip-listen", *sip_listen);
    if (http_listen) cfg.http_listen = atende::parse_host_port("--http-listen", *http_listen);
    if (grpc_listen) {
      cfg.grpc_listen = *grpc_listen == "off"
                            ? atende::HostPort{"", 0}
                            : atende::parse_host_port("--grpc-listen", *grpc_listen);
    }
    if (!audiosocket_listen.empty()) {
      cfg.audiosocket_listen.clear();
      for (const auto& v : audiosocket_listen) {
        if (v == "off") continue;
        cfg.audiosocket_listen.push_back(atende::parse_audiosocket_flag("--audiosocket-listen", v));
      }
    }
    if (rtp_ports) atende::parse_port_range("--rtp-ports", *rtp_ports, cfg);
    if (data_dir) cfg.data_dir = *data_dir;
    if (flows_dir) cfg.flows_dir = *flows_dir;
    if (web_root) cfg.web_root = *web_root;
    if (public_address) cfg.public_address = *public_address;
    if (log_format) cfg.log_format = atende::parse_log_format("--log-format", *log_format);
    if (log_level) cfg.log_level = *log_level;
    if (max_calls) cfg.max_calls = *max_calls;
    if (media_threads) cfg.media_threads = *media_threads;
    if (drain_seconds) cfg.drain_seconds = *drain_seconds;
    if (ring_ms) cfg.ring_ms = *ring_ms;
    if (max_call_seconds) cfg.max_call_seconds = *max_call_seconds;
    if (rtp_timeout_seconds) cfg.rtp_timeout_seconds = *rtp_timeout_seconds;
    if (rtp_latch) cfg.rtp_latch = atende::parse_rtp_latch("--rtp-latch", *rtp_latch);
    if (session_expires) cfg.session_expires = *session_expires;
    if (session_min_se) cfg.session_min_se = *session_min_se;
    if (srtp) cfg.srtp = *srtp;
    if (sip_tls_listen) {
      cfg.sip_tls_listen = atende::parse_host_port("--sip-tls-listen", *sip_tls_listen);
    }
    if (sip_tls_certificate) cfg.sip_tls_certificate = *sip_tls_certificate;
    if (sip_tls_key) cfg.sip_tls_key = *sip_tls_key;
    if (sip_tls_ca) cfg.sip_tls_ca = *sip_tls_ca;
    if (sip_tls_srtp) cfg.sip_tls_srtp = *sip_tls_srtp;
    atende::validate_config(cfg);
  } catch (const atende::ConfigError& e) {
    std::fprintf(stderr, "atende: %s\n", e.what());
    return kExitConfig;
  }
  return run_serve(cfg, from_env);
}
