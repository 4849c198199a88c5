#include "call/call_manager.h"

#include <spdlog/spdlog.h>

#include "call/agent_turns.h"
#include "call/call_host.h"
#include "rtp/codec.h"
#include "sip/sdp.h"
#include "sip/sdp_build.h"
#include "sip/sdp_negotiate.h"

namespace atende::call {
namespace {

using boost::asio::ip::udp;

store::WallTime wall_now() { return std::chrono::system_clock::now(); }

std::optional<udp::endpoint> endpoint_of(const sip::NegotiatedAudio& n) {
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(n.remote.address, ec);
  if (ec) return std::nullopt;
  return udp::endpoint(addr, static_cast<unsigned short>(n.remote_port));
}

}  // namespace

CallManager::CallManager(CallManagerOptions options, media::MediaEngine& media,
                         flow::FlowLibrary& flows, speech::PhraseSource& phrases,
                         speech::Recognizer* recognizer, store::CallStore& store,
                         CoreMetrics& metrics)
    : options_(std::move(options)),
      media_(media),
      flows_(flows),
      phrases_(phrases),
      recognizer_(recognizer),
      store_(store),
      metrics_(metrics),
      session_id_base_(static_cast<uint64_t>(std::time(nullptr))) {}

CallManager::~CallManager() = default;

size_t CallManager::active_calls() const {
  std::lock_guard lock(mu_);
  return calls_.size();
}

sip::InviteReply CallManager::reject(const std::string& call_id, const sip::InviteInfo& info,
                                     const std::string& flow, int status, std::string phrase) {
  auto now = wall_now();
  store_.call_started({.id = call_id, .direction = store::CallDirection::kInbound,
                       .from = info.from_uri, .to = info.to_uri, .leg_kind = "sip",
                       .flow = flow, .at = now});
  store_.call_ended(call_id, now, "rejected: " + phrase, status);
  metrics_.calls_rejected.inc();
  spdlog::info("call={} event=rejected status={} reason=\"{}\" from={}", call_id, status, phrase,
               info.from_uri);
  return sip::InviteReply::reject(status, std::move(phrase));
}

sip::InviteReply CallManager::on_invite(const std::string& call_id, const sip::InviteInfo& info) {
  const agent::Persona* persona =
      personas_ && agents_ ? personas_->resolve(info.request_user) : nullptr;
  const std::string flow_name = persona ? persona->name : flows_.resolve(info.request_user);
  spdlog::debug("call={} event=invite from={} to={} flow={}", call_id, info.from_uri, info.to_uri,
                flow_name);
  if (draining_) return reject(call_id, info, flow_name, 503, "Service Unavailable");
  if (active_calls() >= static_cast<size_t>(options_.max_calls)) {
    return reject(call_id, info, flow_name, 486, "Busy Here");
  }
  if (info.sdp.empty()) {
    // Offer-less INVITE (offer in our 200, answer in ACK): not supported yet.
    return reject(call_id, info, flow_name, 488, "Not Acceptable Here (no SDP offer)");
  }
  auto offer = sip::parse_sdp(info.sdp);
  if (!offer) {
    return reject(call_id, info, flow_name,
                  offer.error().code == sip::SdpErrc::kNotAcceptable ? 488 : 400,
                  "Bad SDP: " + offer.error().message);
  }
  static const auto supported = sip::default_codecs();
  auto neg = sip::negotiate_offer(offer.value(), supported);
  if (!neg) return reject(call_id, info, flow_name, 488, "Not Acceptable Here");
  const auto& n = neg.value();
  const rtp::Codec* codec = rtp::find_codec(n.codec_name);
  auto remote = endpoint_of(n);
  if (!codec || !remote) return reject(call_id, info, flow_name, 488, "Not Acceptable Here");
  if (flow_name.empty()) return reject(call_id, info, flow_name, 404, "No Flow");

  media::RtpLegParams params;
  params.call_id = call_id;
  boost::system::error_code ec;
  params.local_address = boost::asio::ip::make_address(options_.bind_address, ec);
  params.remote = *remote;
  params.codec = codec;
  params.payload_type = static_cast<uint8_t>(n.payload_type);
  params.dtmf_payload_type = n.telephone_event_pt;
  params.send_enabled = n.we_may_send();
  auto leg = media_.create_leg(params);
  if (!leg) return reject(call_id, info, flow_name, 503, "No Media Ports");

  auto c = std::make_shared<Call>();
  c->info = {call_id, info.from_uri, info.to_uri, flow_name};
  c->leg = leg;
  c->negotiated = n;
  c->sdp.address = options_.media_address;
  c->sdp.rtp_port = leg->local_port();
  c->sdp.session_id = session_id_base_ + std::hash<std::string>{}(call_id) % 1000000;
  c->sdp.session_version = 1;
  auto answer = sip::build_answer(n, c->sdp);
  if (!answer) return reject(call_id, info, flow_name, 500, "Cannot Build SDP");

  c->host = std::make_unique<CallHost>(*c, phrases_, recognizer_, store_);
  auto flow = persona ? agents_->create(*persona, *c->host, agent_turn_sink(store_, call_id))
                      : flows_.create(flow_name, *c->host);
  if (!flow) return reject(call_id, info, flow_name, 404, "No Flow");
  c->flow = std::move(flow);

  store_.call_started({.id = call_id, .direction = store::CallDirection::kInbound,
                       .from = info.from_uri, .to = info.to_uri, .leg_kind = "sip",
                       .flow = flow_name, .at = wall_now()});
  {
    std::lock_guard lock(mu_);
    calls_.emplace(call_id, c);
  }
  metrics_.active_calls.inc();
  // Our hang-up (the flow ended the call): BYE through the SIP thread.
  leg->on_local_hangup([this, call_id](std::string_view reason) {
    spdlog::info("call={} event=local_hangup reason={}", call_id, reason);
    store_.add_event(call_id, wall_now(), "hangup", std::string(reason));
    if (sip_) sip_->hangup(call_id);
  });
  c->media_note = n.codec_name + " remote " + remote->address().to_string() + ":" +
                  std::to_string(remote->port()) + " local port " +
                  std::to_string(leg->local_port());
  sip::InviteReply reply{200, "OK", answer.value()};
  reply.ring_ms = options_.ring_ms;
  return reply;
}

void CallManager::on_answered(const std::string& call_id) {
  auto c = find(call_id);
  if (!c) return;
  c->answered = true;
  auto now = wall_now();
  store_.call_answered(call_id, now);
  store_.add_event(call_id, now, "answered", c->media_note);
  metrics_.calls_answered.inc();
  spdlog::info("call={} event=answered from={} to={} flow={} {}", call_id, c->info.from,
               c->info.to, c->info.flow, c->media_note);
  // Media and the flow start on the leg's worker.
  c->leg->worker().post([c] {
    c->leg->set_listener(c->flow.get());
    c->leg->start();
    c->flow->start(MonoClock::now());
  });
}

void CallManager::end_all(std::string_view reason) {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, call] : calls_) ids.push_back(id);
  }
  for (const auto& id : ids) on_ended(id, reason, 0);
}

std::shared_ptr<CallManager::Call> CallManager::find(const std::string& call_id) const {
  std::lock_guard lock(mu_);
  auto it = calls_.find(call_id);
  return it == calls_.end() ? nullptr : it->second;
}

sip::InviteReply CallManager::on_reinvite(const std::string& call_id, std::string_view sdp) {
  auto c = find(call_id);
  if (!c) return sip::InviteReply::reject(481, "Call Does Not Exist");
  if (sdp.empty()) {
    // Session refresh without SDP: repeat our last answer.
    auto again = sip::build_answer(c->negotiated, c->sdp);
    return {200, "OK", again ? again.value() : ""};
  }
  auto offer = sip::parse_sdp(sdp);
  if (!offer) return sip::InviteReply::reject(488, "Not Acceptable Here");
  static const auto supported = sip::default_codecs();
  auto neg = sip::negotiate_offer(offer.value(), supported);
  // Changing codec mid-call is not supported: keep the one the leg was built for.
  if (!neg || neg.value().codec_name != c->negotiated.codec_name) {
    return sip::InviteReply::reject(488, "Not Acceptable Here");
  }
  c->negotiated = neg.value();
  c->sdp.session_version++;
  auto answer = sip::build_answer(c->negotiated, c->sdp);
  if (!answer) return sip::InviteReply::reject(500, "Cannot Build SDP");
  auto remote = endpoint_of(c->negotiated).value_or(udp::endpoint());
  const bool may_send = c->negotiated.we_may_send();
  const std::string dir(sip::to_string(c->negotiated.remote_direction));
  store_.add_event(call_id, wall_now(), "reinvite", "remote " + dir);
  spdlog::info("call={} event=reinvite remote_direction={}", call_id, dir);
  c->leg->worker().post([c, remote, may_send] { c->leg->update(remote, may_send); });
  return {200, "OK", answer.value()};
}

void CallManager::on_ended(const std::string& call_id, std::string_view reason, int sip_status) {
  std::shared_ptr<Call> c;
  {
    std::lock_guard lock(mu_);
    auto it = calls_.find(call_id);
    if (it == calls_.end()) return;
    c = std::move(it->second);
    calls_.erase(it);
  }
  metrics_.active_calls.dec();
  if (!c->answered) metrics_.calls_abandoned.inc();
  spdlog::info("call={} event=ended reason={}", call_id, reason);
  store_.call_ended(call_id, wall_now(), std::string(reason),
                    sip_status ? std::optional<int>(sip_status) : std::nullopt);
  // The flow and the leg belong to the worker: end them there.
  c->leg->worker().post([c, reason = std::string(reason)] {
    c->leg->close(reason);
    c->host->end();
    c->flow.reset();
  });
}

}  // namespace atende::call
