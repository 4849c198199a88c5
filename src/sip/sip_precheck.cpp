#include "sip/sip_precheck.h"

#include <sofia-sip/sip.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/url.h>
#include <strings.h>

#include <string>
#include <vector>

#include "sip/request_check.h"

namespace atende::sip {
namespace {

// sofia's URL printed back: its parse of the wire text, which check_request() then judges
// by RFC 3261's grammar (a bad byte anywhere survives the round trip and is caught).
std::string url_text(const url_t* url) {
  if (!url) return {};
  su_home_t home[1] = {SU_HOME_INIT(home)};
  char* s = url_as_string(home, url);
  std::string out = s ? s : "";
  su_home_deinit(home);
  return out;
}

}  // namespace

std::optional<Rejection> precheck_request(const sip_t* sip) {
  if (!sip || !sip->sip_request || !sip->sip_request->rq_method_name) {
    return Rejection{400, "Malformed Request"};
  }
  if (sip->sip_error) return Rejection{400, "Malformed Header"};
  if (!sip->sip_from || !sip->sip_to || !sip->sip_call_id || !sip->sip_cseq) {
    return Rejection{400, "Missing Mandatory Header"};
  }

  const std::string request_uri = url_text(sip->sip_request->rq_url);
  std::vector<std::string> contact_text;
  for (const sip_contact_t* m = sip->sip_contact; m && contact_text.size() < 16; m = m->m_next) {
    contact_text.push_back(url_text(m->m_url));
  }
  RequestSummary summary;
  summary.method = sip->sip_request->rq_method_name;
  summary.request_uri = request_uri;
  for (const auto& c : contact_text) summary.contacts.emplace_back(c);
  for (const sip_via_t* v = sip->sip_via; v && summary.via_count < 1000; v = v->v_next) {
    ++summary.via_count;
  }
  summary.cseq_number = sip->sip_cseq->cs_seq;
  summary.cseq_method = sip->sip_cseq->cs_method_name ? sip->sip_cseq->cs_method_name : "";
  summary.content_length =
      sip->sip_content_length ? static_cast<int64_t>(sip->sip_content_length->l_length) : -1;
  summary.body_size = sip->sip_payload ? sip->sip_payload->pl_len : 0;
  summary.max_forwards =
      sip->sip_max_forwards ? static_cast<int>(sip->sip_max_forwards->mf_count) : -1;

  const RequestVerdict verdict = check_request(summary);
  if (!verdict.ok()) return Rejection{verdict.status, std::string(verdict.reason)};

  // The URL types as sofia understood them must agree: nua would later build requests to
  // the Contact (BYE, re-INVITE) from its parsed form, not from our text.
  if (sip->sip_request->rq_method == sip_method_invite) {
    const url_t* u = sip->sip_contact ? sip->sip_contact->m_url : nullptr;
    if (!u || (u->url_type != url_sip && u->url_type != url_sips) || !u->url_host) {
      return Rejection{400, "Bad Contact"};
    }
  }
  // Our in-dialog requests (the BYE) go to the first Record-Route entry when there is one,
  // not to the Contact (RFC 3261 12.2.1.1; nta_msg_request_complete): a non-SIP URI there
  // fails the same way ("nta outgoing create: invalid URI", then the recursion). Every entry
  // becomes a Route of ours, so each must be a SIP URI by sofia's parse and by the grammar.
  for (const sip_record_route_t* r = sip->sip_record_route; r; r = r->r_next) {
    const url_t* u = r->r_url;
    if ((u->url_type != url_sip && u->url_type != url_sips) || !u->url_host ||
        !check_sip_uri(url_text(u))) {
      return Rejection{400, "Bad Record-Route"};
    }
  }
  if (sip->sip_content_type && summary.body_size > 0 &&
      (!sip->sip_content_type->c_type ||
       strcasecmp(sip->sip_content_type->c_type, "application/sdp") != 0)) {
    return Rejection{415, "Unsupported Media Type"};
  }
  return std::nullopt;
}

}  // namespace atende::sip
