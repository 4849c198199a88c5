// SRTP and SRTCP (RFC 3711) for one RTP leg: AES-128 counter mode and HMAC-SHA1 (80- or
// 32-bit tag on SRTP, 80 on SRTCP), keys from SDES (RFC 4568, sip/sdp_crypto.h), key
// derivation rate 0, no MKI. Our stream is protected with our master key; the peer's
// streams (up to kMaxRemoteStreams SSRCs at once) are checked and decrypted with theirs.
//
// Why not libsrtp2 here: Debian 12's libsrtp2 is built on NSS, which makes a new PKCS#11
// context for every packet: 14 heap allocations and about 6 us per packet, an SRTP call
// costing about twice a plain one. This transform uses OpenSSL (AES-NI through EVP, HMAC
// from precomputed SHA-1 pads), about 0.7 us per packet and no allocation after create().
// libsrtp2 stays as the reference: the unit tests and the fuzzer check that each side
// decrypts the other's packets bit for bit (tests/unit/test_rtp_srtp_session.cpp).
//
// Packets are protected and unprotected in place in the caller's buffer. The replay window
// is 128 packets (RFC 3711 3.3.2): a packet seen before, or older than the window, is
// refused, as is any packet whose tag does not verify (checked in constant time before
// anything is decrypted or any state changes). One session belongs to one thread at a time
// (the leg's media worker).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace atende::rtp {

// The SDES suites we speak.
enum class SrtpSuite { kAesCm128HmacSha1_80, kAesCm128HmacSha1_32 };

constexpr std::size_t kSrtpMasterKeyBytes = 16;
constexpr std::size_t kSrtpMasterSaltBytes = 14;
constexpr std::size_t kSrtpKeySaltBytes = kSrtpMasterKeyBytes + kSrtpMasterSaltBytes;  // 30
// Room a buffer needs after the packet for protect_rtp()/protect_rtcp(): 10 bytes of tag
// on SRTP, 4 of SRTCP index and 10 of tag on SRTCP; rounded up (libsrtp asks for 148).
constexpr std::size_t kSrtpMaxTrailer = 16 + 128 + 4;
constexpr std::size_t kMaxRemoteStreams = 4;

// Master key || master salt, wiped when destroyed.
struct SrtpKey {
  std::array<uint8_t, kSrtpKeySaltBytes> bytes{};
  SrtpKey() = default;
  SrtpKey(const SrtpKey&) = default;
  SrtpKey& operator=(const SrtpKey&) = default;
  ~SrtpKey();
  bool operator==(const SrtpKey& o) const { return bytes == o.bytes; }
};

struct SrtpParams {
  SrtpSuite suite = SrtpSuite::kAesCm128HmacSha1_80;  // what both directions use
  SrtpKey local;                                      // protects what we send
  SrtpKey remote;                                     // checks and decrypts what the peer sends
};

// Why a packet was refused.
enum class SrtpStatus { kOk, kAuthFailed, kReplay, kMalformed, kError };

class SrtpSession {
 public:
  // nullptr (and `error` set, never with key material) if OpenSSL cannot set up the keys.
  static std::unique_ptr<SrtpSession> create(const SrtpParams& params, std::string* error);
  ~SrtpSession();
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;

  // `len` bytes of RTP (or RTCP) at `buf`, which has room for `capacity` bytes (>= len +
  // kSrtpMaxTrailer for the protect calls). On kOk `len` is the new length; on anything
  // else the buffer may hold garbage and the session state is as before.
  SrtpStatus protect_rtp(uint8_t* buf, std::size_t& len, std::size_t capacity);
  SrtpStatus unprotect_rtp(uint8_t* buf, std::size_t& len);
  SrtpStatus protect_rtcp(uint8_t* buf, std::size_t& len, std::size_t capacity);
  SrtpStatus unprotect_rtcp(uint8_t* buf, std::size_t& len);

  SrtpSuite suite() const { return suite_; }

  struct Direction;  // keys and cipher state of one direction (srtp_session.cpp)

 private:
  SrtpSession();
  SrtpSuite suite_ = SrtpSuite::kAesCm128HmacSha1_80;
  std::size_t rtp_tag_ = 10;
  std::unique_ptr<Direction> out_, in_;
};

// "AES_CM_128_HMAC_SHA1_80" / "_32".
const char* to_string(SrtpSuite suite);

}  // namespace atende::rtp
