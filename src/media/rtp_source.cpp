#include "media/rtp_source.h"

namespace atende::media {

using boost::asio::ip::udp;

std::optional<LatchMode> parse_latch_mode(std::string_view text) {
  if (text == "strict") return LatchMode::kStrict;
  if (text == "nat") return LatchMode::kNat;
  return std::nullopt;
}

const char* to_string(LatchMode mode) { return mode == LatchMode::kNat ? "nat" : "strict"; }

RtpSource::RtpSource(LatchMode mode, const udp::endpoint& sdp) : mode_(mode), sdp_(sdp) {}

void RtpSource::latch(const udp::endpoint& from, uint32_t ssrc, MonoTime now) {
  latched_ = true;
  sdp_moved_ = false;
  latched_to_ = from;
  ssrc_ = ssrc;
  last_latched_rtp_ = now;
}

RtpSource::Verdict RtpSource::on_rtp(const udp::endpoint& from, uint32_t ssrc, MonoTime now) {
  if (!latched_) {
    if (mode_ == LatchMode::kStrict && from.address() != sdp_.address()) return Verdict::kStranger;
    latch(from, ssrc, now);
    return Verdict::kNewStream;
  }
  if (from == latched_to_) {
    if (ssrc == ssrc_) {
      last_latched_rtp_ = now;
      return Verdict::kAccept;
    }
    if (now - last_latched_rtp_ < kSsrcQuiet) return Verdict::kOtherSsrc;
    latch(from, ssrc, now);
    return Verdict::kNewStream;
  }
  // Another address never moves the latch (not even the same IP on another port, whatever
  // SSRC it claims), except the address a re-INVITE named (nat: see on_sdp).
  if (sdp_moved_ && from.address() == sdp_.address()) {
    latch(from, ssrc, now);
    return Verdict::kNewStream;
  }
  return Verdict::kStranger;
}

bool RtpSource::rtcp_allowed(const udp::endpoint& from) const {
  if (latched_) return from.address() == latched_to_.address();
  return mode_ == LatchMode::kStrict && from.address() == sdp_.address();
}

void RtpSource::on_sdp(const udp::endpoint& sdp) {
  if (sdp.port() == 0 || sdp.address().is_unspecified() || sdp == sdp_) return;
  sdp_ = sdp;
  if (mode_ == LatchMode::kStrict) {
    latched_ = false;  // only the new SDP address may latch now
  } else if (latched_) {
    sdp_moved_ = true;  // keep the latch until the named address speaks
  }
}

}  // namespace atende::media
