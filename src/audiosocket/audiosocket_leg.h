// An AudioSocket connection (docs/audiosocket.md) as a Leg: one TCP socket on a media worker,
// polled on the worker's 20 ms tick like the RTP leg's UDP socket (no reactor, no blocking).
// Each tick reads what arrived (bounded), hands whole messages to the listener (audio into a
// bounded queue, one 20 ms frame per tick to on_frame; DTMF at once), then writes one 20 ms
// audio frame of what we say, in the peer's audio format. Queues both ways are fixed-size:
// a peer that sends faster than real time, or stops reading what we send, is disconnected.
// Steady state allocates nothing; a resampler is made only when the peer's rate changes.
#pragma once
#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "audio/resampler.h"
#include "audiosocket/audiosocket_metrics.h"
#include "audiosocket/frame.h"
#include "core/leg.h"
#include "media/backlog_trim.h"
#include "media/media_worker.h"
#include "media/playout.h"
#include "media/read_phase.h"

namespace atende::audiosocket {

// Our 0xff error payload: one code byte, then a short ASCII reason.
enum class ErrorCode : uint8_t {
  kProtocol = 0x10,   // a message we cannot read (truncated, too long, unknown type, bad length)
  kUuidInUse = 0x11,  // a live connection already has this UUID
  kRefused = 0x12,    // no flow, at max_calls, shutting down, no UUID first
  kTooFast = 0x13,    // audio arrives faster than real time
  kTimeout = 0x14,    // no UUID in time
};

struct AudioSocketLegParams {
  LegInfo info;
  int fd = -1;           // connected, non-blocking; the leg owns it from now on
  int leg_rate = 8000;   // what flows hear and play (8000 or 16000)
  int peer_rate = 8000;  // what we send until the peer's own audio says otherwise
};

class AudioSocketLeg final : public Leg,
                             public media::Tickable,
                             public std::enable_shared_from_this<AudioSocketLeg> {
 public:
  AudioSocketLeg(media::MediaWorker& worker, AudioSocketLegParams params,
                 AudioSocketMetrics& metrics);
  ~AudioSocketLeg() override;

  // Bytes read before the leg existed (what followed the UUID in the same read).
  void preload(std::span<const uint8_t> bytes);
  // The leg ended: `reason` as recorded; `local` when our side hung up. Worker thread.
  void on_end(std::function<void(std::string_view reason, bool local)> fn) {
    on_end_ = std::move(fn);
  }

  // Leg
  const LegInfo& info() const override { return info_; }
  Executor& executor() override { return *worker_.load(std::memory_order_acquire); }
  bool move_to(Executor& executor) override;
  void start() override;
  void set_listener(LegListener* listener) override { listener_ = listener; }
  int sample_rate() const override { return leg_rate_; }
  void play(ClipPtr clip) override;
  void play_frame(const AudioFrame& frame) override;
  void flush() override { playout_.clear(); }
  bool playing() const override { return !playout_.empty(); }
  void send_dtmf(char digit) override;
  void hangup(std::string_view reason) override;
  void set_media_tap(MediaTap* tap) override { media_tap_ = tap; }

  // Worker thread: the far end is gone or misbehaved. Sends 0xff first when `error` is set.
  void close(std::string_view reason, const ErrorCode* error = nullptr);
  bool closed() const { return closed_; }

  // Tickable
  void tick(MonoTime now) override;

  // Bounds, public for the tests' and docs' sake.
  static constexpr int kMaxQueuedInMs = 1000;  // inbound ring size
  // Inbound audio beyond this wait is ours to blame (a worker stall skipped ticks; TCP lost
  // nothing): the oldest is dropped down to kCatchUpToMs so the caller is not heard late.
  static constexpr int kMaxLatencyMs = 400;
  static constexpr int kCatchUpToMs = 200;
  // How far a peer may get ahead of real time (after a stall of its own) before it counts as
  // sending too fast: a token bucket refilled by the monotonic clock.
  static constexpr int kMaxAheadMs = 2000;
  static constexpr size_t kOutCapacity = 32768;  // bytes we keep when the peer is slow to read
  static constexpr int kMaxReadsPerTick = 8;
  // Receive times kept for the audio queued in the ring (one per read that brought audio;
  // more reads than this while the ring holds them share the newest entry's time).
  static constexpr size_t kMaxInStamps = 64;

 private:
  void read_socket(MonoTime now);
  void on_message(const Frame& f, MonoTime now);
  void on_audio(int rate, std::span<const uint8_t> payload);
  void queue_in(std::span<const int16_t> pcm);
  // Drops the oldest `frames` whole frames of the inbound ring (a standing backlog).
  void drop_oldest_in(size_t frames);
  // Samples left the ring (played or dropped): forget the receive times wholly behind them.
  void consumed_in(size_t samples);
  bool queue_out(uint8_t type, std::span<const uint8_t> payload);
  void write_audio(const AudioFrame& frame);
  void flush_out();
  void finish(std::string_view reason, bool local);
  void stop_io();
  media::MediaWorker& worker() { return *worker_.load(std::memory_order_relaxed); }

  std::atomic<media::MediaWorker*> worker_;
  LegListener* listener_ = nullptr;
  MediaTap* media_tap_ = nullptr;  // call recording: hears every tick both ways
  AudioSocketMetrics& metrics_;
  int fd_;
  bool started_ = false;
  bool closed_ = false;
  bool eof_ = false;
  const int leg_rate_;
  int peer_rate_;  // the rate of the peer's last audio: we answer in it

  FrameReader reader_;
  // Inbound audio at leg_rate_, a ring of kMaxQueuedInMs.
  std::vector<int16_t> in_ring_;
  size_t in_head_ = 0, in_size_ = 0;
  int64_t credit_ = 0;    // samples (leg rate) the peer may still send ahead of time
  MonoTime credit_at_{};  // when credit_ was last refilled
  // When the bytes now being parsed reached the host: the kernel's receive timestamp of the
  // read (TCP: its newest segment), else the read's own time; on the real monotonic clock.
  MonoTime read_at_{};
  // Reads at the peer's phase (media/read_phase.h), as RTP legs do: the kernel timestamps say
  // how long each read's newest audio waited for our tick.
  media::PhaseFollower read_phase_;
  media::BacklogTrim backlog_trim_;  // drops a standing backlog after a stall
  // Receive times of the queued audio: entry i covers ring samples up to `end` (counted in
  // samples ever queued), so the frame handed to the listener finds when its last sample
  // came (atende_media_frame_to_flow_seconds). Fixed size: no allocation per frame.
  struct InStamp {
    uint64_t end = 0;
    MonoTime at{};
  };
  std::array<InStamp, kMaxInStamps> in_stamps_{};
  size_t stamps_head_ = 0, stamps_size_ = 0;
  uint64_t in_queued_ = 0, in_consumed_ = 0;         // samples ever queued / taken out of the ring
  std::unique_ptr<audio::Resampler> in_resampler_;   // peer rate -> leg rate, when they differ
  std::unique_ptr<audio::Resampler> out_resampler_;  // leg rate -> peer rate
  std::array<int16_t, kMaxPayload> convert_{};       // resampler output, either direction
  std::array<int16_t, kMaxPayload / 2> samples_{};   // payload bytes as samples

  std::array<uint8_t, kOutCapacity> out_{};
  size_t out_begin_ = 0, out_end_ = 0;

  AudioFrame heard_{};
  AudioFrame speak_{};
  media::Playout playout_;
  LegInfo info_;
  std::function<void(std::string_view, bool)> on_end_;
};

}  // namespace atende::audiosocket
