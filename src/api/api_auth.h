// The REST API's clients: each token's name, a digest of its secret, its dial allow-list
// and its rate. Built once at start-up from Config::api_tokens and read-only after, so any
// thread may use it.
//
//   atende::api::ApiAuth auth = atende::api::ApiAuth::from_config(cfg);  // throws ConfigError
//   const ApiAuth::Token* t = auth.authenticate(request.header("Authorization"));
//
// Secrets are kept only as SHA-256 digests and compared with CRYPTO_memcmp over the fixed
// 32 bytes, so neither the content nor the length of a guess shows in the reply time.
#pragma once
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "api/number_allow_list.h"
#include "core/config.h"

namespace atende::api {

class ApiAuth {
 public:
  struct Token {
    std::string name;
    std::array<unsigned char, 32> digest{};
    NumberAllowList allow;
    int rate_per_minute = 60;
    int burst = 10;
  };

  ApiAuth() = default;  // no tokens: every request that needs one gets 401

  // Compiles every token's allow-list; throws ConfigError naming the token and the pattern.
  static ApiAuth from_config(const Config& cfg);
  // Throws std::invalid_argument on a token under 16 characters or a bad allow pattern
  // (tests build ApiAuth this way).
  void add(const ApiTokenConfig& token);
  void set_read_requires_token(bool v) { read_requires_token_ = v; }

  // The token an "Authorization: Bearer <secret>" header carries; nullptr when the header
  // is absent, not Bearer, or no token has that secret.
  const Token* authenticate(const std::string* authorization) const;
  const Token* find_secret(std::string_view secret) const;
  const Token* find_name(std::string_view name) const;

  bool read_requires_token() const { return read_requires_token_; }
  const std::vector<Token>& tokens() const { return tokens_; }

 private:
  std::vector<Token> tokens_;
  bool read_requires_token_ = false;
};

}  // namespace atende::api
