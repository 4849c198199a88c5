#include "sip/digest_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "core/ascii.h"

namespace atende::sip {
namespace {

std::string hex(const unsigned char* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = d[p[i] >> 4];
    out[2 * i + 1] = d[p[i] & 15];
  }
  return out;
}

bool is_sha256(DigestAlgorithm a) {
  return a == DigestAlgorithm::kSha256 || a == DigestAlgorithm::kSha256Sess;
}
bool is_sess(DigestAlgorithm a) {
  return a == DigestAlgorithm::kMd5Sess || a == DigestAlgorithm::kSha256Sess;
}

bool const_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// Skips spaces and tabs (and line folding, which sofia has already undone).
void skip_ws(std::string_view s, size_t& i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) ++i;
}

}  // namespace

const char* to_string(DigestAlgorithm a) {
  switch (a) {
    case DigestAlgorithm::kMd5:
      return "MD5";
    case DigestAlgorithm::kMd5Sess:
      return "MD5-sess";
    case DigestAlgorithm::kSha256:
      return "SHA-256";
    case DigestAlgorithm::kSha256Sess:
      return "SHA-256-sess";
  }
  return "MD5";
}

std::optional<DigestAlgorithm> parse_digest_algorithm(std::string_view s) {
  if (s.empty() || ascii_iequals(s, "MD5")) return DigestAlgorithm::kMd5;
  if (ascii_iequals(s, "MD5-sess")) return DigestAlgorithm::kMd5Sess;
  if (ascii_iequals(s, "SHA-256")) return DigestAlgorithm::kSha256;
  if (ascii_iequals(s, "SHA-256-sess")) return DigestAlgorithm::kSha256Sess;
  return std::nullopt;
}

std::optional<DigestCredentials> parse_digest_credentials(std::string_view h) {
  size_t i = 0;
  skip_ws(h, i);
  if (h.size() - i >= 6 && ascii_iequals(h.substr(i, 6), "Digest") &&
      (h.size() == i + 6 || h[i + 6] == ' ' || h[i + 6] == '\t')) {
    i += 6;
  } else if (h.find('=') == std::string_view::npos ||
             h.substr(i, h.find('=') - i).find(' ') != std::string_view::npos) {
    return std::nullopt;  // another scheme (Basic, Bearer ...)
  }
  DigestCredentials c;
  bool any = false;
  while (true) {
    skip_ws(h, i);
    if (i >= h.size()) break;
    const size_t name_start = i;
    while (i < h.size() && h[i] != '=' && h[i] != ',' && h[i] != ' ' && h[i] != '\t') ++i;
    const std::string_view name = h.substr(name_start, i - name_start);
    skip_ws(h, i);
    if (name.empty() || i >= h.size() || h[i] != '=') return std::nullopt;
    ++i;
    skip_ws(h, i);
    std::string value;
    if (i < h.size() && h[i] == '"') {
      ++i;
      bool closed = false;
      while (i < h.size()) {
        char ch = h[i++];
        if (ch == '\\' && i < h.size()) {
          value.push_back(h[i++]);
        } else if (ch == '"') {
          closed = true;
          break;
        } else {
          value.push_back(ch);
        }
      }
      if (!closed) return std::nullopt;
    } else {
      const size_t v0 = i;
      while (i < h.size() && h[i] != ',' && h[i] != ' ' && h[i] != '\t') ++i;
      value = std::string(h.substr(v0, i - v0));
    }
    if (value.size() > 1024) return std::nullopt;
    any = true;
    if (ascii_iequals(name, "username"))
      c.username = value;
    else if (ascii_iequals(name, "realm"))
      c.realm = value;
    else if (ascii_iequals(name, "nonce"))
      c.nonce = value;
    else if (ascii_iequals(name, "uri"))
      c.uri = value;
    else if (ascii_iequals(name, "response"))
      c.response = value;
    else if (ascii_iequals(name, "algorithm"))
      c.algorithm = value;
    else if (ascii_iequals(name, "cnonce"))
      c.cnonce = value;
    else if (ascii_iequals(name, "opaque"))
      c.opaque = value;
    else if (ascii_iequals(name, "qop"))
      c.qop = value;
    else if (ascii_iequals(name, "nc"))
      c.nc = value;
    else if (ascii_iequals(name, "userhash"))
      c.userhash = ascii_iequals(value, "true");
    skip_ws(h, i);
    if (i < h.size()) {
      if (h[i] != ',') return std::nullopt;
      ++i;
    }
  }
  if (!any) return std::nullopt;
  return c;
}

std::string digest_hash(DigestAlgorithm a, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const EVP_MD* type = is_sha256(a) ? EVP_sha256() : EVP_md5();
  if (EVP_Digest(data.data(), data.size(), md, &len, type, nullptr) != 1) {
    throw std::runtime_error("digest: hash failed");
  }
  return hex(md, len);
}

std::string digest_response(DigestAlgorithm a, std::string_view user, std::string_view realm,
                            std::string_view password, std::string_view method,
                            std::string_view uri, std::string_view nonce, std::string_view nc,
                            std::string_view cnonce, std::string_view qop) {
  auto cat = [](std::initializer_list<std::string_view> parts) {
    std::string s;
    bool first = true;
    for (auto p : parts) {
      if (!first) s.push_back(':');
      s.append(p);
      first = false;
    }
    return s;
  };
  std::string ha1 = digest_hash(a, cat({user, realm, password}));
  if (is_sess(a)) ha1 = digest_hash(a, cat({ha1, nonce, cnonce}));
  const std::string ha2 = digest_hash(a, cat({method, uri}));
  if (qop.empty()) return digest_hash(a, cat({ha1, nonce, ha2}));
  return digest_hash(a, cat({ha1, nonce, nc, cnonce, qop, ha2}));
}

DigestAuthenticator::DigestAuthenticator(std::string realm, std::vector<DigestAccount> accounts,
                                         std::chrono::seconds nonce_lifetime, std::string secret,
                                         size_t max_used_nonces,
                                         std::vector<DigestAlgorithm> offered)
    : realm_(std::move(realm)),
      accounts_(std::move(accounts)),
      offered_(std::move(offered)),
      lifetime_(nonce_lifetime),
      secret_(std::move(secret)),
      // The monotonic clock's own epoch, not this object's birth: nonces carry their time
      // as ms since it, so those handed out before a reload (a new authenticator with the
      // same secret) still read right after it.
      epoch_(MonoTime{}),
      max_used_(std::max<size_t>(1, max_used_nonces)) {
  if (secret_.empty()) {
    unsigned char b[32];
    if (RAND_bytes(b, sizeof b) != 1) throw std::runtime_error("digest: no random bytes");
    secret_.assign(reinterpret_cast<char*>(b), sizeof b);
  }
  opaque_ = digest_hash(DigestAlgorithm::kSha256, "opaque:" + secret_).substr(0, 16);
}

std::string DigestAuthenticator::make_nonce(const IpAddress& source, int64_t issued_ms) const {
  char t[17];
  snprintf(t, sizeof t, "%016llx", static_cast<unsigned long long>(issued_ms));
  std::string data(t, 16);
  data.push_back(source.v6 ? '6' : '4');
  data.append(reinterpret_cast<const char*>(source.bytes.data()), source.bytes.size());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  return std::string(t, 16) + hex(md, 16);
}

std::optional<int64_t> DigestAuthenticator::nonce_time(std::string_view nonce,
                                                       const IpAddress& source) const {
  if (nonce.size() != 48) return std::nullopt;
  int64_t issued = 0;
  for (size_t i = 0; i < 16; ++i) {
    const char ch = nonce[i];
    int v;
    if (ch >= '0' && ch <= '9')
      v = ch - '0';
    else if (ch >= 'a' && ch <= 'f')
      v = ch - 'a' + 10;
    else
      return std::nullopt;
    issued = issued * 16 + v;
  }
  if (!const_equal(make_nonce(source, issued), nonce)) return std::nullopt;
  return issued;
}

std::string DigestAuthenticator::challenge(const IpAddress& source, MonoTime now,
                                           DigestAlgorithm algorithm, bool stale) const {
  const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - epoch_).count();
  std::string out = "Digest realm=\"" + realm_ + "\", nonce=\"" + make_nonce(source, ms) +
                    "\", opaque=\"" + opaque_ + "\", algorithm=" + to_string(algorithm) +
                    ", qop=\"auth\"";
  if (stale) out += ", stale=true";
  return out;
}

std::vector<std::string> DigestAuthenticator::challenges(const IpAddress& source, MonoTime now,
                                                         bool stale) const {
  std::vector<std::string> out;
  for (auto a : offered_) out.push_back(challenge(source, now, a, stale));
  return out;
}

const DigestAccount* DigestAuthenticator::find_account(const DigestCredentials& c,
                                                       DigestAlgorithm a) const {
  for (const auto& acc : accounts_) {
    if (c.userhash ? const_equal(digest_hash(a, acc.user + ":" + realm_), c.username)
                   : const_equal(acc.user, c.username))
      return &acc;
  }
  return nullptr;
}

DigestResult DigestAuthenticator::check(const DigestCredentials& c, std::string_view method,
                                        const IpAddress& source, MonoTime now) {
  DigestResult r;
  auto alg = parse_digest_algorithm(c.algorithm);
  if (!alg) return r.why = "unsupported algorithm", r;
  const DigestAlgorithm base = is_sha256(*alg) ? DigestAlgorithm::kSha256 : DigestAlgorithm::kMd5;
  if (std::find(offered_.begin(), offered_.end(), base) == offered_.end())
    return r.why = "algorithm not offered", r;
  if (c.realm != realm_) return r.why = "another realm", r;
  if (c.username.empty() || c.response.empty() || c.nonce.empty())
    return r.why = "incomplete credentials", r;
  const bool qop = !c.qop.empty();
  if (qop && c.qop != "auth") return r.why = "unsupported qop", r;
  if (qop && (c.nc.size() != 8 || c.cnonce.empty())) return r.why = "qop without nc/cnonce", r;
  if (!qop && is_sess(*alg)) return r.why = "-sess without qop", r;
  uint64_t nc = 0;
  if (qop) {
    for (char ch : c.nc) {
      if (!std::isxdigit(static_cast<unsigned char>(ch))) return r.why = "bad nc", r;
      nc = nc * 16 +
           (std::isdigit(static_cast<unsigned char>(ch)) ? ch - '0' : std::tolower(ch) - 'a' + 10);
    }
    if (nc == 0) return r.why = "bad nc", r;
  }
  auto issued = nonce_time(c.nonce, source);
  if (!issued) return r.why = "not our nonce (or from another address)", r;
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now - epoch_).count();

  // The password check runs for unknown users too (against a made-up password), so that
  // the time taken does not tell whether the user exists.
  const DigestAccount* acc = find_account(c, *alg);
  static const std::string kNoPassword = "\x01no-such-account\x01";
  const std::string user = acc ? acc->user : c.username;
  const std::string expected =
      digest_response(*alg, user, realm_, acc ? acc->password : kNoPassword, method, c.uri, c.nonce,
                      c.nc, c.cnonce, c.qop);
  std::string response = c.response;
  for (auto& ch : response) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  const bool match = const_equal(expected, response) && acc;

  if (*issued > now_ms || now_ms - *issued > lifetime_.count() || *issued <= stale_floor_ms_) {
    // Expired: say stale only when the credentials were right (RFC 7616 3.3), else the
    // caller could not tell a wrong password from an old nonce anyway.
    r.kind = match ? DigestResult::kStale : DigestResult::kFailed;
    r.why = "nonce expired";
    return r;
  }
  if (!match) return r.why = "wrong user or password", r;

  // Replay check: the nonce's nc must grow; without qop a nonce is good once.
  auto it = used_.find(c.nonce);
  if (it != used_.end()) {
    if (!qop || nc <= it->second.nc) return r.why = "replayed nonce", r;
    it->second.nc = nc;
  } else {
    while (!used_order_.empty() &&
           (used_.size() >= max_used_ || now_ms - used_order_.front().first > lifetime_.count())) {
      auto old = used_.find(used_order_.front().second);
      if (old != used_.end()) {
        if (used_.size() >= max_used_)
          stale_floor_ms_ = std::max(stale_floor_ms_, old->second.issued_ms);
        used_.erase(old);
      }
      used_order_.pop_front();
    }
    if (*issued <= stale_floor_ms_) {
      r.kind = DigestResult::kStale;
      r.why = "nonce expired";
      return r;
    }
    used_.emplace(c.nonce, Used{qop ? nc : 0, *issued});
    used_order_.emplace_back(*issued, c.nonce);
  }
  r.kind = DigestResult::kOk;
  r.user = acc->user;
  r.why = "ok";
  return r;
}

}  // namespace atende::sip
