// SDES (RFC 4568): the a=crypto attribute that carries SRTP master keys in SDP.
//   a=crypto:<tag> <suite> inline:<base64 key||salt>[|<lifetime>][|<MKI>:<length>] [<params>]
// We speak AES_CM_128_HMAC_SHA1_80 and AES_CM_128_HMAC_SHA1_32 with one key per attribute
// and no MKI. The attribute is hostile input: parse_crypto() bounds every field, decodes
// the key itself and never echoes the text (a key must not reach a log). Attributes we
// cannot use (another suite, an MKI, session parameters that weaken SRTP, a key derivation
// rate) are "unsupported" and skipped; the offer may carry another one we can use.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace atende::sip {

enum class CryptoSuite { kAesCm128HmacSha1_80, kAesCm128HmacSha1_32 };

// What is done to media for a listener or a trunk (docs/security.md "TLS and SRTP").
//   off:      plain RTP only; an RTP/SAVP offer is refused (488), a=crypto on RTP/AVP ignored
//   optional: SRTP when the peer offers a key we can use (RTP/SAVP, or RTP/AVP with
//             a=crypto: "best effort" / RFC 8643 opportunistic SRTP), plain RTP otherwise
//   required: SRTP only; an offer without a usable a=crypto gets 488
enum class SrtpPolicy { kOff, kOptional, kRequired };
const char* to_string(SrtpPolicy p);
std::optional<SrtpPolicy> parse_srtp_policy(std::string_view text);

constexpr std::size_t kCryptoKeySaltBytes = 30;  // 128-bit key + 112-bit salt

struct CryptoAttribute {
  uint32_t tag = 1;  // 1..999999999, unique within the media section
  CryptoSuite suite = CryptoSuite::kAesCm128HmacSha1_80;
  std::array<uint8_t, kCryptoKeySaltBytes> key_salt{};

  CryptoAttribute() = default;
  CryptoAttribute(const CryptoAttribute&) = default;
  CryptoAttribute& operator=(const CryptoAttribute&) = default;
  ~CryptoAttribute();  // wipes the key
  bool operator==(const CryptoAttribute& o) const {
    return tag == o.tag && suite == o.suite && key_salt == o.key_salt;
  }
};

enum class CryptoParse { kOk, kUnsupported, kMalformed };

struct CryptoParseResult {
  CryptoParse status = CryptoParse::kMalformed;
  CryptoAttribute attribute;  // valid when status is kOk
};

// `value` is what follows "a=crypto:".
CryptoParseResult parse_crypto(std::string_view value);

// The attribute's value (without "a=crypto:"): "1 AES_CM_128_HMAC_SHA1_80 inline:...".
std::string format_crypto(const CryptoAttribute& attribute);

// A fresh attribute with a key from OpenSSL's CSPRNG (RAND_bytes); nullopt if it fails.
std::optional<CryptoAttribute> make_crypto(uint32_t tag, CryptoSuite suite);

const char* to_string(CryptoSuite suite);

}  // namespace atende::sip
