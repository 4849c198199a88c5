// The SIP user agent: sofia-sip's nua on its own thread (its su_root). Everything that
// reaches the rest of atende goes through SipEvents, called on that thread; everything
// the rest of atende asks of SIP (place a call, hang up, transfer, register, shut down) is
// queued to that thread. No SDP here: sofia's offer/answer engine is disabled and the SIP
// front-end (src/sipfront) writes and reads the SDP.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "core/config_access.h"

namespace atende {
class MetricsRegistry;
}

namespace atende::sip {

struct InviteInfo {
  std::string sip_call_id;
  std::string from_uri;
  std::string to_uri;
  std::string request_user;  // user part of the Request-URI: picks the flow
  std::string remote_host;   // where the request came from (the packet's source address)
  std::string auth_user;     // the account it authenticated as (digest), empty when trusted
  // "udp", "tcp" or "tls": how the request reached us (its top Via, checked against the
  // socket's protocol; "tls" only when the TLS listener is on). Picks the SRTP policy.
  std::string transport;
  std::string sdp;  // the offer (empty when the INVITE had no body: delayed offer)
};

// Our reply to an INVITE or re-INVITE: 200 with SDP, or a rejection.
// With ring_ms > 0 (new INVITEs only) we send 180 Ringing first and the 200 that much later;
// a CANCEL in between ends the call with 487. When the INVITE had no SDP, `sdp` is our
// offer and the answer comes in the ACK (SipEvents::on_ack_answer).
// With hold_ms > 0 (new INVITEs only) we send 180 Ringing and wait for answer_held() or
// reject_held() at most that long; then 480, the dialog's end reason "ring_timeout".
struct InviteReply {
  int status = 200;
  std::string phrase = "OK";
  std::string sdp;
  int ring_ms = 0;
  int hold_ms = 0;
  int retry_after = 0;  // rejections: seconds for a Retry-After header (0: none)
  static InviteReply reject(int status, std::string phrase, int retry_after = 0) {
    InviteReply r{status, std::move(phrase), {}};
    r.retry_after = retry_after;
    return r;
  }
};

// Credentials for digest authentication (RFC 2617/7616) when a trunk or registrar
// challenges us with 401/407. The realm comes from the challenge.
struct SipCredentials {
  std::string user;
  std::string password;
  bool empty() const { return user.empty(); }
};

// A call we place (UAC). Everything is a string sofia parses; the SIP front-end builds it.
struct OutboundInvite {
  std::string call_id;      // ours (the store's key), not the SIP Call-ID
  std::string request_uri;  // "sip:2302@10.0.0.5:5060;transport=tcp"
  std::string from_uri;     // "sip:atende@10.0.0.1"
  std::string from_display;
  std::string to_uri;          // empty: the request URI
  std::string outbound_proxy;  // "sip:proxy.example.com:5060", empty for none
  SipCredentials credentials;  // answer 401/407 with these (empty: fail on a challenge)
  std::string sdp_offer;
  int ring_timeout_ms = 30000;  // no final answer by then: CANCEL, ended "no_answer"
};

// A registration of one account with a registrar (REGISTER, refreshed before it expires).
struct RegistrationRequest {
  std::string name;           // the trunk's name, for events and logs
  std::string registrar_uri;  // "sip:pbx.example.com:5060;transport=udp"
  std::string aor;            // "sip:1001@pbx.example.com": To and From
  std::string contact_user;   // user part of our Contact, so calls to it reach us
  std::string outbound_proxy;
  SipCredentials credentials;
  int expires_seconds = 600;
};

enum class RegistrationState { kRegistering, kRegistered, kFailed, kUnregistered };
const char* to_string(RegistrationState s);

// How a call we placed ended before it was answered, or that an answered call ended.
// `reason` is one of: "answered" (never: see on_outbound_answered), "busy", "no_answer",
// "rejected", "unreachable", "auth_failed", "cancelled", and for answered calls the
// inbound ones ("remote_bye", "local_bye", ...).
class SipEvents {
 public:
  virtual ~SipEvents() = default;
  // A new INVITE passed our sanity checks. Return the answer (or a rejection).
  // `call_id` is ours; remember it to match later events.
  virtual InviteReply on_invite(const std::string& call_id, const InviteInfo& info) = 0;
  virtual InviteReply on_reinvite(const std::string& call_id, std::string_view sdp) = 0;
  // We sent 200 OK for the INVITE accepted by on_invite(): media may start.
  virtual void on_answered(const std::string& call_id) = 0;
  // The ACK to our 200 came: the call is confirmed (media timeouts may start counting).
  virtual void on_confirmed(const std::string& call_id) {}
  // Delayed offer: the ACK carried the answer to the offer we put in the 200.
  // Empty `sdp` when the ACK had none (a broken peer: the call cannot have media).
  virtual void on_ack_answer(const std::string& call_id, std::string_view sdp) {}
  // The dialog is gone (BYE either way, CANCEL, no ACK, transport error, or a call we
  // placed that failed: then `sip_status` is the final response, 0 if none came).
  virtual void on_ended(const std::string& call_id, std::string_view reason, int sip_status) = 0;

  // A call we placed: a provisional response (180, 183; `sdp` non-empty for early media).
  virtual void on_outbound_progress(const std::string& call_id, int status, std::string_view sdp) {}
  // A call we placed was answered (we have ACKed); `sdp` is the answer to our offer.
  virtual void on_outbound_answered(const std::string& call_id, std::string_view sdp) {}
  // A blind transfer (REFER) we sent: the status of the transferred call as the peer
  // reports it in NOTIFY (100 trying, 200 done, >= 300 failed), or the REFER's own
  // rejection.
  virtual void on_refer_progress(const std::string& call_id, int status) {}
  // A registration changed state (`status`/`phrase`: the registrar's last answer).
  virtual void on_registration(const std::string& name, RegistrationState state, int status,
                               std::string_view phrase) {}
};

struct SipOptions {
  std::string host = "0.0.0.0";
  int port = 5060;
  std::string user_agent = "atende";
  // Every answered call is hung up after this long (end_reason "max_duration"); 0: never.
  // A guard against calls nobody ends (a flow waiting forever, a peer that never sends BYE).
  int max_call_seconds = 0;
  // SIP session timers (RFC 4028, docs/sip.md). session_expires: the interval we ask for
  // (0: a timer only when the peer asks for one); min_se: the shortest we accept (422 below).
  int session_expires = 0;
  int min_se = 90;
  // SIP over TLS (sips:) when tls_port > 0: sofia's TLS transport reads agent.pem and
  // cafile.pem from tls_dir (sip/tls_files.h). Clients are not asked for certificates; calls
  // we place over TLS check the server's certificate (chain, dates, and that it names the
  // host we dialled) when tls_verify_server.
  std::string tls_host;  // empty: `host`
  int tls_port = 0;
  // With TLS on, our Contact is written by us, not sofia (which would put its sips: one on
  // every dialog, UDP ones too): "<sip:contact_host:PORT;transport=...>" for the transport
  // the dialog uses. Empty: `host` (when it is not a wildcard).
  std::string contact_host;
  std::string tls_dir;
  bool tls_verify_server = true;
  // Who may call (docs/security.md); replaced at run time by reload_access().
  AccessConfig access;
  MetricsRegistry* metrics = nullptr;  // atende_sip_refused_total & co.; null: not counted
};

class SipServer {
 public:
  SipServer(SipOptions options, SipEvents& events);
  ~SipServer();
  SipServer(const SipServer&) = delete;
  SipServer& operator=(const SipServer&) = delete;

  // Binds UDP and TCP and starts the SIP thread. Throws std::runtime_error if it cannot bind.
  void start();
  // Thread-safe: end this call: BYE when answered, CANCEL when we are still ringing out, a
  // final error when still ringing in. No-op if it has already ended.
  void hangup(const std::string& call_id);
  // The same, recording `reason` ("rtp_timeout", ...) as the dialog's end reason.
  void hangup(const std::string& call_id, std::string reason);
  // Thread-safe: a call held ringing (InviteReply::hold_ms) is answered now (200 with the
  // SDP on_invite gave). No-op when it is not held any more (ended, answered).
  void answer_held(const std::string& call_id);
  // Thread-safe: a call held ringing gets "183 Session Progress" with the SDP on_invite gave
  // (early media); it stays held. No-op when it is not held any more or had no offer.
  void progress_held(const std::string& call_id);
  // Thread-safe: a call held ringing gets the final `status` (400..699) instead, its end
  // recorded with `reason`. No-op when it is not held any more.
  void reject_held(const std::string& call_id, int status, std::string reason);
  // Thread-safe: place a call. Its progress and end come as SipEvents with its call_id.
  void invite(OutboundInvite call);
  // Thread-safe: blind transfer of an answered call to `target_uri` (REFER).
  void refer(const std::string& call_id, const std::string& target_uri);
  // Thread-safe: register (and keep registered) an account; again with the same name
  // replaces it.
  void register_account(RegistrationRequest request);
  // Thread-safe: BYE every call, unregister, stop the stack, join the thread. Idempotent.
  void stop();
  // Thread-safe: run `fn` on the SIP thread.
  void post(std::function<void()> fn);
  // Thread-safe: new access rules (SIGHUP); calls up and per-source counts are kept.
  void reload_access(AccessConfig access);
  // SIP thread only (from a SipEvents callback): may `source` place one more call into
  // `flow` (persona: an AI persona) within its calls per hour? Counts it when so; else the
  // rejection to answer with.
  std::optional<InviteReply> charge_call(const std::string& source, const std::string& flow,
                                         bool persona);
  // The port the stack listens on (after start()).
  int port() const;
  // The TLS port (after start()), 0 without TLS.
  int tls_port() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace atende::sip
