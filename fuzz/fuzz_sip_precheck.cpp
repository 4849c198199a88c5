// libFuzzer: any bytes as one SIP datagram, parsed by sofia-sip's own message parser (what
// nta hands the server), then precheck_request(): the gate that stops sofia from acting on
// requests that crashed it (ARCHITECTURE.md's safety note). Beyond "no crash":
// - the verdict is one of the statuses we document;
// - an INVITE we let through has a Contact and Record-Route entries that nta can later send
//   a BYE to (its failure, "nta outgoing create: invalid URI", began the fatal recursion);
// - a request we let through has the mandatory headers and a sip/sips Request-URI.
#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/url.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "sip/sip_precheck.h"

using atende::sip::precheck_request;

namespace {

// What nta needs of the URI it sends an in-dialog request to (nta.c, nta_tpn_by_url(): a
// failure is the "nta outgoing create: invalid URI" that began sofia's fatal recursion):
// it copies (url_xtra/url_dup) and is sip/sips; we also want a host to send to.
bool nta_can_target(const url_t* url) {
  if (!url || (url->url_type != url_sip && url->url_type != url_sips)) return false;
  if (!url->url_host || !*url->url_host) return false;
  su_home_t home[1] = {SU_HOME_INIT(home)};
  const isize_t n = url_xtra(url);
  char* buf = static_cast<char*>(su_alloc(home, n));
  url_t copy[1];
  const bool ok = buf && url_dup(buf, n, copy, url) >= 0;
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
        // Our BYE goes to the first Record-Route entry, else to the Contact; the other
        // entries become its Route headers.
        const url_t* contact = sip->sip_contact ? sip->sip_contact->m_url : nullptr;
        if (!nta_can_target(contact)) std::abort();
        for (const sip_record_route_t* r = sip->sip_record_route; r; r = r->r_next) {
          if (!nta_can_target(r->r_url)) std::abort();
        }
      }
    }
  }
  msg_destroy(msg);
  return 0;
}
