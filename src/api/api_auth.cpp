#include "api/api_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <stdexcept>

#include "core/ascii.h"
#include "core/config_api_tokens.h"

namespace atende::api {

namespace {

std::array<unsigned char, 32> sha256(std::string_view data) {
  std::array<unsigned char, 32> out{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1 ||
      len != out.size()) {
    throw std::runtime_error("api auth: SHA-256 unavailable");
  }
  return out;
}

}  // namespace

ApiAuth ApiAuth::from_config(const Config& cfg) {
  ApiAuth auth;
  // Reads carry personal data (transcripts): once there are tokens, reads need one too,
  // unless the operator opts out. Without tokens nobody could read, so reads stay open.
  auth.read_requires_token_ = cfg.api_read_requires_token && !cfg.api_tokens.empty();
  for (const ApiTokenConfig& t : cfg.api_tokens) {
    try {
      auth.add(t);
    } catch (const std::invalid_argument& e) {
      throw ConfigError("api_tokens: '" + t.name + "': " + e.what());
    }
  }
  return auth;
}

void ApiAuth::add(const ApiTokenConfig& t) {
  // The config loader refuses these already; this guards ApiAuth built any other way.
  if (t.token.size() < kMinApiTokenLength) {
    throw std::invalid_argument("token: too short to be safe (at least " +
                                std::to_string(kMinApiTokenLength) + " characters)");
  }
  Token token;
  token.name = t.name;
  token.digest = sha256(t.token);
  token.allow = NumberAllowList::compile(t.allow);
  token.rate_per_minute = t.rate_per_minute;
  token.burst = t.burst;
  tokens_.push_back(std::move(token));
}

const ApiAuth::Token* ApiAuth::find_secret(std::string_view secret) const {
  const auto digest = sha256(secret);
  const Token* found = nullptr;
  // Compare against every token, never stopping early, so the time does not depend on
  // which (if any) matched.
  for (const Token& t : tokens_) {
    const bool same = CRYPTO_memcmp(digest.data(), t.digest.data(), digest.size()) == 0;
    if (same) found = &t;
  }
  return found;
}

const ApiAuth::Token* ApiAuth::find_name(std::string_view name) const {
  for (const Token& t : tokens_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const ApiAuth::Token* ApiAuth::authenticate(const std::string* authorization) const {
  if (!authorization) return nullptr;
  const std::string_view value = trim_blanks(*authorization);
  const size_t space = value.find_first_of(" \t");
  if (space == std::string_view::npos || !ascii_iequals(value.substr(0, space), "bearer")) {
    return nullptr;
  }
  const std::string_view secret = trim_blanks(value.substr(space + 1));
  if (secret.empty()) return nullptr;
  return find_secret(secret);
}

}  // namespace atende::api
