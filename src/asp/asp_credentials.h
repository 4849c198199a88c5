// Where a /asp upgrade carries its API token (docs/asp.md "Connecting"): the Authorization
// header (media servers), or, for browsers, which cannot set headers on a WebSocket, the
// subprotocol list: `new WebSocket(url, ["atende-asp", "bearer." + base64url(token)])`.
// The server then answers `Sec-WebSocket-Protocol: atende-asp` (never the bearer entry).
// Pure parsing of untrusted header text: bounded, no allocation beyond the token.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace atende::asp {

inline constexpr std::string_view kSubprotocol = "atende-asp";

struct OfferedSubprotocols {
  bool present = false;               // the header was sent
  bool asp = false;                   // "atende-asp" is among them
  std::optional<std::string> bearer;  // the decoded "bearer.<base64url>" entry
  bool malformed = false;             // a bearer entry that is not base64url, or too long
};

// Sec-WebSocket-Protocol: comma-separated tokens (RFC 6455 4.1); nullptr: not sent.
OfferedSubprotocols parse_subprotocols(const std::string* header);

// RFC 4648 section 5 without padding (trailing '=' is tolerated); false on anything else.
bool decode_base64url(std::string_view text, std::string& out);

}  // namespace atende::asp
