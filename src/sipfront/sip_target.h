// Where a call we place goes, in SIP terms: the request URI, our From, the proxy and the
// credentials, from what was asked ("2302", "+5511999990000", "sip:bob@host") and the
// trunks. Pure: the SIP front-end checks a request with it before anything is recorded.
#pragma once
#include <string>

#include "sessions/call_control.h"
#include "sessions/dial_plan.h"
#include "sip/sdp_crypto.h"
#include "sip/sip_server.h"

namespace atende::sipfront {

struct SipTarget {
  std::string trunk;  // empty: a sip: URI dialled directly
  std::string request_uri;
  std::string from_uri;
  std::string from_display;
  std::string outbound_proxy;
  sip::SipCredentials credentials;
  sip::SrtpPolicy srtp = sip::SrtpPolicy::kOff;  // the trunk's; a sips: URI: required
};

// `to`: a number or extension (digits, '+', '*', '#', letters, '.', '-', '_') dialled
// through `trunk` (or the dial plan's), or a sip:/sips: URI. `caller_id` replaces the
// trunk's from user. Errors are kInvalid with a message naming the problem.
sessions::ControlResult<SipTarget> resolve_sip_target(const std::string& to,
                                                      const std::string& trunk,
                                                      const std::string& caller_id,
                                                      const sessions::DialPlan& plan,
                                                      const std::string& local_host);

}  // namespace atende::sipfront
