#include "rtp/jitter_buffer.h"

#include <algorithm>
#include <cstring>

#include "rtp/rtp_time.h"

namespace atende::rtp {

namespace {
constexpr int kFrameMs = 20;
}

JitterBuffer::JitterBuffer(const JitterBufferConfig& config) : config_(config) {
  // Bound the configuration so a bad config file cannot make slots huge or the window
  // ambiguous (it must stay far below half the 16-bit sequence space).
  config_.max_payload = std::clamp<size_t>(config_.max_payload, 1, 65535);
  if (config_.timestamp_step == 0) config_.timestamp_step = 160;
  capacity_ = static_cast<size_t>(std::clamp(config_.max_ms / kFrameMs, 2, 500));
  configured_target_ =
      static_cast<size_t>(std::clamp<int>(config_.target_ms / kFrameMs, 1, capacity_ - 1));
  target_frames_ = configured_target_;
  slots_ = std::make_unique<Slot[]>(capacity_);
  storage_ = std::make_unique<uint8_t[]>(capacity_ * config_.max_payload);
}

JitterBuffer::~JitterBuffer() = default;

void JitterBuffer::reset() {
  for (size_t i = 0; i < capacity_; ++i) slots_[i] = Slot{};
  started_ = false;
  playing_ = false;
  has_played_ = false;
  stray_pending_ = false;
  next_ = end_ = 0;
  window_ticks_ = 0;
  have_transit_ = false;
  jitter_q4_ = 0;
  target_frames_ = configured_target_;
}

size_t JitterBuffer::depth_frames() const {
  return started_ ? static_cast<size_t>(end_ - next_) : 0;
}

double JitterBuffer::jitter_ms() const {
  const double clock_rate = config_.timestamp_step * (1000.0 / kFrameMs);
  return static_cast<double>(jitter_q4_) / 16.0 * 1000.0 / clock_rate;
}

int64_t JitterBuffer::position_of(uint16_t sequence) const {
  // The signed 16-bit distance from the next frame to play handles wraparound.
  const uint16_t next_sequence = static_cast<uint16_t>(base_sequence_ + next_);
  return next_ + static_cast<int16_t>(sequence - next_sequence);
}

JitterBuffer::Slot& JitterBuffer::slot_at(int64_t position) {
  const int64_t cap = static_cast<int64_t>(capacity_);
  return slots_[static_cast<size_t>(((position % cap) + cap) % cap)];
}

uint8_t* JitterBuffer::bytes_at(int64_t position) {
  const int64_t cap = static_cast<int64_t>(capacity_);
  return storage_.get() + static_cast<size_t>(((position % cap) + cap) % cap) * config_.max_payload;
}

void JitterBuffer::restart(uint16_t sequence) {
  const bool was_started = started_;
  JitterBufferStats kept = stats_;
  reset();
  if (was_started) ++kept.resyncs;
  stats_ = kept;
  started_ = true;
  base_sequence_ = sequence;
}

bool JitterBuffer::confirm_stray(uint16_t sequence) {
  // A packet far outside the window is garbage, very old, or the sender restarted its
  // sequence. As in RFC 3550 A.1, believe the jump only when the next packet follows it,
  // or at once when nothing is buffered that we would lose.
  if (depth_frames() == 0 || (stray_pending_ && sequence == stray_next_)) {
    restart(sequence);
    return true;
  }
  stray_pending_ = true;
  stray_next_ = static_cast<uint16_t>(sequence + 1);
  return false;
}

void JitterBuffer::discard_next() {
  Slot& s = slot_at(next_);
  if (s.filled && s.position == next_) s.filled = false;
  ++next_;
  if (end_ < next_) end_ = next_;
}

void JitterBuffer::make_room_for(int64_t position) {
  // The oldest frames leave so `position` fits: stored ones count as overflow, holes as
  // lost. Bounded by capacity + kMaxForwardJump iterations.
  while (position - next_ >= static_cast<int64_t>(capacity_)) {
    Slot& s = slot_at(next_);
    if (s.filled && s.position == next_)
      ++stats_.overflow;
    else
      ++stats_.lost;
    discard_next();
  }
}

void JitterBuffer::update_jitter(uint32_t timestamp, MonoTime arrival) {
  const uint32_t clock_rate = config_.timestamp_step * (1000 / kFrameMs);
  const int64_t transit = static_cast<int32_t>(to_rtp_units(arrival, clock_rate) - timestamp);
  if (have_transit_) {
    int64_t d = transit - transit_;
    if (d < 0) d = -d;
    // A jump of more than a second is a timestamp discontinuity (silence suppression, a
    // sender restart), not network jitter: skip it rather than inflate the target.
    if (d <= static_cast<int64_t>(clock_rate)) jitter_q4_ += d - ((jitter_q4_ + 8) >> 4);
  }
  have_transit_ = true;
  transit_ = transit;
}

void JitterBuffer::update_target() {
  if (!config_.adaptive) return;
  // Three mean deviations of jitter plus the frame being played, rounded up to frames.
  // The estimate decays by 1/16 per packet, so the target comes back down when calm.
  const int64_t jitter_units = jitter_q4_ >> 4;
  const int64_t step = config_.timestamp_step;
  const int64_t wanted = 1 + (3 * jitter_units + step - 1) / step;
  target_frames_ = std::max<size_t>(configured_target_,
                                    static_cast<size_t>(std::min<int64_t>(wanted, capacity_ - 1)));
}

PutResult JitterBuffer::put(uint16_t sequence, uint32_t timestamp, std::span<const uint8_t> payload,
                            MonoTime arrival, bool marker, MonoTime received) {
  if (payload.size() > config_.max_payload) {
    ++stats_.too_large;
    return PutResult::kTooLarge;
  }
  bool restarted = false;
  if (!started_) restart(sequence);

  int64_t position = position_of(sequence);
  const int64_t distance = position - next_;
  if (distance < 0) {
    const bool fits_before_start =
        !has_played_ && end_ - position <= static_cast<int64_t>(capacity_);
    if (fits_before_start) {
      // Still buffering: an earlier packet overtaken by a later one becomes the start.
      next_ = position;
    } else if (distance >= -kMaxMisorder) {
      ++stats_.late;
      return PutResult::kLate;
    } else if (confirm_stray(sequence)) {
      restarted = true;
    } else {
      ++stats_.late;
      return PutResult::kLate;
    }
  } else if (distance >= static_cast<int64_t>(capacity_) + kMaxForwardJump) {
    if (!confirm_stray(sequence)) {
      ++stats_.overflow;
      return PutResult::kOverflow;
    }
    restarted = true;
  } else if (distance >= static_cast<int64_t>(capacity_)) {
    make_room_for(position);
  }
  stray_pending_ = false;
  if (restarted) position = position_of(sequence);

  Slot& s = slot_at(position);
  if (s.filled && s.position == position) {
    ++stats_.duplicate;
    return PutResult::kDuplicate;
  }
  s.filled = true;
  s.marker = marker;
  s.position = position;
  s.timestamp = timestamp;
  s.received = received;
  s.size = static_cast<uint16_t>(payload.size());
  if (!payload.empty()) std::memcpy(bytes_at(position), payload.data(), payload.size());
  if (position >= end_) end_ = position + 1;
  ++stats_.received;

  update_jitter(timestamp, arrival);
  update_target();
  return restarted ? PutResult::kResync : PutResult::kStored;
}

JitterFrame JitterBuffer::get() {
  JitterFrame out;
  if (!started_) return out;
  size_t depth = depth_frames();
  if (!playing_) {
    if (depth < target_frames_) return out;
    playing_ = true;
    window_ticks_ = 0;
  }
  if (depth == 0) {
    // Ran dry: buffer up to the target again rather than play one frame at a time.
    playing_ = false;
    ++stats_.underruns;
    return out;
  }

  // Drift control, once per window, from the depth seen before each get(): a depth that
  // never came down to the target means the sender's clock is faster than ours, one that
  // never came up to it means slower.
  if (window_ticks_ == 0) {
    window_min_ = window_max_ = depth;
  } else {
    window_min_ = std::min(window_min_, depth);
    window_max_ = std::max(window_max_, depth);
  }
  if (++window_ticks_ >= kDriftWindowTicks) {
    window_ticks_ = 0;
    if (window_min_ > target_frames_ && depth > 1) {
      discard_next();  // drop the oldest frame
      ++stats_.drift_adjustments;
      --depth;
    } else if (window_max_ < target_frames_) {
      // Play one concealment frame without consuming a packet.
      ++stats_.drift_adjustments;
      out.kind = JitterFrame::Kind::kMissing;
      out.sequence = static_cast<uint16_t>(base_sequence_ + next_);
      return out;
    }
  }

  const int64_t position = next_++;
  has_played_ = true;
  Slot& s = slot_at(position);
  out.sequence = static_cast<uint16_t>(base_sequence_ + position);
  if (s.filled && s.position == position) {
    s.filled = false;
    out.kind = JitterFrame::Kind::kPayload;
    out.timestamp = s.timestamp;
    out.marker = s.marker;
    out.received = s.received;
    out.payload = {bytes_at(position), s.size};
    return out;
  }
  ++stats_.lost;
  out.kind = JitterFrame::Kind::kMissing;
  return out;
}

}  // namespace atende::rtp
