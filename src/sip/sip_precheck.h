// Checks a request that sofia parsed before we let sofia act on it. sofia-sip 1.12 accepts
// an INVITE whose Contact is not a SIP URI and later crashes trying to BYE it (see the safety
// note in ARCHITECTURE.md), so we refuse such requests with 4xx ourselves.
#pragma once
#include <optional>
#include <string>

struct sip_s;

namespace atende::sip {

struct Rejection {
  int status;
  std::string phrase;
};

// nullopt when the request is fit to act on.
std::optional<Rejection> precheck_request(const struct sip_s* sip);

}  // namespace atende::sip
