#include "flow/caller_id.h"

#include <algorithm>

#include "core/ascii.h"

namespace atende::flow {
namespace {

bool allowed(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '*' || c == '#' || c == '.' || c == '_' || c == '-';
}

}  // namespace

std::string caller_user(std::string_view uri) {
  constexpr size_t kMaxUser = 64;
  if (uri.size() > 1024) return "";
  // A name-addr ("Alice" <sip:alice@host>): the URI inside the angle brackets.
  if (size_t open = uri.find('<'); open != std::string_view::npos) {
    size_t close = uri.find('>', open);
    if (close == std::string_view::npos) return "";
    uri = uri.substr(open + 1, close - open - 1);
  }
  std::string_view user;
  bool tel = false;
  if (ascii_istarts_with(uri, "sip:") || ascii_istarts_with(uri, "sips:")) {
    uri.remove_prefix(uri.find(':') + 1);
    size_t at = uri.find('@');
    if (at == std::string_view::npos) return "";
    user = uri.substr(0, at);
    user = user.substr(0, user.find(':'));  // "user:password@host"
    user = user.substr(0, user.find(';'));  // user parameters
  } else if (ascii_istarts_with(uri, "tel:")) {
    tel = true;
    user = uri.substr(4);
    user = user.substr(0, user.find(';'));
  } else {
    return "";
  }
  std::string out;
  for (char c : user) {
    // tel: numbers carry visual separators ("+55-11-98765-4321", "(11)") that are no part of
    // the number; so do phone-number users of SIP URIs.
    if (tel && (c == '-' || c == '.' || c == '(' || c == ')')) continue;
    if (!allowed(c)) return "";
    out += c;
    if (out.size() > kMaxUser) return "";
  }
  return out;
}

}  // namespace atende::flow
