// Every setting by environment variable: one rule for all keys, ATENDE_ followed by the
// key in capitals (sip_listen -> ATENDE_SIP_LISTEN, --drain-seconds -> ATENDE_DRAIN_SECONDS).
// Precedence: flags > environment > config file > defaults. The config file itself is
// ATENDE_CONFIG when --config is not given. Values are what the file would hold: one value
// as it is (no quoting needed, "[::1]:5060" included), and the list or map sections
// (trunks, dialplan, webhooks, access, audiosocket_listen, api_tokens) as YAML, in flow
// style: ATENDE_DIALPLAN='[{match: "2xxx", flow: menu}]'. See docs/operations.md.
//
// Variables with the prefix that name no setting (ATENDE_TOKEN for `atende call`, secrets
// that the file reads as ${ATENDE_CRM_TOKEN}) are left alone.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/config.h"

namespace atende {

inline constexpr std::string_view kEnvPrefix = "ATENDE_";

// "sip_listen" or "sip-listen" -> "ATENDE_SIP_LISTEN".
std::string env_name(std::string_view key);
// "ATENDE_SIP_LISTEN" -> "sip_listen"; nullopt without the prefix or with nothing after it.
std::optional<std::string> key_of_env(std::string_view name);

// The environment as name -> value (tests pass their own).
using Environment = std::map<std::string, std::string>;
Environment process_environment();

// ATENDE_CONFIG, when set and not empty.
std::optional<std::string> env_config_file(const Environment& env);

// Applies every ATENDE_* variable that names a setting over `cfg`; returns their names.
// A bad value throws ConfigError naming the variable ("ATENDE_MAX_CALLS: 'x' is not a
// whole number"), exactly as the file would for its key.
std::vector<std::string> apply_environment(const Environment& env, Config& cfg);

// Defaults are in `cfg`; then the config file (`config_flag`, else ATENDE_CONFIG, else
// none), then the environment. The caller applies its flags last. Returns the names of the
// variables applied (for the log: names only, values may be secrets).
std::vector<std::string> load_file_and_environment(const std::string& config_flag,
                                                   const Environment& env, Config& cfg);

// Only the data dir, for the commands that open the database (`calls`, `db`): the flag,
// else ATENDE_DATA_DIR, else the config file's data_dir key (`config_flag`, else
// ATENDE_CONFIG), else the default. Only that key of the file is read, so a cron job's
// backup does not need the secrets other keys name (${ATENDE_CRM_TOKEN}). Throws ConfigError
// for an unreadable file or a data_dir that is not one value.
std::string resolve_data_dir(const std::optional<std::string>& flag, const std::string& config_flag,
                             const Environment& env);

}  // namespace atende
