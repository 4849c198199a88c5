// Webhook signing: HMAC-SHA256 (OpenSSL libcrypto) over "<timestamp>.<body>", sent as
// `X-Atende-Signature: sha256=<hex>` next to `X-Atende-Timestamp: <timestamp>`. A receiver
// recomputes it with the shared secret, compares in constant time and rejects timestamps
// older than a few minutes, so a captured request cannot be replayed later (docs/api.md).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace atende::hooks {

// Lower-case hex of HMAC-SHA256(key, data).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// The X-Atende-Signature value: "sha256=" + hmac_sha256_hex(secret, timestamp + "." + body).
std::string webhook_signature(std::string_view secret, int64_t unix_seconds, std::string_view body);

// A random RFC 4122 version 4 UUID ("3f2c...-4...-...") from OpenSSL's CSPRNG.
std::string random_uuid();

}  // namespace atende::hooks
