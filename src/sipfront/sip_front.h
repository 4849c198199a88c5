// The SIP front-end: turns SIP dialogs into legs of sessions and places calls for them.
// Inbound: an INVITE is admitted by the sessions part (dial plan, limits), its SDP
// negotiated (or, without SDP, our offer sent in the 200 and the answer taken from the
// ACK), an RTP leg bound on a media worker, and the session opened. Outbound: the number
// is resolved to a trunk, a port is reserved for our offer, the INVITE sent; the RTP leg is
// made when the answer names the codec, next to the session's other legs. Registrations of
// the trunks that ask for it are kept here too.
//
// SIP events arrive on the SIP thread. Per-leg SIP state lives in a map guarded by a mutex
// that is never held across a call into sofia, the media engine or the sessions part.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/metrics.h"
#include "media/media_engine.h"
#include "sessions/dial_plan.h"
#include "sessions/dialer.h"
#include "sessions/session_manager.h"
#include "sip/sdp_build.h"
#include "sip/sdp_negotiate.h"
#include "sip/sip_server.h"

namespace atende::sipfront {

struct SipFrontOptions {
  std::string media_address;  // what we put in SDP c=
  std::string bind_address;   // where RTP sockets bind
  std::string local_host;     // our host for From when dialling a URI without a trunk
  int ring_ms = 0;            // 180 Ringing this long before answering
  Millis rtp_timeout{30000};  // RTP inactivity timeout unless the flow sets its own; 0: never
  media::LatchMode latch = media::LatchMode::kStrict;  // the listener's (trunks may differ)
  // SRTP policy for calls that reach us on the plain listener (UDP, TCP) and over TLS.
  sip::SrtpPolicy srtp = sip::SrtpPolicy::kOptional;
  sip::SrtpPolicy tls_srtp = sip::SrtpPolicy::kRequired;
};

// One trunk's registration as /api/trunks shows it.
struct TrunkStatus {
  std::string name;
  bool registers = false;
  std::string state;  // "registering", "registered", "failed", "unregistered", "" (none)
  int last_status = 0;
  std::string last_phrase;
  std::chrono::system_clock::time_point changed_at{};
};

class SipFront final : public sip::SipEvents, public sessions::Dialer {
 public:
  SipFront(SipFrontOptions options, media::MediaEngine& media, sessions::SessionManager& sessions,
           const sessions::DialPlan& plan, MetricsRegistry& registry);
  ~SipFront() override;

  // The SIP server is created after us (it needs us as its events sink).
  void attach(sip::SipServer& sip) { sip_ = &sip; }
  // After the SIP server started: REGISTER every trunk that asks for it.
  void register_trunks();
  std::vector<TrunkStatus> trunk_status() const;
  // After the SIP server stopped: every leg it did not report ended ends now, as if it had
  // (its RTP leg is closed on its worker, so the flow hears the hang-up and records its last
  // events; then the session). Before SessionManager::end_all and the media stop.
  void end_all(std::string_view reason);

  // sip::SipEvents (SIP thread)
  sip::InviteReply on_invite(const std::string& call_id, const sip::InviteInfo& info) override;
  sip::InviteReply on_reinvite(const std::string& call_id, std::string_view sdp) override;
  void on_answered(const std::string& call_id) override;
  void on_ack_answer(const std::string& call_id, std::string_view sdp) override;
  void on_confirmed(const std::string& call_id) override;
  void on_ended(const std::string& call_id, std::string_view reason, int sip_status) override;
  void on_outbound_progress(const std::string& call_id, int status, std::string_view sdp) override;
  void on_outbound_answered(const std::string& call_id, std::string_view sdp) override;
  void on_refer_progress(const std::string& call_id, int status) override;
  void on_registration(const std::string& name, sip::RegistrationState state, int status,
                       std::string_view phrase) override;

  // sessions::Dialer (any thread)
  sessions::ControlResult<sessions::Done> check(const std::string& to,
                                                const std::string& trunk) const override;
  void dial(sessions::DialOrder order) override;
  void hang_up(const std::string& leg_id) override;
  void transfer(const std::string& leg_id, const std::string& to) override;
  void answer_held(const std::string& leg_id) override;
  bool progress_held(const std::string& leg_id) override;
  void reject_held(const std::string& leg_id, int status, const std::string& reason) override;

 private:
  struct SipLeg;
  std::shared_ptr<SipLeg> find(const std::string& call_id) const;
  void place(sessions::DialOrder order);  // SIP thread
  // Makes the RTP leg once the codec is known; nullptr when no port or no codec (or no
  // local key for the SRTP suite the negotiation chose). `confirmed`: the dialog is up
  // (ACKed or answered), so the RTP timeout counts at once.
  std::shared_ptr<media::RtpLeg> make_leg(SipLeg& s, const sip::NegotiatedAudio& n, bool confirmed);
  // The latching rule for a call to or from `trunk`/`remote_host` (rtp_source.h).
  media::LatchMode latch_for(const std::string& trunk, const std::string& remote_host) const;
  void fail_leg(const std::string& call_id, std::string_view reason);

  SipFrontOptions options_;
  media::MediaEngine& media_;
  sessions::SessionManager& sessions_;
  const sessions::DialPlan& plan_;
  sip::SipServer* sip_ = nullptr;
  uint64_t session_id_base_;
  Gauge* registered_gauge_ = nullptr;  // atende_trunks_registered

  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<SipLeg>> legs_;
  std::map<std::string, TrunkStatus> trunks_;
};

}  // namespace atende::sipfront
