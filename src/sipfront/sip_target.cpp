#include "sipfront/sip_target.h"

#include <algorithm>

namespace atende::sipfront {
namespace {

using sessions::ControlErrc;
using sessions::ControlError;

constexpr size_t kMaxTarget = 256;

bool dialable_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '+' ||
         c == '*' || c == '#' || c == '.' || c == '-' || c == '_';
}

// A URI we hand to sofia: printable ASCII with nothing that could end a header field.
bool plain_uri(const std::string& uri) {
  return std::all_of(uri.begin(), uri.end(), [](char c) {
    return c > ' ' && c < 0x7f && c != '<' && c != '>' && c != '"' && c != '\\' && c != ',';
  });
}

std::string host_port(const std::string& host, int port) {
  const std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return port > 0 ? h + ":" + std::to_string(port) : h;
}

// '#' is not allowed raw in a SIP URI user part (RFC 3261 25.1): escape it.
std::string uri_user(const std::string& number) {
  std::string out;
  for (char c : number) {
    if (c == '#')
      out += "%23";
    else
      out += c;
  }
  return out;
}

}  // namespace

sessions::ControlResult<SipTarget> resolve_sip_target(const std::string& to,
                                                      const std::string& trunk_name,
                                                      const std::string& caller_id,
                                                      const sessions::DialPlan& plan,
                                                      const std::string& local_host) {
  if (to.empty()) return ControlError{ControlErrc::kInvalid, "'to' is empty"};
  if (to.size() > kMaxTarget) return ControlError{ControlErrc::kInvalid, "'to' is too long"};
  if (!caller_id.empty() &&
      (caller_id.size() > 64 || !std::all_of(caller_id.begin(), caller_id.end(), dialable_char))) {
    return ControlError{ControlErrc::kInvalid,
                        "caller_id may hold digits, letters and + * . - _ only"};
  }
  SipTarget t;
  const bool uri = to.rfind("sip:", 0) == 0 || to.rfind("sips:", 0) == 0;
  if (uri) {
    if (!plain_uri(to) || to.find('@') == std::string::npos) {
      return ControlError{ControlErrc::kInvalid, "'" + to + "' is not a plain sip:user@host URI"};
    }
    t.request_uri = to;
  } else if (!std::all_of(to.begin(), to.end(), dialable_char)) {
    return ControlError{
        ControlErrc::kInvalid,
        "'to' must be a number or extension (digits, letters, + * #) or a sip: URI"};
  }
  t.trunk = !trunk_name.empty() ? trunk_name : uri ? std::string() : plan.trunk_for(to);
  const TrunkConfig* trunk = nullptr;
  if (!t.trunk.empty()) {
    trunk = plan.trunk(t.trunk);
    if (!trunk) return ControlError{ControlErrc::kInvalid, "unknown trunk '" + t.trunk + "'"};
  } else if (!uri) {
    return ControlError{ControlErrc::kInvalid,
                        "no trunk to dial '" + to + "' (configure trunks:, or dial a sip: URI)"};
  }
  std::string from_user = caller_id;
  std::string from_host = local_host;
  if (trunk) {
    const std::string domain = trunk->domain.empty() ? trunk->host : trunk->domain;
    if (!uri) {
      t.request_uri = "sip:" + uri_user(to) + "@" + host_port(trunk->host, trunk->port);
      if (trunk->transport != "udp") t.request_uri += ";transport=" + trunk->transport;
    }
    if (from_user.empty()) from_user = !trunk->from_user.empty() ? trunk->from_user : trunk->user;
    from_host = domain;
    t.from_display = trunk->from_display;
    t.outbound_proxy = trunk->outbound_proxy;
    t.credentials = {trunk->user, trunk->password};
    t.srtp = sip::parse_srtp_policy(trunk->srtp).value_or(sip::SrtpPolicy::kOff);
  }
  // sips: asks for security end to end (RFC 3261 19.1): the media too.
  if (uri && to.rfind("sips:", 0) == 0) t.srtp = sip::SrtpPolicy::kRequired;
  if (from_user.empty()) from_user = "atende";
  t.from_uri = "sip:" + uri_user(from_user) + "@" + from_host;
  return t;
}

}  // namespace atende::sipfront
