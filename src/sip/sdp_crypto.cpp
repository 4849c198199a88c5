#include "sip/sdp_crypto.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "sip/sdp_text.h"

namespace atende::sip {
namespace {

constexpr std::string_view kSuite80 = "AES_CM_128_HMAC_SHA1_80";
constexpr std::string_view kSuite32 = "AES_CM_128_HMAC_SHA1_32";
constexpr std::size_t kKeySaltBase64 = 40;  // 30 bytes, no padding
constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Exactly 40 base64 characters (30 bytes, a multiple of 3, so no padding).
bool decode_key_salt(std::string_view text, std::array<uint8_t, kCryptoKeySaltBytes>& out) {
  if (text.size() != kKeySaltBase64) return false;
  std::size_t o = 0;
  for (std::size_t i = 0; i < text.size(); i += 4) {
    uint32_t v = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const int d = base64_value(text[i + j]);
      if (d < 0) return false;
      v = v << 6 | static_cast<uint32_t>(d);
    }
    out[o++] = static_cast<uint8_t>(v >> 16);
    out[o++] = static_cast<uint8_t>(v >> 8);
    out[o++] = static_cast<uint8_t>(v);
  }
  return true;
}

std::string encode_key_salt(const std::array<uint8_t, kCryptoKeySaltBytes>& in) {
  std::string out;
  out.reserve(kKeySaltBase64);
  for (std::size_t i = 0; i < in.size(); i += 3) {
    const uint32_t v = uint32_t(in[i]) << 16 | uint32_t(in[i + 1]) << 8 | in[i + 2];
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(kBase64[(v >> shift) & 63]);
  }
  return out;
}

// "2^31" or "1073741824": any SRTP key lifetime (we re-key per call, so it never binds).
bool valid_lifetime(std::string_view s) {
  if (s.rfind("2^", 0) == 0) return sdp_text::parse_int(s.substr(2), 1, 64).has_value();
  return sdp_text::parse_int(s, 1, 9999999999LL).has_value();
}

CryptoParseResult result(CryptoParse status) { return CryptoParseResult{status, {}}; }

}  // namespace

CryptoAttribute::~CryptoAttribute() { OPENSSL_cleanse(key_salt.data(), key_salt.size()); }

const char* to_string(CryptoSuite suite) {
  return suite == CryptoSuite::kAesCm128HmacSha1_32 ? kSuite32.data() : kSuite80.data();
}

const char* to_string(SrtpPolicy p) {
  switch (p) {
    case SrtpPolicy::kOff:
      return "off";
    case SrtpPolicy::kRequired:
      return "required";
    case SrtpPolicy::kOptional:
      break;
  }
  return "optional";
}

std::optional<SrtpPolicy> parse_srtp_policy(std::string_view text) {
  if (text == "off") return SrtpPolicy::kOff;
  if (text == "optional") return SrtpPolicy::kOptional;
  if (text == "required") return SrtpPolicy::kRequired;
  return std::nullopt;
}

CryptoParseResult parse_crypto(std::string_view value) {
  // A real attribute is under 100 bytes; the SDP parser bounds lines at 1 KB anyway.
  if (value.size() > 512) return result(CryptoParse::kMalformed);
  std::string_view rest = value;
  const std::string_view tag_text = sdp_text::next_token(rest);
  const std::string_view suite_text = sdp_text::next_token(rest);
  const std::string_view key_params = sdp_text::next_token(rest);
  auto tag = sdp_text::parse_int(tag_text, 0, 999999999);
  if (!tag || tag_text.size() > 9 || suite_text.empty() || key_params.empty()) {
    return result(CryptoParse::kMalformed);
  }
  CryptoParseResult out;
  out.attribute.tag = static_cast<uint32_t>(*tag);
  if (suite_text == kSuite80) {
    out.attribute.suite = CryptoSuite::kAesCm128HmacSha1_80;
  } else if (suite_text == kSuite32) {
    out.attribute.suite = CryptoSuite::kAesCm128HmacSha1_32;
  } else {
    return result(CryptoParse::kUnsupported);  // AES_256_CM_..., F8, AEAD: not ours
  }
  // One key only: several (';'-separated) need MKIs, which we do not do.
  if (key_params.find(';') != std::string_view::npos) return result(CryptoParse::kUnsupported);
  constexpr std::string_view kInline = "inline:";
  if (key_params.rfind(kInline, 0) != 0) return result(CryptoParse::kMalformed);
  std::string_view info = key_params.substr(kInline.size());
  const std::size_t bar = info.find('|');
  const std::string_view key_text = info.substr(0, bar);
  if (!decode_key_salt(key_text, out.attribute.key_salt)) return result(CryptoParse::kMalformed);
  if (bar != std::string_view::npos) {
    std::string_view tail = info.substr(bar + 1);
    const std::size_t bar2 = tail.find('|');
    std::string_view first = tail.substr(0, bar2);
    std::string_view second =
        bar2 == std::string_view::npos ? std::string_view{} : tail.substr(bar2 + 1);
    if (second.find('|') != std::string_view::npos) return result(CryptoParse::kMalformed);
    // Either "|lifetime", "|MKI:len" or "|lifetime|MKI:len".
    const bool first_is_mki = first.find(':') != std::string_view::npos;
    if (first_is_mki && bar2 != std::string_view::npos) return result(CryptoParse::kMalformed);
    if (!first_is_mki && !valid_lifetime(first)) return result(CryptoParse::kMalformed);
    if (bar2 != std::string_view::npos && second.find(':') == std::string_view::npos) {
      return result(CryptoParse::kMalformed);
    }
    const std::string_view mki = first_is_mki ? first : second;
    if (!mki.empty()) {
      const std::size_t colon = mki.find(':');
      if (!sdp_text::parse_int(mki.substr(0, colon), 0, 9999999999LL) ||
          !sdp_text::parse_int(mki.substr(colon + 1), 1, 128)) {
        return result(CryptoParse::kMalformed);
      }
      return result(CryptoParse::kUnsupported);  // an MKI in every packet: not supported
    }
  }
  // Session parameters: the window size hint is harmless; anything that weakens SRTP
  // (UNENCRYPTED_SRTP, UNAUTHENTICATED_SRTP, ...), a key derivation rate or FEC ordering is
  // not something we do, so the attribute is not for us.
  int params = 0;
  for (std::string_view p = sdp_text::next_token(rest); !p.empty();
       p = sdp_text::next_token(rest)) {
    if (++params > 8) return result(CryptoParse::kMalformed);
    if (p.rfind("WSH=", 0) == 0) {
      if (!sdp_text::parse_int(p.substr(4), 64, 1 << 20)) return result(CryptoParse::kMalformed);
      continue;
    }
    if (p == "KDR=0") continue;
    return result(CryptoParse::kUnsupported);
  }
  out.status = CryptoParse::kOk;
  return out;
}

std::string format_crypto(const CryptoAttribute& a) {
  std::string key = encode_key_salt(a.key_salt);
  std::string out = std::to_string(a.tag) + " " + to_string(a.suite) + " inline:" + key;
  OPENSSL_cleanse(key.data(), key.size());
  return out;
}

std::optional<CryptoAttribute> make_crypto(uint32_t tag, CryptoSuite suite) {
  CryptoAttribute a;
  a.tag = tag;
  a.suite = suite;
  if (RAND_bytes(a.key_salt.data(), static_cast<int>(a.key_salt.size())) != 1) return std::nullopt;
  return a;
}

}  // namespace atende::sip
