#include "sip/access_control.h"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "core/metrics.h"

namespace atende::sip {
namespace {

constexpr auto kLogEvery = std::chrono::seconds(60);
constexpr size_t kEvictScan = 8;

double seconds(MonoTime::duration d) { return std::chrono::duration<double>(d).count(); }

std::string rate_str(const AccessRate& r) {
  if (r.per_second <= 0) return "unlimited";
  char buf[48];
  snprintf(buf, sizeof buf, "%g/s (burst %d)", r.per_second, r.burst);
  return buf;
}

}  // namespace

const char* to_string(RefuseReason r) {
  switch (r) {
    case RefuseReason::kDenied:
      return "denied";
    case RefuseReason::kAuth:
      return "auth";
    case RefuseReason::kRate:
      return "rate";
    case RefuseReason::kConcurrent:
      return "concurrent";
    case RefuseReason::kCost:
      return "cost";
  }
  return "denied";
}

// --- RateBucket ----------------------------------------------------------------------------

double RateBucket::level(MonoTime now) const {
  if (now <= last_) return tokens_;
  return std::min(burst_, tokens_ + seconds(now - last_) * rate_);
}

bool RateBucket::take(MonoTime now) {
  if (rate_ <= 0) return true;
  tokens_ = level(now);
  if (now > last_) last_ = now;
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

double RateBucket::wait_seconds(MonoTime now) const {
  if (rate_ <= 0) return 0;
  const double l = level(now);
  return l >= 1.0 ? 0 : (1.0 - l) / rate_;
}

bool RateBucket::full(MonoTime now) const { return rate_ <= 0 || level(now) >= burst_; }

void RateBucket::reconfigure(double per_second, double burst) {
  rate_ = per_second;
  burst_ = burst;
  tokens_ = std::min(tokens_, burst_);
}

// --- AccessControl -------------------------------------------------------------------------

AccessControl::AccessControl(AccessConfig config, MetricsRegistry* registry,
                             std::string digest_secret)
    : digest_secret_(std::move(digest_secret)) {
  // One secret for the process, kept across reloads: nonces handed out before a reload
  // stay good.
  if (digest_secret_.empty()) {
    unsigned char b[32];
    if (RAND_bytes(b, sizeof b) != 1) throw std::runtime_error("access: no random bytes");
    digest_secret_.assign(reinterpret_cast<char*>(b), sizeof b);
  }
  if (registry) {
    for (auto r : {RefuseReason::kDenied, RefuseReason::kAuth, RefuseReason::kRate,
                   RefuseReason::kConcurrent, RefuseReason::kCost}) {
      refused_[static_cast<int>(r)] = &registry->counter(
          "atende_sip_refused_total",
          "SIP requests refused by the access rules (docs/security.md), by reason",
          {{"reason", to_string(r)}});
    }
    challenges_ = &registry->counter("atende_sip_auth_challenges_total",
                                     "Digest challenges (401/407) sent to callers");
    sources_gauge_ =
        &registry->gauge("atende_sip_access_sources", "Source addresses in the per-source table");
    blocked_gauge_ = &registry->gauge("atende_sip_blocked_sources",
                                      "Source addresses blocked now (over a rate limit)");
  }
  reload(std::move(config));
}

AccessControl::~AccessControl() = default;

void AccessControl::reload(AccessConfig config) {
  cfg_ = std::move(config);
  allow_ = CidrSet(cfg_.allow);
  deny_ = CidrSet(cfg_.deny);
  trusted_ = CidrSet(cfg_.trusted);
  exempt_ = CidrSet(cfg_.exempt);
  std::vector<DigestAccount> accounts;
  for (const auto& a : cfg_.accounts) accounts.push_back({a.user, a.password});
  std::vector<DigestAlgorithm> offered;
  for (const auto& name : cfg_.algorithms) {
    if (auto a = parse_digest_algorithm(name)) offered.push_back(*a);
  }
  if (offered.empty()) offered.push_back(DigestAlgorithm::kMd5);
  auto next = std::make_unique<DigestAuthenticator>(cfg_.realm, std::move(accounts),
                                                    std::chrono::seconds(cfg_.nonce_seconds),
                                                    digest_secret_, 16384, std::move(offered));
  digest_ = std::move(next);
  ++rules_generation_;
  ++version_;
}

void AccessControl::apply_rates(Source& s, MonoTime now) {
  auto set = [&](RateBucket& b, const AccessRate& r) {
    if (s.generation == 0)
      b = RateBucket(r.per_second, r.burst, now);
    else
      b.reconfigure(r.per_second, r.burst);
  };
  set(s.invite, cfg_.invite);
  set(s.reg, cfg_.register_);
  set(s.options, cfg_.options);
  const AccessRate failures{cfg_.auth_failures_per_minute / 60.0,
                            std::max(1, cfg_.auth_failures_per_minute)};
  set(s.auth_failures, failures);
  for (auto& [flow, bucket] : s.cost) {
    bool persona = cfg_.calls_per_hour.count(flow) == 0;  // only personas use the default
    const int limit = cost_limit(flow, persona);
    bucket.reconfigure(limit / 3600.0, limit);
  }
  s.generation = rules_generation_;
}

bool AccessControl::sticky(const Source& s, MonoTime now) const {
  if (s.calls > 0 || s.blocked_until > now) return true;
  for (const auto& [flow, b] : s.cost) {
    if (!b.full(now)) return true;
  }
  return false;
}

AccessControl::Source* AccessControl::find(const IpAddress& a) {
  auto it = table_.find(a);
  return it == table_.end() ? nullptr : &it->second;
}

AccessControl::Source& AccessControl::source(const IpAddress& a, MonoTime now) {
  if (Source* s = find(a)) {
    lru_.splice(lru_.begin(), lru_, s->lru);
    if (s->generation != rules_generation_) apply_rates(*s, now);
    return *s;
  }
  if (table_.size() >= static_cast<size_t>(cfg_.max_sources)) {
    // Forget the least recently seen source that holds nothing; sticky ones met on the way
    // go to the front, so the next search starts elsewhere.
    // (More than one when a reload made max_sources smaller.)
    for (size_t i = 0;
         i < kEvictScan && !lru_.empty() && table_.size() >= static_cast<size_t>(cfg_.max_sources);
         ++i) {
      const IpAddress victim = lru_.back();
      Source& v = table_.at(victim);
      if (sticky(v, now)) {
        lru_.splice(lru_.begin(), lru_, v.lru);
        continue;
      }
      lru_.pop_back();
      table_.erase(victim);
    }
  }
  if (table_.size() >= static_cast<size_t>(cfg_.max_sources)) {
    if (!overflow_) {
      overflow_ = std::make_unique<Source>();
      overflow_->overflow = true;
    }
    if (overflow_->generation != rules_generation_) apply_rates(*overflow_, now);
    return *overflow_;
  }
  lru_.push_front(a);
  Source& s = table_[a];
  s.addr = a;
  s.lru = lru_.begin();
  apply_rates(s, now);
  if (sources_gauge_) sources_gauge_->set(static_cast<int64_t>(table_.size()));
  return s;
}

void AccessControl::count_refusal(RefuseReason reason, uint64_t n) {
  if (Counter* c = refused_[static_cast<int>(reason)]) c->inc(n);
}

AccessDecision AccessControl::refuse(Source* s, const IpAddress& a, RefuseReason reason, bool drop,
                                     int status, int retry_after, MonoTime now,
                                     const char* detail) {
  count_refusal(reason);
  if (s) {
    ++s->refused_since_log;
    if (s->last_log == MonoTime{} || now - s->last_log >= kLogEvery) {
      const std::string who =
          s->overflow ? "new sources (per-source table full: they share one slot)" : a.str();
      spdlog::warn(
          "sip: refusing {} ({}: {}); {} refused from it in the last minute, "
          "next report in 60 s",
          who, to_string(reason), detail, s->refused_since_log);
      s->last_log = now;
      s->refused_since_log = 0;
    }
  }
  AccessDecision d;
  d.action = drop ? AccessDecision::kDrop : AccessDecision::kRespond;
  d.status = status;
  d.retry_after = retry_after;
  d.reason = reason;
  return d;
}

void AccessControl::block(Source& s, const IpAddress& a, MonoTime now, const char* why) {
  const bool was = s.blocked_until > now;
  s.blocked_until = now + std::chrono::seconds(cfg_.block_seconds);
  if (was || s.overflow || cfg_.block_seconds == 0) return;
  spdlog::warn("sip: blocking {} for {} s: {}", a.str(), cfg_.block_seconds, why);
  blocked_.erase(std::remove(blocked_.begin(), blocked_.end(), a), blocked_.end());
  blocked_.push_back(a);
  ++version_;
  if (blocked_gauge_) blocked_gauge_->set(static_cast<int64_t>(blocked_.size()));
}

bool AccessControl::allowed(const IpAddress& a) const {
  return allow_.contains(a) && !deny_.contains(a);
}

AccessDecision AccessControl::check_request(const IpAddress& a, RequestKind kind, MonoTime now) {
  if (!allowed(a)) {
    Source& s = source(a, now);
    return refuse(&s, a, RefuseReason::kDenied, cfg_.denied_drop, 403, 0, now,
                  "not in access.allow, or in access.deny");
  }
  AccessDecision ok;
  ok.must_authenticate = kind == RequestKind::kInvite && !trusted_.contains(a);
  if (exempt_.contains(a)) return ok;
  Source& s = source(a, now);
  auto retry = [&](MonoTime until) {
    return std::max(1, static_cast<int>(std::ceil(seconds(until - now))));
  };
  if (s.blocked_until > now) {
    return refuse(&s, a, RefuseReason::kRate, cfg_.over_limit_drop, 503, retry(s.blocked_until),
                  now, "blocked after going over a limit");
  }
  RateBucket* bucket = kind == RequestKind::kInvite     ? &s.invite
                       : kind == RequestKind::kRegister ? &s.reg
                                                        : &s.options;
  if (!bucket->take(now)) {
    const char* what = kind == RequestKind::kInvite ? "INVITE rate over access.limits"
                       : kind == RequestKind::kRegister
                           ? "REGISTER rate over access.limits"
                           : "OPTIONS (or other) rate over access.limits";
    block(s, a, now, what);
    return refuse(&s, a, RefuseReason::kRate, cfg_.over_limit_drop, 503,
                  cfg_.block_seconds > 0 ? retry(s.blocked_until) : 1, now, what);
  }
  return ok;
}

AccessControl::AuthVerdict AccessControl::authenticate(const IpAddress& a,
                                                       std::string_view credentials,
                                                       std::string_view method, MonoTime now) {
  AuthVerdict v;
  if (credentials.empty()) {
    if (challenges_) challenges_->inc();
    return v;
  }
  auto parsed = parse_digest_credentials(credentials);
  DigestResult r;
  if (parsed) r = digest_->check(*parsed, method, a, now);
  if (r.kind == DigestResult::kOk) {
    v.kind = AuthVerdict::kOk;
    v.user = r.user;
    return v;
  }
  if (r.kind == DigestResult::kStale) {
    if (challenges_) challenges_->inc();
    v.stale = true;
    return v;
  }
  Source* s = exempt_.contains(a) ? nullptr : &source(a, now);
  const char* why = parsed ? r.why : "unreadable credentials";
  if (s && !s->auth_failures.take(now)) {
    block(*s, a, now, "too many wrong passwords (access.limits.auth_failures_per_minute)");
    v.kind = AuthVerdict::kRefused;
    v.drop = refuse(s, a, RefuseReason::kAuth, cfg_.over_limit_drop, 503, cfg_.block_seconds, now,
                    "too many wrong passwords");
    return v;
  }
  if (s) {
    refuse(s, a, RefuseReason::kAuth, false, 0, 0, now, why);
  } else {
    count_refusal(RefuseReason::kAuth);
  }
  if (challenges_) challenges_->inc();
  return v;  // the same fresh challenge as for no credentials at all
}

std::vector<std::string> AccessControl::challenges(const IpAddress& source, MonoTime now,
                                                   bool stale) const {
  return digest_->challenges(source, now, stale);
}

AccessDecision AccessControl::call_begin(const IpAddress& a, MonoTime now) {
  AccessDecision ok;
  if (cfg_.calls_per_source <= 0 || exempt_.contains(a)) return ok;
  Source& s = source(a, now);
  if (s.calls >= cfg_.calls_per_source) {
    return refuse(&s, a, RefuseReason::kConcurrent, false, 486, 0, now,
                  "access.limits.calls_per_source calls already up");
  }
  ++s.calls;
  return ok;
}

void AccessControl::call_end(const IpAddress& a) {
  if (Source* s = find(a); s && s->calls > 0) {
    --s->calls;
  } else if (overflow_ && overflow_->calls > 0) {
    --overflow_->calls;
  }
}

int AccessControl::cost_limit(const std::string& flow, bool persona) const {
  auto it = cfg_.calls_per_hour.find(flow);
  if (it != cfg_.calls_per_hour.end()) return it->second;
  return persona ? cfg_.persona_calls_per_hour : 0;
}

AccessDecision AccessControl::charge_call(const IpAddress& a, const std::string& flow, bool persona,
                                          MonoTime now) {
  AccessDecision ok;
  const int limit = cost_limit(flow, persona);
  if (limit <= 0 || exempt_.contains(a)) return ok;
  Source& s = source(a, now);
  auto it =
      std::find_if(s.cost.begin(), s.cost.end(), [&](const auto& p) { return p.first == flow; });
  if (it == s.cost.end()) {
    s.cost.emplace_back(flow, RateBucket(limit / 3600.0, limit, now));
    it = std::prev(s.cost.end());
  }
  if (!it->second.take(now)) {
    const int wait = std::max(1, static_cast<int>(std::ceil(it->second.wait_seconds(now))));
    return refuse(&s, a, RefuseReason::kCost, false, 503, wait, now,
                  "calls per hour into a costly flow (access.limits) used up");
  }
  return ok;
}

std::vector<IpAddress> AccessControl::blocked_sources(MonoTime now, size_t max) const {
  std::vector<IpAddress> out;
  if (!cfg_.over_limit_drop) return out;  // 503 mode: they must reach us to be answered
  for (auto it = blocked_.rbegin(); it != blocked_.rend() && out.size() < max; ++it) {
    auto s = table_.find(*it);
    if (s != table_.end() && s->second.blocked_until > now) out.push_back(*it);
  }
  return out;
}

void AccessControl::tick(MonoTime now) {
  const size_t before = blocked_.size();
  blocked_.erase(std::remove_if(blocked_.begin(), blocked_.end(),
                                [&](const IpAddress& a) {
                                  auto s = table_.find(a);
                                  return s == table_.end() || s->second.blocked_until <= now;
                                }),
                 blocked_.end());
  if (blocked_.size() != before) {
    ++version_;
    if (blocked_gauge_) blocked_gauge_->set(static_cast<int64_t>(blocked_.size()));
  }
  if (sources_gauge_) sources_gauge_->set(static_cast<int64_t>(table_.size()));
}

std::string AccessControl::describe() const {
  std::string out = "access: SIP accepted from " + cidr_list_str(cfg_.allow);
  if (!cfg_.allow_given) {
    out +=
        " (the default: loopback and private ranges only; to take calls from the Internet "
        "set access.allow in the config file, e.g. [0.0.0.0/0, \"::/0\"], see docs/security.md)";
  }
  if (!cfg_.deny.empty()) out += ", except " + cidr_list_str(cfg_.deny);
  out += cfg_.denied_drop ? "; others are dropped unanswered" : "; others get 403";
  out += "; no password needed from " + cidr_list_str(cfg_.trusted) +
         ", others authenticate as one of " + std::to_string(cfg_.accounts.size()) +
         " accounts (realm \"" + cfg_.realm + "\")";
  out += "; per source: INVITE " + rate_str(cfg_.invite) + ", REGISTER " +
         rate_str(cfg_.register_) + ", OPTIONS " + rate_str(cfg_.options) + ", over it " +
         (cfg_.over_limit_drop ? "dropped" : "503") + " for " + std::to_string(cfg_.block_seconds) +
         " s";
  if (cfg_.calls_per_source > 0)
    out += ", " + std::to_string(cfg_.calls_per_source) + " calls at once";
  if (cfg_.persona_calls_per_hour > 0)
    out += ", " + std::to_string(cfg_.persona_calls_per_hour) + " persona calls/hour";
  if (!cfg_.calls_per_hour.empty())
    out += ", " + std::to_string(cfg_.calls_per_hour.size()) + " flows with calls/hour limits";
  out += "; no limits for " + cidr_list_str(cfg_.exempt);
  return out;
}

}  // namespace atende::sip
