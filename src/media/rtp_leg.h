// A SIP call's media as a Leg: one RTP/RTCP port pair on a media worker. Receives RTP
// (only from the right place, see rtp_source.h; polled on the tick), ends the call when the
// peer goes silent (media_watchdog.h), runs the jitter buffer and
// decoder, paces sending every 20 ms from the worker's monotonic ticker, sends and receives
// RFC 4733 digits, and sends RTCP reports. With SRTP (RFC 3711, keys from SDES) every packet
// is protected or checked and decrypted in place in the worker's scratch buffers: a packet
// that fails authentication or replays an old one is dropped before anything else looks at
// it (it cannot latch the leg either). Everything after start() runs on the worker.
#pragma once
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <atomic>
#include <boost/asio/ip/udp.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/leg.h"
#include "core/metrics.h"
#include "media/media_watchdog.h"
#include "media/media_worker.h"
#include "media/playout.h"
#include "media/read_phase.h"
#include "media/rtp_source.h"
#include "media/udp_socket.h"
#include "rtp/codec.h"
#include "rtp/jitter_buffer.h"
#include "rtp/reception_stats.h"
#include "rtp/rfc4733.h"
#include "rtp/srtp_session.h"

namespace atende::media {

struct RtpLegParams {
  LegInfo info;                            // info.id is the call id
  boost::asio::ip::address local_address;  // bind address (may be 0.0.0.0)
  int local_port = 0;                      // even; RTCP on local_port + 1
  boost::asio::ip::udp::endpoint remote;   // from SDP; replaced by the latched source
  const rtp::Codec* codec = nullptr;
  uint8_t payload_type = 0;
  int dtmf_payload_type = -1;  // -1: the peer offered no telephone-event
  bool send_enabled = true;    // false when the peer holds us (sendonly/inactive)
  bool on_hold = false;        // the peer does not send (its SDP is not sendrecv)
  LatchMode latch = LatchMode::kStrict;
  Millis rtp_timeout{0};         // no RTP/RTCP this long: end the call ("rtp_timeout"); 0: never
  bool watch_from_start = true;  // false: the timeout waits for watch_media() (the ACK)
  std::optional<rtp::SrtpParams> srtp;  // SRTP/SRTCP with these keys; empty: plain RTP
};

class RtpLeg final : public Leg, public Tickable, public std::enable_shared_from_this<RtpLeg> {
 public:
  // Binds the sockets (throws boost::system::system_error if the port is taken, and
  // std::runtime_error if libsrtp refuses the keys).
  // Called on the SIP thread; nothing runs on the worker until start().
  RtpLeg(MediaWorker& worker, const RtpLegParams& params, CoreMetrics& metrics);
  ~RtpLeg() override;

  // Leg
  const LegInfo& info() const override { return info_; }
  Executor& executor() override { return *worker_.load(std::memory_order_acquire); }
  // Worker thread (the current one): carry on on `executor`'s worker (a bridge with a leg of
  // another session). False if it is not a media worker.
  bool move_to(Executor& executor) override;
  // Worker thread from here on.
  void start() override;
  // The far end is gone (BYE, CANCEL): stop, tell the listener. Idempotent.
  void close(std::string_view reason);
  // re-INVITE: new remote address and/or direction (see rtp_source.h for what the address
  // may change).
  void update(const boost::asio::ip::udp::endpoint& remote, bool send_enabled, bool on_hold);
  // The call is confirmed (the ACK came): the RTP inactivity timeout starts counting.
  void watch_media();
  // The peer went silent past the timeout; the call layer sends BYE. Called once.
  void on_media_timeout(std::function<void()> fn) { media_timeout_ = std::move(fn); }
  // re-INVITE with new SRTP keys (worker thread). False if they are refused (the old
  // session stays).
  bool rekey(const rtp::SrtpParams& params);
  bool srtp() const { return srtp_ != nullptr; }
  // Called when our side hangs up (flow or agent); the call layer sends BYE.
  void on_local_hangup(std::function<void(std::string_view)> fn) { local_hangup_ = std::move(fn); }
  // Runs in the destructor (gives the port pair back).
  void on_destroy(std::function<void()> fn) { on_destroy_ = std::move(fn); }

  void set_listener(LegListener* listener) override { listener_ = listener; }
  int sample_rate() const override { return static_cast<int>(codec_->sample_rate); }
  void play(ClipPtr clip) override;
  void play_frame(const AudioFrame& frame) override;
  void flush() override;
  bool playing() const override { return !playout_.empty(); }
  void send_dtmf(char digit) override;
  void hangup(std::string_view reason) override;
  void set_media_tap(MediaTap* tap) override { media_tap_ = tap; }

  // Tickable
  void tick(MonoTime now) override;

  MediaWorker& worker() { return *worker_.load(std::memory_order_relaxed); }
  int local_port() const { return local_port_; }
  bool closed() const { return closed_; }

  struct Stats {
    uint64_t packets_in = 0, packets_out = 0, bytes_in = 0, bytes_out = 0;
    uint64_t strangers = 0, other_ssrc = 0, malformed = 0, unknown_payload = 0, rtcp_in = 0,
             rtcp_malformed = 0;
    uint64_t srtp_auth_failed = 0, srtp_replayed = 0;  // SRTP and SRTCP packets dropped
  };
  const Stats& stats() const { return stats_; }

 private:
  static constexpr int kMaxReadsPerTick = 16;
  static constexpr int kBatch = MediaScratch::kBatch;
  void drain_rtp(MonoTime now);
  void drain_rtcp();
  // False when the packet is not the caller's (malformed, or from a stranger). `arrival` is
  // on the tick's clock (jitter estimate, source, watchdog); `received` is the kernel's
  // receive time on the real monotonic clock (frame-to-flow latency), or zero if unknown.
  bool on_rtp(std::span<const uint8_t> data, MonoTime arrival, MonoTime received);
  void on_rtcp(std::span<const uint8_t> data);
  void send_audio(const AudioFrame& frame);
  void send_packet(std::span<const uint8_t> payload, uint8_t pt, bool marker, uint32_t ts);
  void send_rtcp_report(MonoTime now);
  void stop_io();
  void media_timed_out();
  // In place; false (and counted) when the packet must be dropped.
  bool srtp_in(uint8_t* buf, size_t& len, bool rtcp);

  // In the order a tick uses them, the cold ones (set-up, RTCP, callbacks) last: with a
  // thousand calls every leg is out of the cache at its tick, so fewer lines, fewer misses.
  std::atomic<MediaWorker*> worker_;  // changes only in move_to(), on the worker itself
  LegListener* listener_ = nullptr;
  MediaTap* media_tap_ = nullptr;  // call recording: hears every tick both ways
  bool started_ = false;
  bool closed_ = false;
  bool send_enabled_;
  uint8_t payload_type_;
  int dtmf_pt_;
  UdpSocket rtp_socket_;  // raw descriptors, polled on the tick (see udp_socket.h)
  std::unique_ptr<rtp::SrtpSession> srtp_;  // null: plain RTP
  const rtp::Codec* codec_;
  CoreMetrics& metrics_;
  std::unique_ptr<rtp::Encoder> encoder_;
  std::unique_ptr<rtp::Decoder> decoder_;

  // Sender state.
  uint32_t ssrc_;
  uint16_t seq_;
  uint32_t ts_;
  uint64_t sent_octets_ = 0;
  uint32_t sent_packets_ = 0;
  MonoTime next_rtcp_{};
  uint64_t ticks_ = 0;
  int64_t last_read_real_ns_ = 0;  // CLOCK_REALTIME of the previous RTP read (drain_rtp)
  PhaseFollower read_phase_;  // drain_rtp's reads say when the caller sends

  boost::asio::ip::udp::endpoint remote_;  // where we send RTP (source_.peer())
  boost::asio::ip::udp::endpoint rx_from_;
  RtpSource source_;  // who may send to us
  MediaWatchdog watchdog_;
  Stats stats_;

  rtp::JitterBuffer jitter_;
  rtp::ReceptionStats reception_;
  rtp::DtmfReceiver dtmf_rx_;
  rtp::DtmfSender dtmf_tx_;
  Playout playout_;  // its clip array comes last

  UdpSocket rtcp_socket_;
  boost::asio::ip::udp::endpoint remote_rtcp_;  // where we send RTCP
  boost::asio::ip::udp::endpoint rtcp_from_;
  LegInfo info_;
  int local_port_;
  bool watch_from_start_;
  std::function<void(std::string_view)> local_hangup_;
  std::function<void()> on_destroy_;
  std::function<void()> media_timeout_;
};

}  // namespace atende::media
