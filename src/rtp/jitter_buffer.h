// Fixed-capacity jitter buffer for 20 ms audio frames, keyed by RTP sequence number.
//
// The network side put()s packets as they arrive (any order, duplicates, gaps); the media
// tick get()s exactly one frame every 20 ms. Playout starts once target depth is buffered.
// The buffer keeps its depth near the target: when the sender's clock runs faster than our
// tick the surplus frame is dropped, when slower a "missing" is inserted (the caller plays
// concealment), so the buffer neither grows without bound nor starves forever.
// The target adapts upward to the measured arrival jitter (never below the configured
// target, never above max) and comes back down slowly when the network calms down.
//
// All slots are allocated at construction; put() and get() never allocate or throw.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "core/clock.h"

namespace atende::rtp {

struct JitterBufferConfig {
  int target_ms = 60;             // playout delay we aim for (minimum adaptive target)
  int max_ms = 300;               // capacity; also the ceiling of the adaptive target
  uint32_t timestamp_step = 160;  // RTP timestamp units per 20 ms frame (clock/50)
  size_t max_payload = 512;       // bytes per slot; bigger payloads are refused
  bool adaptive = true;           // raise target with observed jitter
};

struct JitterBufferStats {
  uint64_t received = 0;           // packets stored
  uint64_t late = 0;               // arrived after their slot was played (dropped)
  uint64_t lost = 0;               // slots played as "missing" because nothing arrived
  uint64_t duplicate = 0;          // same sequence number already stored
  uint64_t overflow = 0;           // too far ahead of playout to fit (dropped)
  uint64_t too_large = 0;          // payload larger than max_payload (dropped)
  uint64_t drift_adjustments = 0;  // frames dropped or inserted to hold target depth
  uint64_t resyncs = 0;            // restarts on a sequence/timestamp jump (new stream)
  uint64_t underruns = 0;          // times playout ran dry and went back to buffering
};

enum class PutResult {
  kStored,
  kDuplicate,  // already stored: dropped
  kLate,       // its turn has passed (or far behind, a stray): dropped
  kOverflow,   // far ahead of playout (a stray until the next packet confirms it): dropped
  kTooLarge,   // payload larger than max_payload: dropped
  kResync,     // stored as the first packet of a restarted stream (sequence jump confirmed)
};

struct JitterFrame {
  enum class Kind {
    kPayload,  // decode `payload`
    kMissing,  // this slot was lost: play concealment
    kEmpty,    // not started, or underrun: play comfort silence, nothing was expected
  };
  Kind kind = Kind::kEmpty;
  std::span<const uint8_t> payload;  // kPayload only; valid until the next put()/get()
  uint16_t sequence = 0;             // kPayload and kMissing: the slot played
  uint32_t timestamp = 0;            // kPayload only: RTP timestamp of the packet
  bool marker = false;               // kPayload only
  MonoTime received{};               // kPayload only: put()'s `received` (latency accounting)
};

class JitterBuffer {
 public:
  explicit JitterBuffer(const JitterBufferConfig& config = {});
  ~JitterBuffer();
  JitterBuffer(const JitterBuffer&) = delete;
  JitterBuffer& operator=(const JitterBuffer&) = delete;

  // `arrival` feeds the jitter estimate; `received` (zero: unknown) is only kept with the
  // packet and handed back with its frame, so a leg can tell how long the frame took from
  // the host's receipt to the listener (atende_media_frame_to_flow_seconds).
  PutResult put(uint16_t sequence, uint32_t timestamp, std::span<const uint8_t> payload,
                MonoTime arrival, bool marker = false, MonoTime received = MonoTime{});
  // Once per 20 ms tick.
  JitterFrame get();
  // Forget everything (e.g. the remote SSRC changed); counters are kept.
  void reset();

  // Frames from the next one to play to the newest stored, inclusive (0 when idle).
  size_t depth_frames() const;
  size_t capacity_frames() const { return capacity_; }
  size_t target_frames() const { return target_frames_; }
  bool playing() const { return playing_; }
  const JitterBufferStats& stats() const { return stats_; }
  // Smoothed interarrival jitter (RFC 3550 A.8) of the stored packets, in milliseconds.
  double jitter_ms() const;

 private:
  struct Slot {
    bool filled = false;
    bool marker = false;
    uint16_t size = 0;
    uint32_t timestamp = 0;
    int64_t position = 0;  // extended sequence number the slot holds
    MonoTime received{};
  };

  static constexpr int kDriftWindowTicks = 50;  // decide on drift once a second
  static constexpr int kMaxMisorder = 100;      // further back than this: a stray
  static constexpr int kMaxForwardJump = 50;    // beyond capacity + this: a stray

  // Positions are sequence numbers unwrapped to 64 bits since the last restart, so a
  // sequence wrap (65535 -> 0) is just the next position and slots never collide.
  int64_t position_of(uint16_t sequence) const;
  Slot& slot_at(int64_t position);
  uint8_t* bytes_at(int64_t position);
  void restart(uint16_t sequence);
  bool confirm_stray(uint16_t sequence);
  void make_room_for(int64_t position);
  void discard_next();
  void update_jitter(uint32_t timestamp, MonoTime arrival);
  void update_target();

  JitterBufferConfig config_;
  size_t capacity_;  // slots, max_ms / 20
  size_t configured_target_;
  size_t target_frames_;
  std::unique_ptr<Slot[]> slots_;
  std::unique_ptr<uint8_t[]> storage_;  // capacity_ * max_payload bytes

  bool started_ = false;        // a reference point exists (first packet or restart)
  bool playing_ = false;        // buffering done, get() consumes
  bool has_played_ = false;     // since the restart; before that an older packet may lead
  uint16_t base_sequence_ = 0;  // sequence number at position 0
  int64_t next_ = 0;            // position to play next
  int64_t end_ = 0;             // one past the newest stored position
  bool stray_pending_ = false;
  uint16_t stray_next_ = 0;

  int window_ticks_ = 0;
  size_t window_min_ = 0;
  size_t window_max_ = 0;

  bool have_transit_ = false;
  int64_t transit_ = 0;
  int64_t jitter_q4_ = 0;  // RFC 3550 A.8 jitter in RTP units * 16
  JitterBufferStats stats_;
};

}  // namespace atende::rtp
