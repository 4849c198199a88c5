// libFuzzer: any bytes as one SIP datagram, parsed by sofia-sip's own message parser (what
// nta hands the server), then precheck_request(): the gate that stops sofia from acting on
// requests that crashed it (ARCHITECTURE.md's safety note). Beyond "no crash":
// - the verdict is one of the statuses we document;
// - an INVITE we let through has a Contact that nta can later send a BYE to: sofia's
//   tport_name_by_url() accepts it (its failure, "invalid URI", began the fatal recursion);
// - a request we let through has the mandatory headers and a sip/sips Request-URI.
#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/tport.h>
#include <sofia-sip/url.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "sip/sip_precheck.h"

using atende::sip::precheck_request;

namespace {

bool reachable(const url_t* url) {
  su_home_t home[1] = {SU_HOME_INIT(home)};
  tp_name_t name = {};
  const bool ok = tport_name_by_url(home, &name, reinterpret_cast<const url_string_t*>(url)) == 0;
  su_home_deinit(home);
  return ok;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 65535) return 0;  // one UDP datagram at most
  msg_t* msg = msg_make(sip_default_mclass(), MSG_DO_CANONIC, data, static_cast<ssize_t>(size));
  if (!msg) return 0;
  const sip_t* sip = sip_object(msg);
  if (sip && sip->sip_request) {
    const auto rejection = precheck_request(sip);
    // ATENDE_FUZZ_PRINT=1 with inputs as arguments: the verdict of each, to check seeds.
    static const bool print = std::getenv("ATENDE_FUZZ_PRINT") != nullptr;
    if (print) {
      std::printf("verdict: %s %d %s\n", sip->sip_request->rq_method_name,
                  rejection ? rejection->status : 0, rejection ? rejection->phrase.c_str() : "ok");
    }
    if (rejection) {
      const int s = rejection->status;
      if (!(s == 400 || s == 413 || s == 415 || s == 416 || s == 483)) std::abort();
      if (rejection->phrase.empty()) std::abort();
    } else {
      if (!sip->sip_from || !sip->sip_to || !sip->sip_call_id || !sip->sip_cseq || !sip->sip_via)
        std::abort();
      const url_t* ruri = sip->sip_request->rq_url;
      if (!ruri || (ruri->url_type != url_sip && ruri->url_type != url_sips)) std::abort();
      if (sip->sip_request->rq_method == sip_method_invite) {
        const url_t* contact = sip->sip_contact ? sip->sip_contact->m_url : nullptr;
        if (!contact || !reachable(contact)) std::abort();
      }
    }
  }
  msg_destroy(msg);
  return 0;
}
