#include "hooks/signature.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <atomic>
#include <random>
#include <stdexcept>

namespace atende::hooks {
namespace {

std::string to_hex(const unsigned char* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 15];
  }
  return out;
}

}  // namespace

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // An empty key is legal HMAC; OpenSSL wants a non-null pointer for it.
  static const unsigned char kEmpty = 0;
  const void* k = key.empty() ? &kEmpty : static_cast<const void*>(key.data());
  const auto* d = reinterpret_cast<const unsigned char*>(data.empty() ? "" : data.data());
  if (HMAC(EVP_sha256(), k, static_cast<int>(key.size()), d, data.size(), md, &len) == nullptr) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  return to_hex(md, len);
}

std::string webhook_signature(std::string_view secret, int64_t unix_seconds,
                              std::string_view body) {
  std::string signed_text = std::to_string(unix_seconds);
  signed_text += '.';
  signed_text += body;
  return "sha256=" + hmac_sha256_hex(secret, signed_text);
}

std::string random_uuid() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) {
    // Uniqueness, not secrecy, is what matters here: fall back to a seeded PRNG.
    static std::atomic<uint64_t> counter{std::random_device{}()};
    std::mt19937_64 rng(counter.fetch_add(0x9e3779b97f4a7c15ULL));
    for (auto& x : b) x = static_cast<unsigned char>(rng());
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  const std::string h = to_hex(b, sizeof b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

}  // namespace atende::hooks
