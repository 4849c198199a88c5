// RFC 3711 with OpenSSL. Section numbers below are RFC 3711's.
// The SHA-1 block functions (SHA1_Init/Update/Final) are deprecated in OpenSSL 3 but are the
// only way to precompute HMAC's padded key states without a heap copy per packet.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "rtp/srtp_session.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <span>

namespace atende::rtp {
namespace {

constexpr std::size_t kRtcpTag = 10;        // SRTCP: HMAC-SHA1-80 for both suites
constexpr std::size_t kRtcpIndexBytes = 4;  // E flag + 31-bit SRTCP index
constexpr uint32_t kMaxRtcpIndex = 0x7fffffff;
constexpr uint64_t kWindow = 128;  // replay window, packets

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
void put_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

// HMAC-SHA1 (RFC 2104) with the key's inner and outer pad states hashed once.
struct Hmac {
  SHA_CTX inner{}, outer{};

  void init(const uint8_t* key, std::size_t len) {
    uint8_t pad[64] = {};
    std::copy(key, key + len, pad);  // len <= 20 < the 64-byte block
    for (auto& b : pad) b ^= 0x36;
    SHA1_Init(&inner);
    SHA1_Update(&inner, pad, sizeof pad);
    for (auto& b : pad) b ^= 0x36 ^ 0x5c;
    SHA1_Init(&outer);
    SHA1_Update(&outer, pad, sizeof pad);
    OPENSSL_cleanse(pad, sizeof pad);
  }
  // HMAC(a || b) into out[20].
  void mac(const uint8_t* a, std::size_t an, const uint8_t* b, std::size_t bn,
           uint8_t out[SHA_DIGEST_LENGTH]) const {
    SHA_CTX c = inner;
    SHA1_Update(&c, a, an);
    if (bn) SHA1_Update(&c, b, bn);
    uint8_t digest[SHA_DIGEST_LENGTH];
    SHA1_Final(digest, &c);
    c = outer;
    SHA1_Update(&c, digest, sizeof digest);
    SHA1_Final(out, &c);
  }
  ~Hmac() {
    OPENSSL_cleanse(&inner, sizeof inner);
    OPENSSL_cleanse(&outer, sizeof outer);
  }
};

// 3.3.2: a sliding window of 128 indices below the highest one accepted.
struct ReplayWindow {
  bool any = false;
  uint64_t highest = 0;
  uint64_t bits[2] = {0, 0};  // bit n (of 128): highest - n was accepted

  bool fresh(uint64_t index) const {
    if (!any || index > highest) return true;
    const uint64_t back = highest - index;
    if (back >= kWindow) return false;
    return !(bits[back / 64] >> (back % 64) & 1);
  }
  void accept(uint64_t index) {
    if (!any) {
      any = true;
      highest = index;
      bits[0] = 1;
      bits[1] = 0;
      return;
    }
    if (index > highest) {
      const uint64_t shift = index - highest;
      if (shift >= 128) {
        bits[0] = bits[1] = 0;
      } else if (shift >= 64) {
        bits[1] = bits[0] << (shift - 64);
        bits[0] = 0;
      } else {
        bits[1] = bits[1] << shift | bits[0] >> (64 - shift);
        bits[0] <<= shift;
      }
      bits[0] |= 1;
      highest = index;
      return;
    }
    const uint64_t back = highest - index;
    bits[back / 64] |= uint64_t{1} << (back % 64);
  }
};

// One SSRC's SRTP and SRTCP counters.
struct Stream {
  bool used = false;
  uint32_t ssrc = 0;
  uint32_t roc = 0;          // rollover counter
  bool rtp_started = false;  // an RTP packet went (outbound) or was accepted (inbound)
  uint16_t s_l = 0;          // highest sequence number seen (with roc)
  ReplayWindow rtp;          // over the 48-bit packet index
  ReplayWindow rtcp;         // over the 31-bit SRTCP index (inbound)
  uint32_t rtcp_next = 0;    // outbound: the next SRTCP index
  uint64_t last_use = 0;
};

// Appendix A: the rollover counter `v` a sequence number belongs to, from the stream's
// highest one. -1: before the stream began (ROC 0 going backwards): too old.
int64_t estimate_roc(const Stream& s, uint16_t seq) {
  const int64_t roc = s.roc;
  if (!s.rtp_started) return roc;  // SDES: a stream's index starts at its first packet
  // Near the very start nothing can be from a previous roll-over (libsrtp does the same).
  if (roc == 0 && s.s_l <= 32768) return 0;
  if (s.s_l < 32768) {
    if (seq > s.s_l && seq - s.s_l > 32768) return roc - 1;
    return roc;
  }
  if (s.s_l - 32768 > seq) return roc + 1;
  return roc;
}

uint64_t index_of(int64_t roc, uint16_t seq) {
  return (uint64_t(roc) << 16 | seq) & 0xffffffffffffULL;
}

void advance(Stream& s, int64_t v, uint16_t seq) {
  if (!s.rtp_started) {
    s.rtp_started = true;
    s.roc = static_cast<uint32_t>(v);
    s.s_l = seq;
  } else if (v == int64_t(s.roc) + 1) {
    s.roc = static_cast<uint32_t>(v);
    s.s_l = seq;
  } else if (v == s.roc && seq > s.s_l) {
    s.s_l = seq;
  }
}

// Where the RTP payload starts (after CSRCs and any header extension); 0 when the header
// does not fit in `len` bytes.
std::size_t rtp_header_size(const uint8_t* buf, std::size_t len) {
  if (len < 12 || (buf[0] >> 6) != 2) return 0;
  std::size_t n = 12 + 4 * std::size_t(buf[0] & 0x0f);
  if (buf[0] & 0x10) {
    if (n + 4 > len) return 0;
    n += 4 + 4 * std::size_t(be16(buf + n + 2));
  }
  return n <= len ? n : 0;
}

}  // namespace

// The keys of one direction (4.3: derived from the master key and salt, kdr 0) and what
// it has sent or seen.
struct SrtpSession::Direction {
  EVP_CIPHER_CTX* rtp_cipher = nullptr;   // AES-128-CTR, SRTP session key
  EVP_CIPHER_CTX* rtcp_cipher = nullptr;  // AES-128-CTR, SRTCP session key
  uint8_t rtp_salt[kSrtpMasterSaltBytes] = {};
  uint8_t rtcp_salt[kSrtpMasterSaltBytes] = {};
  Hmac rtp_auth, rtcp_auth;
  std::array<Stream, kMaxRemoteStreams> streams{};  // outbound: only [0]
  uint64_t clock = 0;

  ~Direction() {
    EVP_CIPHER_CTX_free(rtp_cipher);  // cleanses the key schedule
    EVP_CIPHER_CTX_free(rtcp_cipher);
    OPENSSL_cleanse(rtp_salt, sizeof rtp_salt);
    OPENSSL_cleanse(rtcp_salt, sizeof rtcp_salt);
  }

  // 4.3.1: AES-CM PRF with IV = (master salt XOR label at byte 7) || 0x0000.
  static bool derive(const SrtpKey& master, uint8_t label, uint8_t* out, std::size_t n) {
    uint8_t iv[16] = {};
    std::copy(master.bytes.begin() + kSrtpMasterKeyBytes, master.bytes.end(), iv);
    iv[7] ^= label;
    EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
    uint8_t zeros[32] = {};
    int outl = 0;
    const bool ok = c &&
                    EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), nullptr, master.bytes.data(), iv) &&
                    EVP_EncryptUpdate(c, out, &outl, zeros, static_cast<int>(n)) && outl == int(n);
    EVP_CIPHER_CTX_free(c);
    return ok;
  }

  bool init(const SrtpKey& master) {
    uint8_t key[16], auth[20];
    bool ok = true;
    for (int rtcp = 0; rtcp < 2 && ok; ++rtcp) {
      const uint8_t base = rtcp ? 3 : 0;  // labels 0-2 SRTP, 3-5 SRTCP
      EVP_CIPHER_CTX*& cipher = rtcp ? rtcp_cipher : rtp_cipher;
      ok = derive(master, base, key, sizeof key) && derive(master, base + 1, auth, sizeof auth) &&
           derive(master, base + 2, rtcp ? rtcp_salt : rtp_salt, kSrtpMasterSaltBytes);
      if (!ok) break;
      (rtcp ? rtcp_auth : rtp_auth).init(auth, sizeof auth);
      uint8_t iv[16] = {};
      cipher = EVP_CIPHER_CTX_new();
      ok = cipher && EVP_EncryptInit_ex(cipher, EVP_aes_128_ctr(), nullptr, key, iv);
    }
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(auth, sizeof auth);
    return ok;
  }

  // 4.1.1: IV = (salt * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16); then the keystream
  // XORed over `data` in place.
  static bool crypt(EVP_CIPHER_CTX* cipher, const uint8_t* salt, uint32_t ssrc, uint64_t index,
                    uint8_t* data, std::size_t n) {
    uint8_t iv[16] = {};
    std::copy(salt, salt + kSrtpMasterSaltBytes, iv);
    for (int i = 0; i < 4; ++i) iv[4 + i] ^= static_cast<uint8_t>(ssrc >> (24 - 8 * i));
    for (int i = 0; i < 6; ++i) iv[8 + i] ^= static_cast<uint8_t>(index >> (40 - 8 * i));
    int outl = 0;
    if (!EVP_EncryptInit_ex(cipher, nullptr, nullptr, nullptr, iv)) return false;
    return n == 0 || (EVP_EncryptUpdate(cipher, data, &outl, data, static_cast<int>(n)) &&
                      outl == static_cast<int>(n));
  }

  // The stream of `ssrc`, or nullptr (then `slot` is where a new one would go: a free slot or
  // the least recently used).
  Stream* find(uint32_t ssrc, std::size_t& slot) {
    slot = 0;
    for (std::size_t i = 0; i < streams.size(); ++i) {
      if (streams[i].used && streams[i].ssrc == ssrc) {
        slot = i;
        return &streams[i];
      }
      const bool better = !streams[i].used
                              ? streams[slot].used || i < slot
                              : streams[slot].used && streams[i].last_use < streams[slot].last_use;
      if (better) slot = i;
    }
    return nullptr;
  }
};

SrtpKey::~SrtpKey() { OPENSSL_cleanse(bytes.data(), bytes.size()); }

const char* to_string(SrtpSuite suite) {
  return suite == SrtpSuite::kAesCm128HmacSha1_32 ? "AES_CM_128_HMAC_SHA1_32"
                                                  : "AES_CM_128_HMAC_SHA1_80";
}

SrtpSession::SrtpSession() = default;
SrtpSession::~SrtpSession() = default;

std::unique_ptr<SrtpSession> SrtpSession::create(const SrtpParams& params, std::string* error) {
  std::unique_ptr<SrtpSession> s(new SrtpSession());
  s->suite_ = params.suite;
  s->rtp_tag_ = params.suite == SrtpSuite::kAesCm128HmacSha1_32 ? 4 : 10;
  s->out_ = std::make_unique<Direction>();
  s->in_ = std::make_unique<Direction>();
  if (!s->out_->init(params.local) || !s->in_->init(params.remote)) {
    if (error) *error = "OpenSSL could not set up the SRTP keys";
    return nullptr;
  }
  return s;
}

SrtpStatus SrtpSession::protect_rtp(uint8_t* buf, std::size_t& len, std::size_t capacity) {
  const std::size_t header = rtp_header_size(buf, len);
  if (!header || len > 0xffff || capacity < len + kSrtpMaxTrailer) return SrtpStatus::kMalformed;
  const uint16_t seq = be16(buf + 2);
  const uint32_t ssrc = be32(buf + 8);
  Stream& s = out_->streams[0];
  if (!s.used || s.ssrc != ssrc) {  // our (first or new) stream: index from its first packet
    s = Stream{};
    s.used = true;
    s.ssrc = ssrc;
  }
  const int64_t v = estimate_roc(s, seq);
  if (v < 0 || v > 0xffffffffLL) return SrtpStatus::kReplay;
  const uint64_t index = index_of(v, seq);
  // Sending an index twice would reuse its keystream: never.
  if (!s.rtp.fresh(index)) return SrtpStatus::kReplay;
  if (!Direction::crypt(out_->rtp_cipher, out_->rtp_salt, ssrc, index, buf + header,
                        len - header)) {
    return SrtpStatus::kError;
  }
  uint8_t roc[4], tag[SHA_DIGEST_LENGTH];
  put_be32(roc, static_cast<uint32_t>(v));
  out_->rtp_auth.mac(buf, len, roc, sizeof roc, tag);  // 4.2: header, payload, ROC
  std::copy(tag, tag + rtp_tag_, buf + len);
  len += rtp_tag_;
  s.rtp.accept(index);
  advance(s, v, seq);
  return SrtpStatus::kOk;
}

SrtpStatus SrtpSession::unprotect_rtp(uint8_t* buf, std::size_t& len) {
  if (len < 12 + rtp_tag_ || len > 0xffff) return SrtpStatus::kMalformed;
  const std::size_t body = len - rtp_tag_;
  const std::size_t header = rtp_header_size(buf, body);
  if (!header) return SrtpStatus::kMalformed;
  const uint16_t seq = be16(buf + 2);
  const uint32_t ssrc = be32(buf + 8);
  std::size_t slot = 0;
  Stream* known = in_->find(ssrc, slot);
  Stream fresh;  // a new SSRC: its index starts at its first packet (ROC 0)
  if (!known) {
    fresh.used = true;
    fresh.ssrc = ssrc;
  }
  Stream& s = known ? *known : fresh;
  const int64_t v = estimate_roc(s, seq);
  if (v < 0 || v > 0xffffffffLL) return SrtpStatus::kReplay;
  const uint64_t index = index_of(v, seq);
  if (!s.rtp.fresh(index)) return SrtpStatus::kReplay;
  uint8_t roc[4], tag[SHA_DIGEST_LENGTH];
  put_be32(roc, static_cast<uint32_t>(v));
  in_->rtp_auth.mac(buf, body, roc, sizeof roc, tag);
  if (CRYPTO_memcmp(tag, buf + body, rtp_tag_) != 0) return SrtpStatus::kAuthFailed;
  if (!Direction::crypt(in_->rtp_cipher, in_->rtp_salt, ssrc, index, buf + header, body - header)) {
    return SrtpStatus::kError;
  }
  if (!known) in_->streams[slot] = fresh;
  Stream& kept = in_->streams[slot];
  kept.rtp.accept(index);
  advance(kept, v, seq);
  kept.last_use = ++in_->clock;
  len = body;
  return SrtpStatus::kOk;
}

SrtpStatus SrtpSession::protect_rtcp(uint8_t* buf, std::size_t& len, std::size_t capacity) {
  if (len < 8 || len > 0xffff || (buf[0] >> 6) != 2 || capacity < len + kSrtpMaxTrailer) {
    return SrtpStatus::kMalformed;
  }
  const uint32_t ssrc = be32(buf + 4);
  Stream& s = out_->streams[0];
  if (!s.used || s.ssrc != ssrc) {  // RTCP before any RTP (a receiver report)
    s = Stream{};
    s.used = true;
    s.ssrc = ssrc;
  }
  if (s.rtcp_next > kMaxRtcpIndex) return SrtpStatus::kError;  // 2^31 reports: re-key first
  const uint32_t index = s.rtcp_next;
  // 3.4: everything after the first 8 bytes (header and sender SSRC) is encrypted.
  if (!Direction::crypt(out_->rtcp_cipher, out_->rtcp_salt, ssrc, index, buf + 8, len - 8)) {
    return SrtpStatus::kError;
  }
  put_be32(buf + len, 0x80000000u | index);  // E flag: encrypted
  len += kRtcpIndexBytes;
  uint8_t tag[SHA_DIGEST_LENGTH];
  out_->rtcp_auth.mac(buf, len, nullptr, 0, tag);
  std::copy(tag, tag + kRtcpTag, buf + len);
  len += kRtcpTag;
  ++s.rtcp_next;
  return SrtpStatus::kOk;
}

SrtpStatus SrtpSession::unprotect_rtcp(uint8_t* buf, std::size_t& len) {
  if (len < 8 + kRtcpIndexBytes + kRtcpTag || len > 0xffff || (buf[0] >> 6) != 2) {
    return SrtpStatus::kMalformed;
  }
  const std::size_t authenticated = len - kRtcpTag;
  uint8_t tag[SHA_DIGEST_LENGTH];
  in_->rtcp_auth.mac(buf, authenticated, nullptr, 0, tag);
  if (CRYPTO_memcmp(tag, buf + authenticated, kRtcpTag) != 0) return SrtpStatus::kAuthFailed;
  const std::size_t body = authenticated - kRtcpIndexBytes;
  const uint32_t e_index = be32(buf + body);
  const uint32_t index = e_index & kMaxRtcpIndex;
  const uint32_t ssrc = be32(buf + 4);
  std::size_t slot = 0;
  Stream* known = in_->find(ssrc, slot);
  if (known && !known->rtcp.fresh(index)) return SrtpStatus::kReplay;
  if ((e_index & 0x80000000u) &&
      !Direction::crypt(in_->rtcp_cipher, in_->rtcp_salt, ssrc, index, buf + 8, body - 8)) {
    return SrtpStatus::kError;
  }
  if (!known) {  // no RTP from it yet: its RTP index starts with its first RTP packet
    in_->streams[slot] = Stream{};
    in_->streams[slot].used = true;
    in_->streams[slot].ssrc = ssrc;
  }
  Stream& kept = in_->streams[slot];
  kept.rtcp.accept(index);
  kept.last_use = ++in_->clock;
  len = body;
  return SrtpStatus::kOk;
}

}  // namespace atende::rtp
