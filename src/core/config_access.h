// `access:` of the config file: who may send SIP requests to atende, who must authenticate,
// and the per-source limits (docs/security.md). File only; reloaded on SIGHUP.
#pragma once
#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <vector>

#include "core/cidr.h"

namespace atende {

// A SIP account a caller from an untrusted address authenticates as (digest).
struct AccessAccount {
  std::string user;
  std::string password;  // ${ENV} allowed; never logged
};

// A token bucket: `per_second` on average, `burst` at once. per_second 0: no limit.
struct AccessRate {
  double per_second = 0;
  int burst = 0;
};

struct AccessConfig {
  // Who may reach us at all. Everything else is refused (`denied`), and deny wins over allow.
  std::vector<Cidr> allow = private_ranges();
  std::vector<Cidr> deny;
  // Who may call without a password; everyone else allowed must authenticate (digest) as one
  // of `accounts` (none configured: they cannot call).
  std::vector<Cidr> trusted = private_ranges();
  // Not subject to the per-source limits (rates, calls at once, calls per hour).
  std::vector<Cidr> exempt = {*parse_cidr("127.0.0.0/8"), *parse_cidr("::1/128")};
  bool allow_given = false, trusted_given = false, exempt_given = false;  // for the start-up log

  // What a denied source gets: "drop" (nothing at all: a scanner does not even learn that a
  // SIP server is there) or "reject" (403 Forbidden).
  bool denied_drop = true;

  std::string realm = "atende";
  std::vector<AccessAccount> accounts;
  int challenge_status = 401;  // or 407
  // Offered in this order, one challenge header each ("MD5", "SHA-256"). MD5 first by
  // default: SIPp and many phones take the first header and know only MD5 (RFC 8760 would
  // put SHA-256 first; `[SHA-256, MD5]` does, `[SHA-256]` refuses MD5 answers).
  std::vector<std::string> algorithms = {"MD5", "SHA-256"};
  int nonce_seconds = 300;  // a nonce older than this is stale

  AccessRate invite{20, 40};
  AccessRate register_{10, 20};
  AccessRate options{10, 20};
  int auth_failures_per_minute = 10;  // wrong credentials; above this the source is blocked
  // A source over a rate limit: "drop" (default, like Kamailio's pike) or 503; either way it
  // stays blocked for block_seconds.
  bool over_limit_drop = true;
  int block_seconds = 60;
  int calls_per_source = 0;        // answered-or-ringing calls at once per source; 0: no limit
  int persona_calls_per_hour = 0;  // calls into any AI persona per source per hour; 0: none
  std::map<std::string, int> calls_per_hour;  // per flow or persona name (overrides the above)
  int max_sources = 10000;    // the per-source table's size; a flood of addresses shares one slot
  bool kernel_filter = true;  // drop denied and blocked sources in the kernel (Linux, UDP+TCP)
};

// Throws ConfigError naming the key and line. `ctx` is "FILE: access (line N)".
AccessConfig parse_access(const std::string& ctx, const YAML::Node& node);

}  // namespace atende
