#include "sipfront/sip_front.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>

#include "rtp/codec.h"
#include "sip/sdp.h"
#include "sipfront/sip_target.h"

namespace atende::sipfront {
namespace {

using boost::asio::ip::udp;

std::optional<udp::endpoint> endpoint_of(const sip::NegotiatedAudio& n) {
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(n.remote.address, ec);
  if (ec) return std::nullopt;
  return udp::endpoint(addr, static_cast<unsigned short>(n.remote_port));
}

const std::vector<sip::CodecSpec>& codecs() {
  static const auto supported = sip::default_codecs();
  return supported;
}

rtp::SrtpSuite suite_of(sip::CryptoSuite s) {
  return s == sip::CryptoSuite::kAesCm128HmacSha1_32 ? rtp::SrtpSuite::kAesCm128HmacSha1_32
                                                     : rtp::SrtpSuite::kAesCm128HmacSha1_80;
}

// Our keys for an SRTP offer (both suites, strongest tag first) into `sdp`, by the policy:
// off: none; optional: RTP/AVP with a=crypto (RFC 8643); required: RTP/SAVP. False when the
// CSPRNG fails.
bool add_offer_keys(sip::LocalSdp& sdp, sip::SrtpPolicy policy) {
  sdp.crypto.clear();
  sdp.savp = policy == sip::SrtpPolicy::kRequired;
  if (policy == sip::SrtpPolicy::kOff) return true;
  for (auto [tag, suite] : {std::pair{1u, sip::CryptoSuite::kAesCm128HmacSha1_80},
                            std::pair{2u, sip::CryptoSuite::kAesCm128HmacSha1_32}}) {
    auto key = sip::make_crypto(tag, suite);
    if (!key) return false;
    sdp.crypto.push_back(*key);
  }
  return true;
}

// Answering with SRTP: our key for the suite the offerer's a=crypto chose (kept if we
// already have one of that suite, as on a re-INVITE). False when the CSPRNG fails.
bool add_answer_key(sip::LocalSdp& sdp, const sip::NegotiatedAudio& n) {
  if (!n.srtp()) {
    sdp.crypto.clear();
    return true;
  }
  for (const auto& c : sdp.crypto)
    if (c.suite == n.remote_crypto->suite) return true;
  auto key = sip::make_crypto(n.remote_crypto->tag, n.remote_crypto->suite);
  if (!key) return false;
  sdp.crypto = {*key};
  return true;
}

// The leg's SRTP keys: ours of the negotiated suite (answering: the one we made for it;
// reading an answer: the one whose tag they named), theirs from their a=crypto.
std::optional<rtp::SrtpParams> srtp_params(const sip::LocalSdp& sdp, const sip::NegotiatedAudio& n,
                                           bool offered) {
  if (!n.srtp()) return std::nullopt;
  const sip::CryptoAttribute& remote = *n.remote_crypto;
  for (const auto& c : sdp.crypto) {
    if (c.suite != remote.suite || (offered && c.tag != remote.tag)) continue;
    rtp::SrtpParams p;
    p.suite = suite_of(remote.suite);
    std::copy(c.key_salt.begin(), c.key_salt.end(), p.local.bytes.begin());
    std::copy(remote.key_salt.begin(), remote.key_salt.end(), p.remote.bytes.begin());
    return p;
  }
  return std::nullopt;
}

}  // namespace

// What the SIP side knows of one leg. Fields are written on the SIP thread; the map that
// holds them is guarded by mu_.
struct SipFront::SipLeg {
  std::string id;
  bool outbound = false;
  LegInfo info;
  std::shared_ptr<media::RtpLeg> leg;
  sip::NegotiatedAudio negotiated;
  sip::LocalSdp sdp;
  std::string media_note;
  int reserved_port = 0;     // in our offer, not yet bound by a leg
  Executor* near = nullptr;  // outbound: next to the session's other legs
  bool delayed_offer = false;
  Millis rtp_timeout{0};
  media::LatchMode latch = media::LatchMode::kStrict;
  sip::SrtpPolicy srtp = sip::SrtpPolicy::kOff;  // this leg's listener's or trunk's
  bool we_offered = false;  // our SDP was the offer (outbound, delayed offer): tags are ours
};

SipFront::SipFront(SipFrontOptions options, media::MediaEngine& media,
                   sessions::SessionManager& sessions, const sessions::DialPlan& plan,
                   MetricsRegistry& registry)
    : options_(std::move(options)),
      media_(media),
      sessions_(sessions),
      plan_(plan),
      session_id_base_(static_cast<uint64_t>(std::time(nullptr))) {
  registered_gauge_ =
      &registry.gauge("atende_trunks_registered", "Trunks whose registration is current.");
  for (const auto& t : plan_.trunks()) {
    TrunkStatus s;
    s.name = t.name;
    s.registers = t.register_account;
    trunks_[t.name] = s;
  }
}

SipFront::~SipFront() {
  std::lock_guard lock(mu_);
  for (auto& [id, s] : legs_) {
    if (s->reserved_port) media_.release_port(s->reserved_port);
  }
}

std::shared_ptr<SipFront::SipLeg> SipFront::find(const std::string& call_id) const {
  std::lock_guard lock(mu_);
  auto it = legs_.find(call_id);
  return it == legs_.end() ? nullptr : it->second;
}

media::LatchMode SipFront::latch_for(const std::string& trunk,
                                     const std::string& remote_host) const {
  for (const auto& t : plan_.trunks()) {
    if (t.rtp_latch.empty()) continue;
    if ((!trunk.empty() && t.name == trunk) || (trunk.empty() && t.host == remote_host)) {
      return media::parse_latch_mode(t.rtp_latch).value_or(options_.latch);
    }
  }
  return options_.latch;
}

std::shared_ptr<media::RtpLeg> SipFront::make_leg(SipLeg& s, const sip::NegotiatedAudio& n,
                                                  bool confirmed) {
  const rtp::Codec* codec = rtp::find_codec(n.codec_name);
  auto remote = endpoint_of(n);
  if (!codec || !remote) return nullptr;
  media::RtpLegParams params;
  params.info = s.info;
  boost::system::error_code ec;
  params.local_address = boost::asio::ip::make_address(options_.bind_address, ec);
  params.local_port = s.reserved_port;  // 0: any free pair
  params.remote = *remote;
  params.codec = codec;
  params.payload_type = static_cast<uint8_t>(n.payload_type);
  params.dtmf_payload_type = n.telephone_event_pt;
  params.send_enabled = n.we_may_send();
  params.on_hold = n.remote_direction != sip::MediaDirection::kSendRecv;
  params.latch = s.latch;
  params.rtp_timeout = s.rtp_timeout;
  params.watch_from_start = confirmed;
  if (n.srtp()) {
    params.srtp = srtp_params(s.sdp, n, s.we_offered);
    if (!params.srtp) return nullptr;
  }
  auto leg = media_.create_leg(params, s.near);
  s.reserved_port = 0;  // bound by the leg now (or given back by create_leg on failure)
  if (!leg) return nullptr;
  // Our hang-up (a flow ended the call): the session hears at once, SIP sends BYE/CANCEL.
  leg->on_local_hangup([this, id = s.id](std::string_view reason) {
    sessions_.note_local_hangup(id, reason);
    if (sip_) sip_->hangup(id);
    sessions_.leg_ended(id, "local_bye", 0);
  });
  // The peer went silent (media_watchdog.h): BYE, and the call ends as "rtp_timeout".
  leg->on_media_timeout([this, id = s.id] {
    sessions_.store().add_event(id, std::chrono::system_clock::now(), "rtp_timeout",
                                "no media from the peer");
    if (sip_) sip_->hangup(id, "rtp_timeout");
    sessions_.leg_ended(id, "rtp_timeout", 0);
  });
  s.negotiated = n;
  s.media_note = n.codec_name + " remote " + remote->address().to_string() + ":" +
                 std::to_string(remote->port()) + " local port " +
                 std::to_string(leg->local_port());
  if (n.srtp()) s.media_note += std::string(" SRTP ") + sip::to_string(n.remote_crypto->suite);
  s.leg = leg;
  return leg;
}

// ---- inbound ------------------------------------------------------------------------------

sip::InviteReply SipFront::on_invite(const std::string& call_id, const sip::InviteInfo& info) {
  const sessions::InboundRequest request{.call_id = call_id,
                                         .kind = "sip",
                                         .from = info.from_uri,
                                         .to = info.to_uri,
                                         .user = info.request_user,
                                         .can_hold = true};
  const sessions::Admission admission = sessions_.admit(request);
  spdlog::debug("call={} event=invite from={} to={} flow={}", call_id, info.from_uri, info.to_uri,
                admission.flow);
  auto reject = [&](int status, std::string phrase) {
    sessions_.reject(request, admission.flow, status, phrase);
    return sip::InviteReply::reject(status, std::move(phrase));
  };
  if (!admission.ok) return reject(admission.status, admission.phrase);
  // Calls per hour per source into flows that cost money (docs/security.md).
  if (sip_ && !info.remote_host.empty()) {
    if (auto limited = sip_->charge_call(info.remote_host, admission.flow, admission.persona)) {
      sessions_.reject(request, admission.flow, limited->status, limited->phrase);
      return *limited;
    }
  }

  auto s = std::make_shared<SipLeg>();
  s->id = call_id;
  s->info = LegInfo{call_id, "sip", LegDirection::kInbound, info.from_uri, info.to_uri};
  s->rtp_timeout =
      admission.rtp_timeout.count() >= 0 ? admission.rtp_timeout : options_.rtp_timeout;
  s->latch = latch_for("", info.remote_host);
  s->sdp.address = options_.media_address;
  s->sdp.session_id = session_id_base_ + std::hash<std::string>{}(call_id) % 1000000;
  s->sdp.session_version = 1;
  s->srtp = info.transport == "tls" ? options_.tls_srtp : options_.srtp;
  std::string body;
  if (info.sdp.empty()) {
    // Delayed offer (RFC 3261 13.2.1): our offer goes in the 200, the answer comes in the
    // ACK. The port is reserved now; the leg is made once the answer names the codec.
    auto port = media_.reserve_port();
    if (!port) return reject(503, "No Media Ports");
    s->reserved_port = *port;
    s->delayed_offer = true;
    s->we_offered = true;
    s->sdp.rtp_port = *port;
    auto offer = add_offer_keys(s->sdp, s->srtp)
                     ? sip::build_offer(s->sdp, codecs())
                     : sip::SdpResult<std::string>(sip::sdp_error(sip::SdpErrc::kBadLocal, "rng"));
    if (!offer) {
      media_.release_port(*port);
      return reject(500, "Cannot Build SDP");
    }
    body = offer.value();
  } else {
    auto offer = sip::parse_sdp(info.sdp);
    if (!offer) {
      return reject(offer.error().code == sip::SdpErrc::kNotAcceptable ? 488 : 400,
                    "Bad SDP: " + offer.error().message);
    }
    auto neg = sip::negotiate_offer(offer.value(), codecs(), s->srtp);
    if (!neg) {
      spdlog::info("call={} event=offer_refused transport={} srtp={}: {}", call_id, info.transport,
                   sip::to_string(s->srtp), neg.error().message);
      return reject(488, neg.error().message);
    }
    if (!rtp::find_codec(neg.value().codec_name) || !endpoint_of(neg.value())) {
      return reject(488, "Not Acceptable Here");
    }
    if (!add_answer_key(s->sdp, neg.value())) return reject(500, "Cannot Make SRTP Key");
    auto leg = make_leg(*s, neg.value(), false);  // the timeout counts from the ACK
    if (!leg) return reject(503, "No Media Ports");
    s->sdp.rtp_port = leg->local_port();
    auto answer = sip::build_answer(s->negotiated, s->sdp);
    if (!answer) return reject(500, "Cannot Build SDP");
    body = answer.value();
  }
  {
    std::lock_guard lock(mu_);
    legs_.emplace(call_id, s);
  }
  sessions_.open_inbound(request, admission, s->leg ? &s->leg->executor() : nullptr);
  sip::InviteReply reply{200, "OK", std::move(body)};
  reply.ring_ms = options_.ring_ms;
  // A driver decides when (and whether) this call is answered: 180 until it does.
  if (admission.hold.count() > 0) reply.hold_ms = static_cast<int>(admission.hold.count());
  return reply;
}

void SipFront::on_answered(const std::string& call_id) {
  auto s = find(call_id);
  if (!s || !s->leg) return;  // a delayed offer starts once the ACK brings the answer
  sessions_.leg_answered(s->leg, s->media_note);
}

void SipFront::on_ack_answer(const std::string& call_id, std::string_view sdp) {
  auto s = find(call_id);
  if (!s || s->leg) return;
  auto answer = sip::parse_sdp(sdp);
  auto neg = answer ? sip::negotiate_answer(answer.value(), codecs(), 1, s->sdp.crypto, s->srtp)
                    : sip::SdpResult<sip::NegotiatedAudio>(answer.error());
  std::shared_ptr<media::RtpLeg> leg = neg ? make_leg(*s, neg.value(), true) : nullptr;
  if (!leg) {
    spdlog::warn("call={} event=bad_ack_sdp: {}", call_id,
                 sdp.empty() ? "no SDP in the ACK"
                 : neg       ? "no media port"
                             : neg.error().message);
    fail_leg(call_id, "bad_sdp");
    return;
  }
  sessions_.leg_answered(leg, s->media_note);
}

void SipFront::on_confirmed(const std::string& call_id) {
  auto s = find(call_id);
  if (!s || !s->leg) return;
  auto leg = s->leg;
  leg->worker().post([leg] { leg->watch_media(); });
}

sip::InviteReply SipFront::on_reinvite(const std::string& call_id, std::string_view sdp) {
  auto c = find(call_id);
  if (!c || !c->leg) return sip::InviteReply::reject(481, "Call Does Not Exist");
  if (sdp.empty()) {
    // Session refresh without SDP: repeat our last answer.
    auto again = sip::build_answer(c->negotiated, c->sdp);
    return {200, "OK", again ? again.value() : ""};
  }
  auto offer = sip::parse_sdp(sdp);
  if (!offer) return sip::InviteReply::reject(488, "Not Acceptable Here");
  auto neg = sip::negotiate_offer(offer.value(), codecs(), c->srtp);
  // Changing codec mid-call is not supported: keep the one the leg was built for. Nor is
  // turning SRTP on or off: the leg's packets are one or the other.
  if (!neg || neg.value().codec_name != c->negotiated.codec_name ||
      neg.value().srtp() != c->negotiated.srtp()) {
    return sip::InviteReply::reject(488, neg ? "Not Acceptable Here" : neg.error().message);
  }
  // New keys from the peer (or another suite): the leg re-keys; ours stay unless the suite
  // changed.
  std::optional<rtp::SrtpParams> rekey;
  if (neg.value().srtp() && !(*neg.value().remote_crypto == *c->negotiated.remote_crypto)) {
    c->we_offered = false;
    if (!add_answer_key(c->sdp, neg.value())) return sip::InviteReply::reject(500, "No Key");
    rekey = srtp_params(c->sdp, neg.value(), false);
    if (!rekey) return sip::InviteReply::reject(500, "No Key");
  }
  c->negotiated = neg.value();
  c->sdp.session_version++;
  auto answer = sip::build_answer(c->negotiated, c->sdp);
  if (!answer) return sip::InviteReply::reject(500, "Cannot Build SDP");
  auto remote = endpoint_of(c->negotiated).value_or(udp::endpoint());
  const bool may_send = c->negotiated.we_may_send();
  const bool on_hold = c->negotiated.remote_direction != sip::MediaDirection::kSendRecv;
  const std::string dir(sip::to_string(c->negotiated.remote_direction));
  sessions_.store().add_event(call_id, std::chrono::system_clock::now(), "reinvite",
                              "remote " + dir);
  spdlog::info("call={} event=reinvite remote_direction={}", call_id, dir);
  auto leg = c->leg;
  leg->worker().post([leg, remote, may_send, on_hold, rekey = std::move(rekey)] {
    leg->update(remote, may_send, on_hold);
    if (rekey) leg->rekey(*rekey);
  });
  return {200, "OK", answer.value()};
}

void SipFront::fail_leg(const std::string& call_id, std::string_view reason) {
  if (sip_) sip_->hangup(call_id);
  sessions_.leg_ended(call_id, reason, 0);
}

void SipFront::on_ended(const std::string& call_id, std::string_view reason, int sip_status) {
  std::shared_ptr<SipLeg> s;
  {
    std::lock_guard lock(mu_);
    auto it = legs_.find(call_id);
    if (it != legs_.end()) {
      s = std::move(it->second);
      legs_.erase(it);
    }
  }
  if (s && s->reserved_port) media_.release_port(s->reserved_port);
  // The leg belongs to its worker: close it there (its listener hears on_hangup first).
  if (s && s->leg) {
    auto leg = s->leg;
    leg->worker().post([leg, reason = std::string(reason)] { leg->close(reason); });
  }
  sessions_.leg_ended(call_id, reason, sip_status);
}

void SipFront::end_all(std::string_view reason) {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, s] : legs_) ids.push_back(id);
  }
  for (const auto& id : ids) on_ended(id, reason, 0);
}

// ---- outbound -----------------------------------------------------------------------------

sessions::ControlResult<sessions::Done> SipFront::check(const std::string& to,
                                                        const std::string& trunk) const {
  auto target = resolve_sip_target(to, trunk, "", plan_, options_.local_host);
  if (!target) return target.error();
  return sessions::Done{};
}

void SipFront::dial(sessions::DialOrder order) {
  if (!sip_) {
    sessions_.leg_ended(order.leg_id, "unreachable", 0);
    return;
  }
  // Everything SIP happens on the SIP thread, in the order asked.
  sip_->post([this, order = std::move(order)]() mutable { place(std::move(order)); });
}

void SipFront::place(sessions::DialOrder order) {
  const std::string id = order.leg_id;
  auto target =
      resolve_sip_target(order.to, order.trunk, order.caller_id, plan_, options_.local_host);
  if (!target) {
    spdlog::warn("call={} event=dial_failed: {}", id, target.error().message);
    sessions_.leg_ended(id, "failed", 0);
    return;
  }
  auto port = media_.reserve_port();
  if (!port) {
    spdlog::warn("call={} event=dial_failed: no free RTP port", id);
    sessions_.leg_ended(id, "failed", 0);
    return;
  }
  auto s = std::make_shared<SipLeg>();
  s->id = id;
  s->outbound = true;
  s->near = order.near;
  s->reserved_port = *port;
  s->rtp_timeout = options_.rtp_timeout;
  s->latch = latch_for(target.value().trunk, "");
  s->info = LegInfo{id, "sip", LegDirection::kOutbound, target.value().from_uri,
                    target.value().request_uri};
  s->sdp.address = options_.media_address;
  s->sdp.rtp_port = *port;
  s->sdp.session_id = session_id_base_ + std::hash<std::string>{}(id) % 1000000;
  s->sdp.session_version = 1;
  s->srtp = target.value().srtp;
  s->we_offered = true;
  auto offer = add_offer_keys(s->sdp, s->srtp)
                   ? sip::build_offer(s->sdp, codecs())
                   : sip::SdpResult<std::string>(sip::sdp_error(sip::SdpErrc::kBadLocal, "rng"));
  if (!offer) {
    media_.release_port(*port);
    sessions_.leg_ended(id, "failed", 0);
    return;
  }
  {
    std::lock_guard lock(mu_);
    legs_.emplace(id, s);
  }
  const auto& t = target.value();
  sessions_.store().add_event(id, std::chrono::system_clock::now(), "dial",
                              t.request_uri + (t.trunk.empty() ? "" : " via " + t.trunk));
  sip_->invite(sip::OutboundInvite{
      .call_id = id,
      .request_uri = t.request_uri,
      .from_uri = t.from_uri,
      .from_display = t.from_display,
      .to_uri = {},
      .outbound_proxy = t.outbound_proxy,
      .credentials = t.credentials,
      .sdp_offer = offer.value(),
      .ring_timeout_ms = static_cast<int>(order.ring_timeout.count()),
  });
}

void SipFront::on_outbound_progress(const std::string& call_id, int status, std::string_view sdp) {
  sessions_.leg_progress(call_id, status);
  auto s = find(call_id);
  if (sdp.empty() || !s || s->leg) return;
  // Early media (183 with SDP, RFC 3960): the answer to our offer comes now; the leg is made
  // now and the session decides whether anyone hears it before the 200.
  auto answer = sip::parse_sdp(sdp);
  auto neg = answer ? sip::negotiate_answer(answer.value(), codecs(), 1, s->sdp.crypto, s->srtp)
                    : sip::SdpResult<sip::NegotiatedAudio>(answer.error());
  if (!neg) {
    spdlog::warn("call={} event=bad_early_sdp: {}", call_id, neg.error().message);
    return;
  }
  // Early media: the timeout counts once answered (leg start), not while it rings.
  if (auto leg = make_leg(*s, neg.value(), true)) sessions_.leg_early(leg);
}

void SipFront::on_outbound_answered(const std::string& call_id, std::string_view sdp) {
  auto s = find(call_id);
  if (!s) return;
  if (s->leg) {
    // The leg exists since the 183: its answer stands (a 2xx repeats it, RFC 3261 13.2.1).
    sessions_.leg_answered(s->leg, s->media_note);
    return;
  }
  std::string body(sdp);
  auto answer = sip::parse_sdp(body);
  auto neg = answer ? sip::negotiate_answer(answer.value(), codecs(), 1, s->sdp.crypto, s->srtp)
                    : sip::SdpResult<sip::NegotiatedAudio>(answer.error());
  std::shared_ptr<media::RtpLeg> leg = neg ? make_leg(*s, neg.value(), true) : nullptr;
  if (!leg) {
    spdlog::warn("call={} event=bad_answer_sdp: {}", call_id,
                 body.empty() ? "no SDP in the answer"
                 : neg        ? "no media port"
                              : neg.error().message);
    fail_leg(call_id, "bad_sdp");
    return;
  }
  sessions_.leg_answered(leg, s->media_note);
}

void SipFront::hang_up(const std::string& leg_id) {
  if (sip_) sip_->hangup(leg_id);
}

void SipFront::answer_held(const std::string& leg_id) {
  if (sip_) sip_->answer_held(leg_id);
}

bool SipFront::progress_held(const std::string& leg_id) {
  auto s = find(leg_id);
  // A delayed offer has no media before the ACK (our offer would need PRACK in a 183).
  if (!sip_ || !s || !s->leg) return false;
  sip_->progress_held(leg_id);
  sessions_.leg_early_inbound(s->leg);
  return true;
}

void SipFront::reject_held(const std::string& leg_id, int status, const std::string& reason) {
  if (sip_) sip_->reject_held(leg_id, status, reason);
}

void SipFront::transfer(const std::string& leg_id, const std::string& to) {
  auto target = resolve_sip_target(to, "", "", plan_, options_.local_host);
  if (!target || !sip_) {
    sessions_.leg_transfer_progress(leg_id, 404);
    return;
  }
  sip_->refer(leg_id, target.value().request_uri);
}

void SipFront::on_refer_progress(const std::string& call_id, int status) {
  sessions_.leg_transfer_progress(call_id, status);
}

// ---- registrations ------------------------------------------------------------------------

void SipFront::register_trunks() {
  if (!sip_) return;
  for (const auto& t : plan_.trunks()) {
    if (!t.register_account) continue;
    const std::string domain = t.domain.empty() ? t.host : t.domain;
    std::string registrar = "sip:" + t.host + ":" + std::to_string(t.port);
    if (t.transport != "udp") registrar += ";transport=" + t.transport;
    sip_->register_account(sip::RegistrationRequest{
        .name = t.name,
        .registrar_uri = registrar,
        .aor = "sip:" + t.user + "@" + domain,
        .contact_user = t.user,
        .outbound_proxy = t.outbound_proxy,
        .credentials = {t.user, t.password},
        .expires_seconds = t.register_expires,
    });
  }
}

void SipFront::on_registration(const std::string& name, sip::RegistrationState state, int status,
                               std::string_view phrase) {
  int64_t registered = 0;
  {
    std::lock_guard lock(mu_);
    auto& t = trunks_[name];
    t.name = name;
    t.state = sip::to_string(state);
    t.last_status = status;
    t.last_phrase = std::string(phrase);
    t.changed_at = std::chrono::system_clock::now();
    for (const auto& [n, s] : trunks_) registered += s.state == "registered";
  }
  registered_gauge_->set(registered);
  if (state == sip::RegistrationState::kRegistered) {
    spdlog::info("sip: trunk {} registered", name);
  } else if (state == sip::RegistrationState::kFailed) {
    spdlog::warn("sip: trunk {} registration failed: {} {}", name, status, phrase);
  }
}

std::vector<TrunkStatus> SipFront::trunk_status() const {
  std::lock_guard lock(mu_);
  std::vector<TrunkStatus> out;
  for (const auto& [n, s] : trunks_) out.push_back(s);
  return out;
}

}  // namespace atende::sipfront
