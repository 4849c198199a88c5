#include "asp/asp_credentials.h"

#include "core/ascii.h"

namespace atende::asp {

namespace {

constexpr size_t kMaxHeaderBytes = 4096;
constexpr size_t kMaxTokenText = 1024;  // base64url of a token far longer than any we issue

int base64url_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

}  // namespace

bool decode_base64url(std::string_view text, std::string& out) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return false;  // no whole byte ends there
  out.clear();
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int v = base64url_value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return true;
}

OfferedSubprotocols parse_subprotocols(const std::string* header) {
  OfferedSubprotocols o;
  if (!header) return o;
  o.present = true;
  std::string_view rest(*header);
  if (rest.size() > kMaxHeaderBytes) {
    o.malformed = true;
    return o;
  }
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view item = trim_blanks(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (item == kSubprotocol) {
      o.asp = true;
    } else if (ascii_istarts_with(item, "bearer.")) {
      const std::string_view b64 = item.substr(7);
      std::string token;
      if (o.bearer || b64.empty() || b64.size() > kMaxTokenText || !decode_base64url(b64, token)) {
        o.malformed = true;  // two tokens, or one we cannot read: refused, never guessed
      } else {
        o.bearer = std::move(token);
      }
    }
  }
  return o;
}

}  // namespace atende::asp
