// HTTP Digest authentication for SIP requests, server side (RFC 2617, RFC 7616, RFC 8760):
// MD5, MD5-sess, SHA-256 and SHA-256-sess, qop=auth or none, userhash. Pure: no sofia
// types; time comes from the caller.
//
// Nonces carry their own issue time and are bound to the source address by an HMAC with a
// secret made at start-up, so a nonce from another address, a forged one or an expired one
// is refused without a table. Replays are refused with a bounded table of the nonces that
// have been used (with the highest nonce-count seen): a nonce is good once without qop, and
// with qop=auth only with a higher nc each time. When the table is full the oldest entries go,
// and every nonce issued up to the newest one evicted counts as stale from then on, so
// eviction never lets a replay through.
#pragma once
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/cidr.h"
#include "core/clock.h"

namespace atende::sip {

enum class DigestAlgorithm { kMd5, kMd5Sess, kSha256, kSha256Sess };
const char* to_string(DigestAlgorithm a);
std::optional<DigestAlgorithm> parse_digest_algorithm(std::string_view s);  // case-insensitive

// The parameters of an Authorization / Proxy-Authorization header, unquoted.
struct DigestCredentials {
  std::string username, realm, nonce, uri, response, algorithm, cnonce, opaque, qop, nc;
  bool userhash = false;
};
// Parses `Digest username="a", realm="b", ...` (the scheme may be left out). Unknown
// parameters are skipped. nullopt when it is not Digest or is malformed.
std::optional<DigestCredentials> parse_digest_credentials(std::string_view header);

// Lower-case hex of the hash of `data`.
std::string digest_hash(DigestAlgorithm a, std::string_view data);
// The expected `response` for these credentials and password (RFC 7616 3.4.1): HA1 from
// user:realm:password (-sess: then :nonce:cnonce), HA2 from method:uri, with or without qop.
std::string digest_response(DigestAlgorithm a, std::string_view user, std::string_view realm,
                            std::string_view password, std::string_view method,
                            std::string_view uri, std::string_view nonce, std::string_view nc,
                            std::string_view cnonce, std::string_view qop);

struct DigestAccount {
  std::string user;
  std::string password;
};

// What check() concluded. kOk: `user` authenticated. kStale: well-formed and ours but expired
// (challenge again with stale=true). kFailed: wrong user, wrong password, replay, forged or
// foreign nonce, wrong realm: all the same to the caller.
struct DigestResult {
  enum Kind { kOk, kStale, kFailed } kind = kFailed;
  std::string user;
  const char* why = "";  // for logs, fixed text (never says which of user/password was wrong)
};

class DigestAuthenticator {
 public:
  // `secret` empty: a random one (tests pass a fixed one).
  DigestAuthenticator(std::string realm, std::vector<DigestAccount> accounts,
                      std::chrono::seconds nonce_lifetime, std::string secret = {},
                      size_t max_used_nonces = 16384,
                      std::vector<DigestAlgorithm> offered = {DigestAlgorithm::kMd5,
                                                              DigestAlgorithm::kSha256});

  // The value of a WWW-Authenticate / Proxy-Authenticate header for a request from `source`.
  std::string challenge(const IpAddress& source, MonoTime now, DigestAlgorithm algorithm,
                        bool stale) const;
  // The challenge headers to send, one per offered algorithm, in order.
  std::vector<std::string> challenges(const IpAddress& source, MonoTime now, bool stale) const;

  DigestResult check(const DigestCredentials& c, std::string_view method, const IpAddress& source,
                     MonoTime now);

  const std::string& realm() const { return realm_; }
  size_t used_nonces() const { return used_.size(); }

 private:
  std::string make_nonce(const IpAddress& source, int64_t issued_ms) const;
  // The issue time of a nonce that is ours and was given to `source`, else nullopt.
  std::optional<int64_t> nonce_time(std::string_view nonce, const IpAddress& source) const;
  const DigestAccount* find_account(const DigestCredentials& c, DigestAlgorithm a) const;

  std::string realm_;
  std::vector<DigestAccount> accounts_;
  std::vector<DigestAlgorithm> offered_;
  std::chrono::milliseconds lifetime_;
  std::string secret_;
  std::string opaque_;
  MonoTime epoch_;  // nonce times are ms since this
  size_t max_used_;
  struct Used {
    uint64_t nc;  // highest nonce count seen (0: without qop, used once)
    int64_t issued_ms;
  };
  std::unordered_map<std::string, Used> used_;
  std::deque<std::pair<int64_t, std::string>> used_order_;  // by issue time of first use
  int64_t stale_floor_ms_ = -1;  // nonces issued at or before this are refused
};

}  // namespace atende::sip
