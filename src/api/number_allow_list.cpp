#include "api/number_allow_list.h"

#include <stdexcept>

namespace atende::api {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Formatting people put in phone numbers; never significant for dialling.
bool is_separator(char c) { return c == ' ' || c == '-' || c == '(' || c == ')' || c == '.'; }

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// "SIP:x" -> "sip:x": the scheme is case-insensitive (RFC 3261 19.1.4), the rest is not.
std::optional<std::string> normalize_uri(std::string_view raw, std::string& error) {
  for (const char c : raw) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) {
      error = "a SIP URI must be printable ASCII without spaces";
      return std::nullopt;
    }
  }
  const size_t colon = raw.find(':');
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < colon; ++i) {
    const char c = raw[i];
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  out.append(raw.substr(colon));
  if (out.size() <= colon + 1) {
    error = "the SIP URI is empty after the scheme";
    return std::nullopt;
  }
  return out;
}

}  // namespace

bool is_sip_uri(std::string_view s) {
  return starts_with_nocase(s, "sip:") || starts_with_nocase(s, "sips:");
}

// A destination written as a URI: SIP, or an AudioSocket server ("audiosocket:HOST:PORT",
// docs/audiosocket.md), allowed by patterns such as "audiosocket:127.0.0.1:*", or an ASP
// agent ("ws://HOST:PORT/PATH", docs/asp.md), e.g. "ws://10.0.0.7:8080/*".
bool is_uri_destination(std::string_view s) {
  return is_sip_uri(s) || starts_with_nocase(s, "audiosocket:") || starts_with_nocase(s, "ws://") ||
         starts_with_nocase(s, "wss://");
}

std::optional<std::string> normalize_destination(std::string_view raw, std::string& error) {
  if (raw.empty()) {
    error = "the destination is empty";
    return std::nullopt;
  }
  if (raw.size() > kMaxDestinationLength) {
    error = "the destination is longer than " + std::to_string(kMaxDestinationLength) + " bytes";
    return std::nullopt;
  }
  if (is_uri_destination(raw)) return normalize_uri(raw, error);
  std::string out;
  out.reserve(raw.size());
  for (const char c : raw) {
    if (is_separator(c)) continue;
    if (c == '+') {
      if (!out.empty()) {
        error = "'+' may only start a number";
        return std::nullopt;
      }
    } else if (!is_digit(c) && c != '*' && c != '#') {
      error = "a number may hold only '+', digits, '*' and '#' (and spaces, '-', '.', '(', ')')";
      return std::nullopt;
    }
    out += c;
  }
  if (out.empty() || out == "+") {
    error = "the number has no digits";
    return std::nullopt;
  }
  if (out.size() > kMaxNumberDigits) {
    error = "the number is longer than " + std::to_string(kMaxNumberDigits) + " characters";
    return std::nullopt;
  }
  return out;
}

NumberAllowList NumberAllowList::compile(const std::vector<std::string>& patterns) {
  NumberAllowList list;
  for (const std::string& raw : patterns) {
    auto fail = [&](const std::string& why) {
      throw std::invalid_argument("allow pattern '" + raw + "': " + why);
    };
    Pattern p;
    if (is_uri_destination(raw)) {
      // "sip:*@pbx.example.com" is not a wildcard; only a trailing '*' is, a prefix
      // ("sip:*" allows any SIP URI: a deliberate choice, as "*" is for numbers).
      const bool prefix = raw.back() == '*';
      std::string error;
      auto uri = normalize_uri(raw, error);
      if (!uri) fail(error);
      if (prefix) uri->pop_back();
      p.text = std::move(*uri);
      p.uri = true;
      p.prefix = prefix;
      list.patterns_.push_back(std::move(p));
      continue;
    }
    std::string text;
    for (size_t i = 0; i < raw.size(); ++i) {
      const char c = raw[i];
      if (is_separator(c)) continue;
      if (c == '*' && i + 1 == raw.size()) {
        p.prefix = true;  // only a trailing '*' is a wildcard; elsewhere it is a digit key
        continue;
      }
      if (c == 'X') {
        text += 'x';
      } else if (c == '+') {
        if (!text.empty()) fail("'+' may only start a number");
        text += c;
      } else if (is_digit(c) || c == 'x' || c == '*' || c == '#') {
        text += c;
      } else {
        fail(
            "use digits, '+', 'x' (any digit), '*', '#', a trailing '*' for a prefix, or a "
            "sip: URI");
      }
    }
    if (text.empty() && !p.prefix) fail("no digits");
    if (text.size() > kMaxNumberDigits) fail("longer than the longest number we dial");
    p.text = std::move(text);
    list.patterns_.push_back(std::move(p));
  }
  return list;
}

bool NumberAllowList::matches(const Pattern& p, std::string_view d) {
  if (p.uri) return p.prefix ? d.substr(0, p.text.size()) == p.text : d == p.text;
  if (is_uri_destination(d)) return false;
  if (p.prefix ? d.size() < p.text.size() : d.size() != p.text.size()) return false;
  for (size_t i = 0; i < p.text.size(); ++i) {
    const char want = p.text[i];
    if (want == 'x' ? !is_digit(d[i]) : want != d[i]) return false;
  }
  return true;
}

bool NumberAllowList::allows(std::string_view destination) const {
  for (const Pattern& p : patterns_) {
    if (matches(p, destination)) return true;
  }
  return false;
}

}  // namespace atende::api
