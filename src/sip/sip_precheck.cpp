#include "sip/sip_precheck.h"

#include <sofia-sip/sip.h>
#include <sofia-sip/url.h>

#include <cstring>

namespace atende::sip {
namespace {

constexpr size_t kMaxBody = 16 * 1024;
constexpr size_t kMaxUriPart = 256;

bool printable_ascii(const char* s, size_t max) {
  if (!s) return true;
  size_t n = 0;
  for (; s[n]; ++n) {
    unsigned char c = static_cast<unsigned char>(s[n]);
    if (c <= 0x20 || c >= 0x7f || n >= max) return false;
  }
  return true;
}

// A URI we could send a request to: sip: or sips:, a host, sane characters and lengths.
bool reachable_sip_url(const url_t* u) {
  if (!u) return false;
  if (u->url_type != url_sip && u->url_type != url_sips) return false;
  if (!u->url_host || !*u->url_host) return false;
  if (u->url_scheme && std::strcmp(u->url_scheme, "sip") != 0 &&
      std::strcmp(u->url_scheme, "sips") != 0) {
    return false;
  }
  for (const char* part : {u->url_user, u->url_password, u->url_host, u->url_port,
                           u->url_params, u->url_headers}) {
    if (!printable_ascii(part, kMaxUriPart)) return false;
  }
  if (u->url_port) {
    char* end = nullptr;
    long port = std::strtol(u->url_port, &end, 10);
    if (*end || port < 1 || port > 65535) return false;
  }
  return true;
}

}  // namespace

std::optional<Rejection> precheck_request(const sip_t* sip) {
  if (!sip || !sip->sip_request) return Rejection{400, "Malformed Request"};
  if (sip->sip_error) return Rejection{400, "Malformed Header"};
  if (!reachable_sip_url(sip->sip_request->rq_url)) return Rejection{416, "Unsupported URI Scheme"};
  if (!sip->sip_via || !sip->sip_via->v_host) return Rejection{400, "Missing Via"};
  if (!sip->sip_cseq || sip->sip_cseq->cs_method != sip->sip_request->rq_method) {
    return Rejection{400, "Bad CSeq"};
  }
  if (!sip->sip_from || !sip->sip_to || !sip->sip_call_id) {
    return Rejection{400, "Missing Mandatory Header"};
  }
  if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count == 0) {
    return Rejection{483, "Too Many Hops"};
  }
  if (sip->sip_request->rq_method == sip_method_invite) {
    // The Contact is where BYE and re-INVITEs go: it must be a URI we can reach.
    if (!sip->sip_contact || !reachable_sip_url(sip->sip_contact->m_url)) {
      return Rejection{400, "Bad Contact"};
    }
    if (sip->sip_contact->m_next) return Rejection{400, "Multiple Contacts"};
  }
  if (sip->sip_payload && sip->sip_payload->pl_len > kMaxBody) {
    return Rejection{413, "Request Entity Too Large"};
  }
  if (sip->sip_content_type && sip->sip_payload && sip->sip_payload->pl_len > 0 &&
      (!sip->sip_content_type->c_type ||
       strcasecmp(sip->sip_content_type->c_type, "application/sdp") != 0)) {
    return Rejection{415, "Unsupported Media Type"};
  }
  return std::nullopt;
}

}  // namespace atende::sip
