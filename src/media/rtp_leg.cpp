#include "media/rtp_leg.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <time.h>

#include <boost/asio/post.hpp>
#include <cstring>
#include <random>
#include <stdexcept>
#include <utility>

#include "audio/resampler.h"
#include "rtp/rtcp.h"
#include "rtp/rtp_packet.h"

namespace atende::media {
namespace {

using boost::asio::ip::udp;

constexpr auto kRtcpInterval = std::chrono::seconds(5);

uint32_t random_u32() {
  static thread_local std::mt19937 rng{std::random_device{}()};
  return rng();
}

udp::endpoint rtcp_of(const udp::endpoint& rtp) {
  return udp::endpoint(rtp.address(), static_cast<unsigned short>(rtp.port() + 1));
}

std::unique_ptr<rtp::SrtpSession> make_srtp(const std::optional<rtp::SrtpParams>& params) {
  if (!params) return nullptr;
  std::string error;
  auto session = rtp::SrtpSession::create(*params, &error);
  if (!session) throw std::runtime_error("srtp: " + error);
  return session;
}

rtp::JitterBufferConfig jitter_config(const rtp::Codec& codec) {
  rtp::JitterBufferConfig c;
  c.timestamp_step = codec.timestamp_step();
  return c;
}

}  // namespace

RtpLeg::RtpLeg(MediaWorker& worker, const RtpLegParams& p, CoreMetrics& metrics)
    : worker_(&worker),
      send_enabled_(p.send_enabled),
      payload_type_(p.payload_type),
      dtmf_pt_(p.dtmf_payload_type),
      rtp_socket_(udp::endpoint(p.local_address, static_cast<unsigned short>(p.local_port))),
      srtp_(make_srtp(p.srtp)),
      codec_(p.codec),
      metrics_(metrics),
      encoder_(p.codec->make_encoder()),
      decoder_(p.codec->make_decoder()),
      ssrc_(random_u32()),
      seq_(static_cast<uint16_t>(random_u32())),
      ts_(random_u32()),
      remote_(p.remote),
      source_(p.latch, p.remote),
      watchdog_(p.rtp_timeout),
      jitter_(jitter_config(*p.codec)),
      reception_(p.codec->clock_rate),
      playout_(static_cast<int>(p.codec->sample_rate)),
      rtcp_socket_(udp::endpoint(p.local_address, static_cast<unsigned short>(p.local_port + 1))),
      remote_rtcp_(rtcp_of(p.remote)),
      info_(p.info),
      local_port_(p.local_port),
      watch_from_start_(p.watch_from_start) {
  watchdog_.set_hold(p.on_hold, MonoClock::now());
}

RtpLeg::~RtpLeg() {
  rtp_socket_.close();
  rtcp_socket_.close();
  if (on_destroy_) on_destroy_();
}

void RtpLeg::start() {
  if (started_ || closed_) return;
  started_ = true;
  const MonoTime now = MonoClock::now();
  next_rtcp_ = now + kRtcpInterval;
  if (watch_from_start_) watchdog_.arm(now);
  const int one = 1;
  ::setsockopt(rtp_socket_.fd(), SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
  worker().add(this);
}

void RtpLeg::stop_io() {
  if (started_) worker().remove(this);
  rtp_socket_.close();
  rtcp_socket_.close();
}

void RtpLeg::close(std::string_view reason) {
  if (closed_) return;
  closed_ = true;
  stop_io();
  if (listener_) {
    LegListener* l = listener_;
    listener_ = nullptr;
    l->on_hangup(reason);
  }
}

void RtpLeg::hangup(std::string_view reason) {
  if (closed_) return;
  closed_ = true;
  stop_io();
  listener_ = nullptr;  // our own hang-up: the listener already knows
  if (local_hangup_) local_hangup_(reason);
}

bool RtpLeg::move_to(Executor& executor) {
  if (closed_) return false;
  return move_to_worker(this, worker_, executor, started_,
                        [self = shared_from_this()](MediaWorker& to) {
                          if (!self->closed_) to.add(self.get());
                        });
}

void RtpLeg::update(const udp::endpoint& remote, bool send_enabled, bool on_hold) {
  send_enabled_ = send_enabled;
  watchdog_.set_hold(on_hold, MonoClock::now());
  const bool was_latched = source_.latched();
  const udp::endpoint before = source_.peer();
  source_.on_sdp(remote);  // only the SDP moves the call (a stranger's packets never do)
  if (source_.peer() != before || (was_latched && !source_.latched())) {
    remote_ = source_.peer();
    remote_rtcp_ = rtcp_of(remote_);
  }
}

void RtpLeg::watch_media() {
  if (!closed_) watchdog_.arm(MonoClock::now());
}

void RtpLeg::media_timed_out() {
  if (closed_) return;
  closed_ = true;
  stop_io();
  spdlog::info("call={} event=rtp_timeout no RTP or RTCP from the peer for {} ms{}", info_.id,
               watchdog_.timeout().count(), watchdog_.on_hold() ? " (on hold)" : "");
  if (listener_) {
    LegListener* l = listener_;
    listener_ = nullptr;
    l->on_hangup("rtp_timeout");
  }
  if (media_timeout_) media_timeout_();
}

bool RtpLeg::rekey(const rtp::SrtpParams& params) {
  std::string error;
  auto session = rtp::SrtpSession::create(params, &error);
  if (!session) {
    spdlog::warn("call={} event=srtp_rekey_failed: {}", info_.id, error);
    return false;
  }
  srtp_ = std::move(session);
  return true;
}

bool RtpLeg::srtp_in(uint8_t* buf, size_t& len, bool rtcp) {
  const rtp::SrtpStatus s = rtcp ? srtp_->unprotect_rtcp(buf, len) : srtp_->unprotect_rtp(buf, len);
  switch (s) {
    case rtp::SrtpStatus::kOk:
      return true;
    case rtp::SrtpStatus::kReplay:
      ++stats_.srtp_replayed;
      metrics_.srtp_replayed.inc();
      return false;
    case rtp::SrtpStatus::kMalformed:
      ++(rtcp ? stats_.rtcp_malformed : stats_.malformed);
      return false;
    default:
      ++stats_.srtp_auth_failed;
      metrics_.srtp_auth_failed.inc();
      return false;
  }
}

// --- receive -------------------------------------------------------------------------

// Receiving is polled from the tick rather than driven by the reactor: non-blocking reads
// per leg per 20 ms cost fewer syscalls and wake-ups than a completion per packet, add at most
// one tick of delay in front of a 60 ms jitter buffer, and bound the work a flood can cause
// (kMaxReadsPerTick; the kernel drops the rest).
//
// The steady state is one packet per tick, so a tick reads one packet and stops: reading on
// until EAGAIN would cost a second trip into the socket for nothing at almost every tick.
// A backlog shows itself by the packet read having arrived before the previous tick's read
// (it had to wait behind another one: sender clock drift, a burst after a network stall, a
// stranger's packet in front); then the tick reads on until the socket is empty.
void RtpLeg::drain_rtp(MonoTime now) {
  // Kernel receive timestamps (SO_TIMESTAMPNS, wall clock) give each packet its real arrival
  // time for the jitter estimate, although we read it up to one tick later. Mapped onto the
  // monotonic clock through the offset between the two clocks at this tick.
  timespec real_now{};
  clock_gettime(CLOCK_REALTIME, &real_now);
  const int64_t real_now_ns = int64_t(real_now.tv_sec) * 1'000'000'000 + real_now.tv_nsec;
  // The same instant on the real monotonic clock (the tick's `now` is its deadline): packets'
  // receive times on it, for atende_media_frame_to_flow_seconds.
  const MonoTime mono_now = MonoClock::now();
  const int64_t previous_read_ns = std::exchange(last_read_real_ns_, real_now_ns);
  const int fd = rtp_socket_.fd();
  MediaScratch& x = worker().scratch();
  auto prepare = [&x](int i) {
    x.rx_iov[i] = {x.rx_bufs[i].data(), x.rx_bufs[i].size()};
    x.rx_msgs[i] = {};
    x.rx_msgs[i].msg_hdr.msg_name = &x.rx_addrs[i];
    x.rx_msgs[i].msg_hdr.msg_namelen = sizeof(x.rx_addrs[i]);
    x.rx_msgs[i].msg_hdr.msg_iov = &x.rx_iov[i];
    x.rx_msgs[i].msg_hdr.msg_iovlen = 1;
    x.rx_msgs[i].msg_hdr.msg_control = x.rx_control[i].data();
    x.rx_msgs[i].msg_hdr.msg_controllen = x.rx_control[i].size();
  };
  // Hands packet i to on_rtp; true when it arrived before the previous read (a backlog).
  auto deliver = [&](int i, size_t length) {
    msghdr& msg = x.rx_msgs[i].msg_hdr;
    std::memcpy(rx_from_.data(), &x.rx_addrs[i],
                std::min<size_t>(msg.msg_namelen, rx_from_.capacity()));
    rx_from_.resize(std::min<size_t>(msg.msg_namelen, rx_from_.capacity()));
    MonoTime arrival = now;
    MonoTime received{};
    int64_t age_ns = -1;  // how long it waited in the socket; -1: no usable timestamp
    bool waited = true;   // no timestamp: assume the worst and read on
    for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
      if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_TIMESTAMPNS) continue;
      timespec ts;
      std::memcpy(&ts, CMSG_DATA(cm), sizeof ts);
      const int64_t stamp_ns = int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
      if (const int64_t age = real_now_ns - stamp_ns; age >= 0 && age < 1'000'000'000) {
        age_ns = age;
        const auto waited_for =
            std::chrono::duration_cast<MonoClock::duration>(std::chrono::nanoseconds(age_ns));
        arrival = now - waited_for;
        received = mono_now - waited_for;
      }
      waited = stamp_ns < previous_read_ns;
    }
    // SRTP: checked and decrypted in place first; what fails is nobody's packet.
    if (srtp_ && !srtp_in(x.rx_bufs[i].data(), length, false)) return waited;
    // Only the caller's packets say when the caller sends: a stranger must not steer the
    // leg's phase (each move is one early packet for the caller).
    if (on_rtp({x.rx_bufs[i].data(), length}, arrival, received) && age_ns >= 0) {
      metrics_.rtp_read_wait_seconds.observe(double(age_ns) * 1e-9);
      read_phase_.on_read(age_ns);
    }
    return waited;
  };

  prepare(0);
  const ssize_t first = ::recvmsg(fd, &x.rx_msgs[0].msg_hdr, MSG_DONTWAIT);
  if (first < 0) return;  // EAGAIN: nothing this tick (other errors: try again next tick)
  if (!deliver(0, static_cast<size_t>(first)) || closed_) return;

  for (int round = 0; round < (kMaxReadsPerTick - 1) / kBatch; ++round) {
    for (int i = 0; i < kBatch; ++i) prepare(i);
    const int got = ::recvmmsg(fd, x.rx_msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (got <= 0) return;  // drained
    for (int i = 0; i < got; ++i) {
      deliver(i, x.rx_msgs[i].msg_len);
      if (closed_) return;
    }
    if (got < kBatch) return;  // fewer than asked: the socket is empty
  }
}

void RtpLeg::drain_rtcp() {
  for (int i = 0; i < 4; ++i) {
    auto& buf = worker().scratch().rtcp_buf;
    const ssize_t n = rtcp_socket_.receive_from(buf, rtcp_from_);
    if (n < 0) return;
    size_t len = static_cast<size_t>(n);
    if (srtp_ && !srtp_in(buf.data(), len, true)) continue;
    on_rtcp({buf.data(), len});
  }
}

bool RtpLeg::on_rtp(std::span<const uint8_t> data, MonoTime arrival, MonoTime received) {
  const size_t size = data.size();
  rtp::RtpPacket pkt;
  if (rtp::parse_rtp(data, pkt) != rtp::RtpError::kOk) {
    ++stats_.malformed;
    return false;
  }
  // Only the peer's stream (rtp_source.h); symmetric RTP (RFC 4961): we answer to where
  // it comes from.
  switch (source_.on_rtp(rx_from_, pkt.ssrc, arrival)) {
    case RtpSource::Verdict::kAccept:
      break;
    case RtpSource::Verdict::kNewStream:
      // Latched now, or a new stream from the peer (e.g. the PBX re-originated): start over,
      // answering to where it comes from (the only verdict that moves the peer).
      jitter_.reset();
      reception_.reset();
      dtmf_rx_.reset();
      if (remote_ != source_.peer()) {
        remote_ = source_.peer();
        remote_rtcp_ = rtcp_of(remote_);
      }
      break;
    case RtpSource::Verdict::kStranger:
      ++stats_.strangers;
      metrics_.rtp_rejected_address.inc();
      return false;
    case RtpSource::Verdict::kOtherSsrc:
      ++stats_.other_ssrc;
      metrics_.rtp_rejected_ssrc.inc();
      return false;
  }
  watchdog_.heard_rtp(arrival);
  ++stats_.packets_in;
  stats_.bytes_in += size;
  metrics_.rtp_packets_in.inc();
  metrics_.rtp_bytes_in.inc(size);

  if (pkt.payload_type == payload_type_) {
    reception_.on_packet(pkt.sequence, pkt.timestamp, arrival);
    auto r = jitter_.put(pkt.sequence, pkt.timestamp, pkt.payload, arrival, pkt.marker, received);
    if (r == rtp::PutResult::kLate) metrics_.rtp_late_packets.inc();
  } else if (dtmf_pt_ >= 0 && pkt.payload_type == dtmf_pt_) {
    dtmf_rx_.on_packet(pkt.timestamp, pkt.payload, arrival);
    char digit;
    while (dtmf_rx_.pop(digit)) {
      if (listener_) listener_->on_dtmf(digit, arrival);
      if (closed_) return true;
    }
  } else {
    ++stats_.unknown_payload;  // comfort noise, another codec: not ours to play
  }
  return true;
}

void RtpLeg::on_rtcp(std::span<const uint8_t> data) {
  if (!source_.rtcp_allowed(rtcp_from_)) {
    ++stats_.strangers;
    metrics_.rtp_rejected_address.inc();
    return;
  }
  rtp::RtcpCompound compound;
  if (rtp::parse_rtcp(data, compound) != rtp::RtcpError::kOk) {
    ++stats_.rtcp_malformed;
    return;
  }
  ++stats_.rtcp_in;
  remote_rtcp_ = rtcp_from_;  // symmetric RTCP too (from the peer's address only)
  watchdog_.heard_rtcp(MonoClock::now());
}

// --- send ------------------------------------------------------------------------------

void RtpLeg::tick(MonoTime now) {
  if (closed_) return;
  // The objects this tick will use after the receive syscall, fetched while it runs: with a
  // thousand legs they are out of the cache by the time their next tick comes.
  if (listener_) {
    __builtin_prefetch(listener_);
    __builtin_prefetch(reinterpret_cast<const char*>(listener_) + 64);
  }
  __builtin_prefetch(decoder_.get());
  __builtin_prefetch(encoder_.get());
  drain_rtp(now);
  if (closed_) return;
  // Read the next packets soon after they arrive (read_phase.h).
  read_phase_.apply(worker(), this, metrics_.media_phase_moves);
  if (++ticks_ % 25 == 0) {  // RTCP comes every ~5 s: look every 500 ms
    drain_rtcp();
    if (watchdog_.expired(now)) {
      media_timed_out();
      return;
    }
  }

  // What the caller said in this slot.
  MediaScratch& x = worker().scratch();
  AudioFrame& heard = x.heard;
  auto jf = jitter_.get();
  MonoTime received{};  // the packet's kernel receive time, when this frame is one
  switch (jf.kind) {
    case rtp::JitterFrame::Kind::kPayload:
      if (decoder_->decode(jf.payload, heard) < 0) decoder_->conceal(heard);
      received = jf.received;
      break;
    case rtp::JitterFrame::Kind::kMissing:  // lost: the codec's concealment fills the gap
      decoder_->conceal(heard);
      metrics_.rtp_lost_packets.inc();
      break;
    case rtp::JitterFrame::Kind::kEmpty:  // nothing expected (not started, silence)
      heard.sample_rate = sample_rate();
      heard.samples = samples_per_frame(heard.sample_rate);
      std::fill_n(heard.pcm.data(), heard.samples, int16_t{0});
      break;
  }
  dtmf_rx_.on_tick(now);
  char digit;
  while (listener_ && dtmf_rx_.pop(digit)) {
    listener_->on_dtmf(digit, now);
    if (closed_) return;
  }
  if (listener_) {
    if (received != MonoTime{}) {
      metrics_.rtp_frame_to_flow_seconds.observe(
          std::chrono::duration<double>(MonoClock::now() - received).count());
    }
    listener_->on_frame(heard, now);
  }
  if (closed_) return;  // the listener hung up

  // What we say in this slot. The timestamp advances every tick, sent or not, so the
  // receiver sees the real passage of time across silence and hold.
  const uint32_t ts = ts_;
  ts_ += codec_->timestamp_step();
  AudioFrame& speak = x.speak;
  bool had_audio = playout_.next(speak);  // sets rate and length, whether or not it had audio
  if (!had_audio) std::fill_n(speak.pcm.data(), speak.samples, int16_t{0});
  if (media_tap_) media_tap_->on_media(heard, had_audio ? &speak : nullptr);

  if (send_enabled_ && remote_.port() != 0) {
    rtp::DtmfPacket dp;
    std::array<uint8_t, rtp::kTelephoneEventSize> ev{};
    if (dtmf_pt_ >= 0 && dtmf_tx_.next(ts, ev, dp)) {
      send_packet({ev.data(), dp.size}, static_cast<uint8_t>(dtmf_pt_), dp.marker, dp.timestamp);
    } else {
      std::array<uint8_t, 640> payload;
      int n = encoder_->encode(speak, payload);
      if (n > 0) send_packet({payload.data(), static_cast<size_t>(n)}, payload_type_, false, ts);
    }
  }
  // That was the last queued frame: tell the listener now so its next prompt follows on.
  if (had_audio && playout_.empty() && listener_) listener_->on_playout_idle(now);
  if (now >= next_rtcp_) {
    next_rtcp_ = now + kRtcpInterval;
    send_rtcp_report(now);
  }
}

void RtpLeg::send_packet(std::span<const uint8_t> payload, uint8_t pt, bool marker, uint32_t ts) {
  rtp::RtpHeader h;
  h.marker = marker;
  h.payload_type = pt;
  h.sequence = seq_++;
  h.timestamp = ts;
  h.ssrc = ssrc_;
  auto& tx = worker().scratch().tx_buf;
  size_t n = rtp::write_rtp(tx, h, payload);
  if (n == 0) return;
  if (srtp_ && srtp_->protect_rtp(tx.data(), n, tx.size()) != rtp::SrtpStatus::kOk) return;
  if (!rtp_socket_.send_to({tx.data(), n}, remote_)) return;
  ++stats_.packets_out;
  stats_.bytes_out += n;
  ++sent_packets_;
  sent_octets_ += payload.size();
  metrics_.rtp_packets_out.inc();
  metrics_.rtp_bytes_out.inc(n);
}

void RtpLeg::send_rtcp_report(MonoTime now) {
  if (remote_.port() == 0) return;
  rtp::ReportBlock block{};
  const rtp::ReportBlock* bp = nullptr;
  if (reception_.valid()) {
    block = reception_.make_report_block(source_.ssrc(), 0, 0);
    bp = &block;
    metrics_.rtp_jitter_seconds.observe(double(block.jitter) / codec_->clock_rate);
  }
  std::array<uint8_t, 256 + rtp::kSrtpMaxTrailer> buf;
  size_t n;
  if (sent_packets_ > 0) {
    rtp::SenderInfo info;
    auto unix_us = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
    info.ntp_timestamp = rtp::ntp_from_unix_micros(unix_us);
    info.rtp_timestamp = ts_;
    info.packet_count = sent_packets_;
    info.octet_count = static_cast<uint32_t>(sent_octets_);
    n = rtp::write_sender_report(buf, ssrc_, info, bp, "atende");
  } else {
    n = rtp::write_receiver_report(buf, ssrc_, bp, "atende");
  }
  if (n == 0) return;
  if (srtp_ && srtp_->protect_rtcp(buf.data(), n, buf.size()) != rtp::SrtpStatus::kOk) return;
  rtcp_socket_.send_to({buf.data(), n}, remote_rtcp_);
}

// --- Leg -------------------------------------------------------------------------------

void RtpLeg::play(ClipPtr clip) {
  if (closed_ || !clip) return;
  if (clip->sample_rate != sample_rate()) {
    // Prompts are normally synthesised at the leg's rate; convert the odd one out.
    auto c = std::make_shared<Clip>();
    c->sample_rate = sample_rate();
    c->label = clip->label;
    c->pcm = audio::Resampler::convert(clip->pcm, clip->sample_rate, sample_rate());
    clip = std::move(c);
  }
  const bool was_idle = playout_.empty();
  if (!playout_.push_clip(std::move(clip))) {
    spdlog::warn("call={} event=playout_full dropped a clip", info_.id);
    return;
  }
  // Something to say after silence (an answer, a prompt): say it now, not at our old phase.
  if (was_idle && started_) worker().tick_soon(this);
}

void RtpLeg::play_frame(const AudioFrame& frame) {
  if (closed_ || frame.sample_rate != sample_rate()) return;
  playout_.push_frame(frame);
}

void RtpLeg::flush() { playout_.clear(); }

void RtpLeg::send_dtmf(char digit) {
  if (dtmf_pt_ < 0 || !dtmf_tx_.queue(digit)) {
    spdlog::warn("call={} event=dtmf_not_sent digit={}", info_.id, digit);
  }
}

}  // namespace atende::media
