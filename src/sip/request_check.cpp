#include "sip/request_check.h"

#include <arpa/inet.h>

#include <cstring>

#include "core/ascii.h"
#include "sip/sdp_text.h"

namespace atende::sip {

namespace {

constexpr std::size_t kMaxUserBytes = 256;
constexpr std::size_t kMaxHostBytes = 253;  // DNS limit
constexpr std::size_t kMaxContactBytes = 2048;
constexpr std::size_t kMaxMethodBytes = 32;
constexpr std::uint64_t kMaxCSeq = (1ULL << 31) - 1;  // RFC 3261 8.1.1.5: below 2**31

constexpr UriCheck bad(std::string_view why) { return UriCheck{false, why, false}; }

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool in_set(char c, std::string_view set) { return set.find(c) != std::string_view::npos; }

// RFC 3261 25.1 character classes.
bool is_unreserved(char c) { return is_alnum(c) || in_set(c, "-_.!~*'()"); }
bool is_user_char(char c) { return is_unreserved(c) || in_set(c, "&=+$,;?/"); }
bool is_password_char(char c) { return is_unreserved(c) || in_set(c, "&=+$,"); }
bool is_param_char(char c) { return is_unreserved(c) || in_set(c, "[]/:&+$"); }
bool is_header_char(char c) { return is_unreserved(c) || in_set(c, "[]/?:+$"); }
bool is_token_char(char c) { return is_alnum(c) || in_set(c, "-.!%*_+`'~"); }

// `s` is made of chars accepted by `ok` and well-formed %HH escapes (never %00: a NUL
// that a later unescape would put inside a C string). `allow_empty` for header values.
template <typename Pred>
bool is_escaped_run(std::string_view s, Pred ok, bool allow_empty = false) {
  if (s.empty()) return allow_empty;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return false;
      if (!is_hex(s[i + 1]) || !is_hex(s[i + 2])) return false;
      if (s[i + 1] == '0' && s[i + 2] == '0') return false;
      i += 2;
    } else if (!ok(s[i])) {
      return false;
    }
  }
  return true;
}

bool is_ipv4(std::string_view s) {
  int parts = 0;
  std::size_t i = 0;
  while (true) {
    std::size_t start = i;
    int value = 0;
    while (i < s.size() && is_digit(s[i]) && i - start < 3) value = value * 10 + (s[i++] - '0');
    if (i == start || value > 255) return false;
    ++parts;
    if (i == s.size()) return parts == 4;
    if (s[i] != '.' || parts == 4) return false;
    ++i;
  }
}

bool is_ipv6(std::string_view s) {
  char buf[64];
  if (s.empty() || s.size() >= sizeof(buf)) return false;
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  unsigned char out[16];
  return inet_pton(AF_INET6, buf, out) == 1;
}

// hostname = *( domainlabel "." ) toplabel [ "." ]; toplabel starts with a letter, which
// is what tells "1.2.3.999" (a bad IPv4) apart from a name.
bool is_hostname(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  if (s.empty() || s.size() > kMaxHostBytes) return false;
  std::string_view label;
  while (!s.empty()) {
    std::size_t dot = s.find('.');
    label = s.substr(0, dot);
    if (label.empty() || label.size() > 63) return false;
    if (!is_alnum(label.front()) || !is_alnum(label.back())) return false;
    for (char c : label)
      if (!is_alnum(c) && c != '-') return false;
    s = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  }
  return is_alpha(label.front());
}

bool all_digits_and_dots(std::string_view s) {
  for (char c : s)
    if (!is_digit(c) && c != '.') return false;
  return true;
}

bool is_port(std::string_view s) {
  if (s.empty() || s.size() > 5) return false;
  int value = 0;
  for (char c : s) {
    if (!is_digit(c)) return false;
    value = value * 10 + (c - '0');
  }
  return value >= 1 && value <= 65535;
}

// ;name[=value] repeated, then optionally ?h=v&h=v. `s` starts at the first ';' or '?'.
UriCheck check_params_and_headers(std::string_view s) {
  while (!s.empty() && s.front() == ';') {
    s.remove_prefix(1);
    std::size_t end = s.find_first_of(";?");
    std::string_view param = s.substr(0, end);
    s = end == std::string_view::npos ? std::string_view{} : s.substr(end);
    std::size_t eq = param.find('=');
    if (!is_escaped_run(param.substr(0, eq), is_param_char)) return bad("bad URI parameter");
    if (eq != std::string_view::npos && !is_escaped_run(param.substr(eq + 1), is_param_char))
      return bad("bad URI parameter value");
  }
  if (s.empty()) return {};
  if (s.front() != '?') return bad("junk after URI host");
  s.remove_prefix(1);
  while (true) {
    std::size_t end = s.find('&');
    std::string_view header = s.substr(0, end);
    std::size_t eq = header.find('=');
    if (eq == std::string_view::npos) return bad("URI header without '='");
    if (!is_escaped_run(header.substr(0, eq), is_header_char) ||
        !is_escaped_run(header.substr(eq + 1), is_header_char, true))
      return bad("bad URI header");
    if (end == std::string_view::npos) return {};
    s.remove_prefix(end + 1);
  }
}

}  // namespace

UriCheck check_sip_uri(std::string_view uri) {
  if (uri.empty()) return bad("empty URI");
  if (uri.size() > kMaxUriBytes) return bad("URI too long");
  for (char c : uri) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return bad("URI has a non-printable or non-ASCII byte");
  }
  std::size_t colon = uri.find(':');
  if (colon == std::string_view::npos) return bad("URI without scheme");
  std::string_view scheme = uri.substr(0, colon);
  if (!ascii_iequals(scheme, "sip") && !ascii_iequals(scheme, "sips")) {
    // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ): foreign but well-formed -> 416.
    bool well_formed = !scheme.empty() && is_alpha(scheme.front());
    for (char c : scheme) well_formed = well_formed && (is_alnum(c) || in_set(c, "+-."));
    UriCheck r = bad("scheme is not sip or sips");
    r.unsupported_scheme = well_formed;
    return r;
  }
  std::string_view rest = uri.substr(colon + 1);

  // '@' is legal only between userinfo and host: no other part of the grammar allows it.
  std::size_t at = rest.find('@');
  if (at != std::string_view::npos) {
    if (rest.find('@', at + 1) != std::string_view::npos) return bad("more than one '@'");
    std::string_view userinfo = rest.substr(0, at);
    std::size_t pw = userinfo.find(':');
    std::string_view user = userinfo.substr(0, pw);
    if (user.size() > kMaxUserBytes) return bad("URI user part too long");
    if (!is_escaped_run(user, is_user_char)) return bad("bad URI user part");
    if (pw != std::string_view::npos &&
        !is_escaped_run(userinfo.substr(pw + 1), is_password_char, true))
      return bad("bad URI password");
    rest.remove_prefix(at + 1);
  }

  std::string_view host;
  if (!rest.empty() && rest.front() == '[') {
    std::size_t close = rest.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 reference");
    if (!is_ipv6(rest.substr(1, close - 1))) return bad("bad IPv6 address");
    rest.remove_prefix(close + 1);
  } else {
    std::size_t end = rest.find_first_of(":;?");
    host = rest.substr(0, end);
    if (host.empty()) return bad("empty host");
    if (all_digits_and_dots(host) ? !is_ipv4(host) : !is_hostname(host)) return bad("bad host");
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  }
  if (!rest.empty() && rest.front() == ':') {
    std::size_t end = rest.find_first_of(";?");
    if (!is_port(rest.substr(1, end == std::string_view::npos ? end : end - 1)))
      return bad("port not in 1-65535");
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  }
  return check_params_and_headers(rest);
}

UriCheck check_contact(std::string_view value) {
  if (value.size() > kMaxContactBytes) return bad("Contact too long");
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    // UTF-8 is legal in a display name; control bytes are legal nowhere.
    if ((u < 0x20 && c != '\t') || u == 0x7f) return bad("Contact has a control byte");
  }
  auto trim = [](std::string_view s) {
    std::size_t b = s.find_first_not_of(" \t");
    if (b == std::string_view::npos) return std::string_view{};
    std::size_t e = s.find_last_not_of(" \t");
    return s.substr(b, e - b + 1);
  };
  value = trim(value);
  std::string_view uri;
  std::string_view params;
  std::size_t search_from = 0;
  if (!value.empty() && value.front() == '"') {
    // quoted-string display name: skip it (it may hold '<'), honouring \" escapes.
    std::size_t i = 1;
    while (i < value.size() && value[i] != '"') i += value[i] == '\\' ? 2 : 1;
    if (i >= value.size()) return bad("unterminated display name");
    search_from = i + 1;
    if (trim(value.substr(search_from)).empty() || trim(value.substr(search_from)).front() != '<')
      return bad("display name without <URI>");
  }
  std::size_t open = value.find('<', search_from);
  if (open != std::string_view::npos) {
    std::size_t close = value.find('>', open);
    if (close == std::string_view::npos) return bad("unterminated <URI>");
    if (search_from == 0) {
      for (char c : value.substr(0, open))  // unquoted display name: tokens and spaces
        if (!is_token_char(c) && c != ' ' && c != '\t' && static_cast<unsigned char>(c) < 0x80)
          return bad("bad display name");
    }
    uri = value.substr(open + 1, close - open - 1);
    params = trim(value.substr(close + 1));
  } else {
    // addr-spec form: parameters after the first ';' belong to the header (RFC 3261 20.10).
    std::size_t semi = value.find(';');
    uri = trim(value.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view{} : value.substr(semi);
  }
  if (!params.empty()) {
    if (params.front() != ';') return bad("junk after Contact URI");
    for (char c : params)
      if (static_cast<unsigned char>(c) >= 0x7f) return bad("non-ASCII Contact parameter");
  }
  if (uri == "*") return bad("wildcard Contact");
  UriCheck r = check_sip_uri(uri);
  r.unsupported_scheme = false;  // for a Contact, a foreign scheme is just a bad request
  return r;
}

namespace {

constexpr RequestVerdict verdict(int status, std::string_view reason, std::string_view detail) {
  return RequestVerdict{status, reason, detail};
}

bool is_method(std::string_view m) {
  if (m.empty() || m.size() > kMaxMethodBytes) return false;
  for (char c : m)
    if (!is_token_char(c)) return false;
  return true;
}

bool creates_dialog(std::string_view method) {
  return method == "INVITE" || method == "SUBSCRIBE" || method == "REFER";
}

RequestVerdict check_contacts(const RequestSummary& r, const RequestLimits& limits) {
  if (r.contacts.size() > limits.max_contacts)
    return verdict(400, "Too Many Contacts", "more Contact values than allowed");
  if (creates_dialog(r.method) && r.contacts.size() != 1) {
    return r.contacts.empty()
               ? verdict(400, "Missing Contact", "a dialog-creating request needs a Contact")
               : verdict(400, "Multiple Contacts", "a dialog-creating request has one Contact");
  }
  for (std::string_view contact : r.contacts) {
    std::string_view c = contact;
    while (!c.empty() && (c.front() == ' ' || c.front() == '\t')) c.remove_prefix(1);
    while (!c.empty() && (c.back() == ' ' || c.back() == '\t')) c.remove_suffix(1);
    if (c == "*") {
      // RFC 3261 10.2.2: "*" only in a REGISTER, alone.
      if (r.method != "REGISTER" || r.contacts.size() != 1)
        return verdict(400, "Invalid Contact", "wildcard Contact outside REGISTER");
      continue;
    }
    UriCheck check = check_contact(c);
    if (!check) return verdict(400, "Invalid Contact", check.error);
  }
  return {};
}

}  // namespace

RequestVerdict check_request(const RequestSummary& r, const RequestLimits& limits) {
  if (!is_method(r.method)) return verdict(400, "Bad Request", "bad method");

  UriCheck uri = check_sip_uri(r.request_uri);
  if (!uri) {
    if (uri.unsupported_scheme)
      return verdict(416, "Unsupported URI Scheme", "Request-URI is not sip/sips");
    return verdict(400, "Invalid Request-URI", uri.error);
  }

  if (r.via_count <= 0) return verdict(400, "Missing Via", "no Via header");
  if (r.via_count > limits.max_vias) return verdict(483, "Too Many Hops", "too many Via headers");

  if (r.max_forwards < -1 || r.max_forwards > 255)
    return verdict(400, "Bad Max-Forwards", "Max-Forwards not in 0-255");
  // RFC 3261 16.3: OPTIONS with Max-Forwards 0 may be answered by the element it reached.
  if (r.max_forwards == 0 && r.method != "OPTIONS")
    return verdict(483, "Too Many Hops", "Max-Forwards is 0");

  if (r.cseq_number > kMaxCSeq) return verdict(400, "Bad CSeq", "CSeq number not below 2^31");
  if (r.cseq_method != r.method) return verdict(400, "Bad CSeq", "CSeq method differs");

  if (r.content_length < -1) return verdict(400, "Bad Content-Length", "negative length");
  if (r.body_size > limits.max_body_bytes ||
      (r.content_length > 0 &&
       static_cast<std::uint64_t>(r.content_length) > limits.max_body_bytes))
    return verdict(413, "Request Entity Too Large", "body over the size limit");
  if (r.content_length >= 0 && static_cast<std::uint64_t>(r.content_length) != r.body_size)
    return verdict(400, "Bad Content-Length", "Content-Length differs from body size");

  return check_contacts(r, limits);
}

}  // namespace atende::sip
