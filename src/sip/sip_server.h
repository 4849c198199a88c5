// The SIP user agent: sofia-sip's nua on its own thread (its su_root). Everything that
// reaches the rest of atende goes through SipEvents, called on that thread; everything
// the rest of atende asks of SIP (hang up, shut down) is queued to that thread.
// No SDP here: sofia's offer/answer engine is disabled and the call layer writes the SDP.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

namespace atende::sip {

struct InviteInfo {
  std::string sip_call_id;
  std::string from_uri;
  std::string to_uri;
  std::string request_user;  // user part of the Request-URI: picks the flow
  std::string remote_host;   // where the request came from (IP of the last hop)
  std::string sdp;           // the offer (empty when the INVITE had no body)
};

// Our reply to an INVITE or re-INVITE: 200 with an SDP answer, or a rejection.
// With ring_ms > 0 (new INVITEs only) we send 180 Ringing first and the 200 that much later;
// a CANCEL in between ends the call with 487.
struct InviteReply {
  int status = 200;
  std::string phrase = "OK";
  std::string sdp;
  int ring_ms = 0;
  static InviteReply reject(int status, std::string phrase) { return {status, std::move(phrase), {}}; }
};

// One SIP dialog (call). Opaque outside the SIP thread except for `call_id`.
class Dialog;
using DialogPtr = std::shared_ptr<Dialog>;

class SipEvents {
 public:
  virtual ~SipEvents() = default;
  // A new INVITE passed our sanity checks. Return the answer (or a rejection).
  // `call_id` is ours; remember it to match later events.
  virtual InviteReply on_invite(const std::string& call_id, const InviteInfo& info) = 0;
  virtual InviteReply on_reinvite(const std::string& call_id, std::string_view sdp) = 0;
  // We sent 200 OK for the INVITE accepted by on_invite(): media may start.
  virtual void on_answered(const std::string& call_id) = 0;
  // The dialog is gone (BYE either way, CANCEL, no ACK, transport error).
  virtual void on_ended(const std::string& call_id, std::string_view reason, int sip_status) = 0;
};

struct SipOptions {
  std::string host = "0.0.0.0";
  int port = 5060;
  std::string user_agent = "atende";
};

class SipServer {
 public:
  SipServer(SipOptions options, SipEvents& events);
  ~SipServer();
  SipServer(const SipServer&) = delete;
  SipServer& operator=(const SipServer&) = delete;

  // Binds UDP and TCP and starts the SIP thread. Throws std::runtime_error if it cannot bind.
  void start();
  // Thread-safe: send BYE for this call (no-op if it has already ended).
  void hangup(const std::string& call_id);
  // Thread-safe: BYE every call, stop the stack, join the thread. Idempotent.
  void stop();
  // Thread-safe: run `fn` on the SIP thread.
  void post(std::function<void()> fn);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace atende::sip
