// Who may call (docs/security.md): the SIP server asks this before it acts on a request.
//
//   allow/deny lists (CIDR)  -> denied: drop (nothing sent) or 403
//   per-source request rates (INVITE, REGISTER, OPTIONS; wrong passwords) -> over: the
//       source is blocked for block_seconds: drop or 503, as Kamailio's pike
//   digest authentication for callers not trusted by address (401/407, RFC 7616)
//   calls at once per source, calls per hour per source into costly flows/personas
//
// One table of sources, capped at max_sources: when it is full the least recently seen
// source that holds nothing (no call up, not blocked, no costly calls counted) is forgotten;
// when every entry holds something, newcomers share one overflow entry, so a flood from
// many (spoofed) addresses is limited as one source and cannot grow memory.
//
// Refusals are counted in atende_sip_refused_total{reason} and logged once per source per
// minute. Single-threaded (the SIP thread); the metrics are atomic.
#pragma once
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/config_access.h"
#include "sip/digest_auth.h"

namespace atende {
class MetricsRegistry;
class Counter;
class Gauge;
}  // namespace atende

namespace atende::sip {

enum class RefuseReason { kDenied, kAuth, kRate, kConcurrent, kCost };
const char* to_string(RefuseReason r);

enum class RequestKind { kInvite, kRegister, kOptions, kOther };

// A token bucket: `burst` at once, refilled at `per_second`. Starts full.
class RateBucket {
 public:
  RateBucket() = default;
  RateBucket(double per_second, double burst, MonoTime now)
      : rate_(per_second), burst_(burst), tokens_(burst), last_(now) {}
  // Takes one; false when empty. A bucket with rate 0 never limits.
  bool take(MonoTime now);
  // Seconds until one token is there (0 when there is one now).
  double wait_seconds(MonoTime now) const;
  bool full(MonoTime now) const;
  void reconfigure(double per_second, double burst);

 private:
  double level(MonoTime now) const;
  double rate_ = 0, burst_ = 0, tokens_ = 0;
  MonoTime last_{};
};

struct AccessDecision {
  enum Action { kAccept, kDrop, kRespond };
  Action action = kAccept;
  int status = 0;       // kRespond: 403, 503 ...
  int retry_after = 0;  // seconds, for 503 (0: no Retry-After)
  RefuseReason reason = RefuseReason::kDenied;
  bool must_authenticate = false;  // kAccept of an INVITE from an address not trusted
  bool ok() const { return action == kAccept; }
};

class AccessControl {
 public:
  // `registry` may be null (tests); `digest_secret` empty: random (tests fix it).
  AccessControl(AccessConfig config, MetricsRegistry* registry, std::string digest_secret = {});
  ~AccessControl();

  // New rules; sources seen so far keep their counts (buckets take the new rates), blocks
  // stay until they expire.
  void reload(AccessConfig config);
  const AccessConfig& config() const { return cfg_; }

  // A new out-of-dialog request from `source`: allowed by address, not blocked, within its
  // rate. Counts the request.
  AccessDecision check_request(const IpAddress& source, RequestKind kind, MonoTime now);

  // An INVITE from a source that must authenticate (check_request said must_authenticate).
  // `credentials` is the Authorization/Proxy-Authorization value for our realm, or empty.
  struct AuthVerdict {
    enum Kind { kOk, kChallenge, kRefused } kind = kChallenge;
    bool stale = false;
    std::string user;     // kOk
    AccessDecision drop;  // kRefused: the source went over auth_failures_per_minute
  };
  AuthVerdict authenticate(const IpAddress& source, std::string_view credentials,
                           std::string_view method, MonoTime now);
  // Header values to send with challenge_status() (401: WWW-Authenticate, 407: Proxy-).
  std::vector<std::string> challenges(const IpAddress& source, MonoTime now, bool stale) const;
  int challenge_status() const { return cfg_.challenge_status; }

  // A call from `source` is about to be answered: within calls_per_source? Counts it when so.
  AccessDecision call_begin(const IpAddress& source, MonoTime now);
  void call_end(const IpAddress& source);

  // A call from `source` into `flow` (persona: an AI persona): within its calls per hour?
  // Counts it when so.
  AccessDecision charge_call(const IpAddress& source, const std::string& flow, bool persona,
                             MonoTime now);

  // Sources blocked now (rate or auth), most recent first, at most `max`: for the kernel
  // filter. version() changes whenever this list or the rules change.
  std::vector<IpAddress> blocked_sources(MonoTime now, size_t max) const;
  uint64_t version() const { return version_; }
  // Forgets expired blocks (bumps version() when one expired). Call about once a second.
  void tick(MonoTime now);

  bool allowed(const IpAddress& source) const;  // by the allow/deny lists alone
  bool trusted(const IpAddress& source) const { return trusted_.contains(source); }
  size_t sources() const { return table_.size(); }

  // Refusal counted and logged (once per source per minute) by the caller's layer, e.g. the
  // kernel filter's drops: counted here under `reason` without a source.
  void count_refusal(RefuseReason reason, uint64_t n = 1);

  // One line for the start-up log: what is allowed, trusted, limited, and how to change it.
  std::string describe() const;

 private:
  struct Source;
  Source& source(const IpAddress& a, MonoTime now);
  Source* find(const IpAddress& a);
  AccessDecision refuse(Source* s, const IpAddress& a, RefuseReason reason, bool drop, int status,
                        int retry_after, MonoTime now, const char* detail);
  void block(Source& s, const IpAddress& a, MonoTime now, const char* why);
  bool sticky(const Source& s, MonoTime now) const;
  void apply_rates(Source& s, MonoTime now);
  int cost_limit(const std::string& flow, bool persona) const;

  AccessConfig cfg_;
  CidrSet allow_, deny_, trusted_, exempt_;
  std::unique_ptr<DigestAuthenticator> digest_;
  std::string digest_secret_;
  uint64_t version_ = 1;
  uint64_t rules_generation_ = 1;

  struct Source {
    IpAddress addr;
    bool overflow = false;
    uint64_t generation = 0;  // rules the buckets were made with
    RateBucket invite, reg, options, auth_failures;
    MonoTime blocked_until{};
    int calls = 0;
    std::vector<std::pair<std::string, RateBucket>> cost;  // per costly flow
    MonoTime last_log{};
    uint64_t refused_since_log = 0;
    std::list<IpAddress>::iterator lru;
  };
  std::unordered_map<IpAddress, Source, IpAddressHash> table_;
  std::list<IpAddress> lru_;  // front: most recently seen
  std::unique_ptr<Source> overflow_;
  std::vector<IpAddress> blocked_;  // currently blocked, in blocking order

  Counter* refused_[5] = {};
  Counter* challenges_ = nullptr;
  Gauge* sources_gauge_ = nullptr;
  Gauge* blocked_gauge_ = nullptr;
};

}  // namespace atende::sip
