// An ASP session (docs/asp.md) as a Leg on a media worker. The WebSocket lives on the ASP
// I/O thread (asp_front.h); this side only moves fixed-size slots through a Channel on its
// 20 ms tick, so a slow or hostile peer can never block or stall the worker.
//
// Server role (a media server connected to us; a flow or the agent answers): on_frame gets
// the caller's audio, and what the flow plays goes out as a response: response.start, one
// 20 ms binary frame per tick (paced by the worker's monotonic clock), response.end when the
// playout runs dry (or interrupted: true when flushed or the peer says barge_in).
//
// Client role (we are the media server, bridged to a caller): play_frame() is the caller's
// audio, sent every tick; our own VAD on it sends audio.end after silence_threshold_ms of
// silence following speech, and barge_in when the caller speaks while a response plays
// (its queued audio is dropped at once). on_frame gets the agent's response audio.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "asp/asp_metrics.h"
#include "asp/channel.h"
#include "audio/vad_energy.h"
#include "core/leg.h"
#include "media/backlog_trim.h"
#include "media/media_worker.h"
#include "media/playout.h"
#include "media/read_phase.h"

namespace atende::asp {

enum class Role { kServer, kClient };

struct AspLegParams {
  LegInfo info;
  Role role = Role::kServer;
  int silence_threshold_ms = 500;  // client role: audio.end after this much silence
  bool transcripts = false;        // server role: the peer asked for feature "transcripts"
};

class AspLeg final : public Leg,
                     public media::Tickable,
                     public std::enable_shared_from_this<AspLeg> {
 public:
  AspLeg(media::MediaWorker& worker, std::shared_ptr<Channel> channel, AspLegParams params,
         AspMetrics& metrics);
  ~AspLeg() override;

  // The leg ended: `reason` as recorded; `local` when our side ended it. Worker thread.
  void on_end(std::function<void(std::string_view reason, bool local)> fn) {
    on_end_ = std::move(fn);
  }

  // Leg
  const LegInfo& info() const override { return info_; }
  Executor& executor() override { return *worker_.load(std::memory_order_acquire); }
  bool move_to(Executor& executor) override;
  void start() override;
  void set_listener(LegListener* listener) override { listener_ = listener; }
  int sample_rate() const override { return channel_->rate(); }
  void play(ClipPtr clip) override;
  void play_frame(const AudioFrame& frame) override;
  void flush() override;
  bool playing() const override { return !playout_.empty(); }
  void send_dtmf(char digit) override;
  void hangup(std::string_view reason) override;
  void set_media_tap(MediaTap* tap) override { media_tap_ = tap; }
  // Feature "transcripts": the line goes out as a transcript message, in order with the
  // audio around it.
  void note_transcript(Speaker who, std::string_view text) override;

  // Tickable
  void tick(MonoTime now) override;

 private:
  void handle_event(const InEvent& e, MonoTime now);
  bool push_out(OutKind kind, const AudioFrame* frame = nullptr, bool interrupted = false,
                char digit = 0);
  void end_response(bool interrupted);
  void client_vad(const AudioFrame& frame);
  // The peer is gone or cut: tell the listener, record `reason`.
  void close(std::string_view reason);
  // Our side ends: last message (unless `abort`), then the I/O thread closes.
  void end_local(std::string_view reason, std::string_view detail, bool abort);
  void finish(std::string_view reason, bool local);
  SessionStats stats(MonoTime now) const;
  media::MediaWorker& worker() { return *worker_.load(std::memory_order_relaxed); }

  std::atomic<media::MediaWorker*> worker_;
  std::shared_ptr<Channel> channel_;
  LegListener* listener_ = nullptr;
  MediaTap* media_tap_ = nullptr;  // call recording: hears every tick both ways
  AspMetrics& metrics_;
  const Role role_;
  const bool transcripts_;
  bool started_ = false;
  bool closed_ = false;
  MonoTime started_at_{};

  // Server role: the response being sent.
  bool responding_ = false;
  int64_t response_id_ = 0;
  // Client role: the agent's response is playing (response.start .. response.end), and our
  // VAD's view of the caller.
  bool agent_responding_ = false;
  audio::EnergyVad vad_;
  bool speaking_ = false;
  int silence_ms_ = 0;
  const int silence_threshold_ms_;
  // Audio crosses two threads and a socket: after running dry, wait for kPrebufferFrames
  // before taking again, so arrival jitter does not cut the audio into pieces.
  static constexpr size_t kPrebufferFrames = 3;
  // Our outbound slots are full and a write has waited this long on the socket: the peer
  // has stopped reading (less, or none waiting: our I/O thread is behind; see push_out).
  static constexpr MonoClock::duration kPeerStuckAfter = std::chrono::seconds(2);
  bool prebuffering_ = true;
  // Server role: the caller's audio comes in real time, so a queue that stays above the
  // prebuffer is a stall's leftover, dropped (media/backlog_trim.h). Not in the client role:
  // an agent may stream its response faster than real time.
  media::BacklogTrim backlog_trim_{kPrebufferFrames};
  // Ticks at the peer's phase, as RTP and AudioSocket legs do: the I/O thread's read time of
  // each audio message against our tick says how long it waited.
  media::PhaseFollower read_phase_;

  int64_t audio_in_frames_ = 0, audio_out_frames_ = 0;
  int64_t responses_ = 0, barge_ins_ = 0, audio_ends_ = 0;

  AudioFrame heard_{};
  AudioFrame speak_{};
  media::Playout playout_;
  LegInfo info_;
  std::function<void(std::string_view, bool)> on_end_;
};

}  // namespace atende::asp
