// What an ASP session's WebSocket (on the ASP I/O thread) and its AspLeg (on a media worker)
// hand each other. Everything is fixed-size and allocated once when the session starts:
// inbound audio is a 1 s ring of samples, inbound events and outbound messages are rings of
// slots. One mutex, held only to copy in or out; the worker never waits on the network.
// The worker lists the session on its I/O thread's WakeQueue, once per batch.
#pragma once
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "asp/message.h"
#include "asp/wake_queue.h"
#include "core/clock.h"

namespace atende::asp {

enum class InKind : uint8_t {
  kAudioEnd,       // server role: the peer's VAD says the caller stopped speaking
  kBargeIn,        // server role: the caller spoke over our response
  kDtmf,           // both
  kSessionEnd,     // server role: the peer ends the session (we answer session.ended)
  kResponseStart,  // client role
  kResponseEnd,    // client role
};

struct InEvent {
  InKind kind;
  char digit = 0;
  bool interrupted = false;
};

enum class OutKind : uint8_t {
  kAudio,          // `samples` of pcm
  kResponseStart,  // server role
  kResponseEnd,    // server role; `interrupted`
  kAudioEnd,       // client role
  kBargeIn,        // client role
  kDtmf,           // both
  kEnd,            // our side ends: session.ended (server) / session.end (client); `reason`
  kTranscript,     // server role, feature "transcripts": `digit` 'c' caller / 'a' agent; the
                   // text's bytes in `pcm` (set_slot_text)
};

struct OutSlot {
  OutKind kind = OutKind::kAudio;
  bool interrupted = false;
  char digit = 0;
  int64_t response_id = 0;
  uint16_t samples = 0;
  std::array<int16_t, 320> pcm{};  // 20 ms at 16 kHz
};

// A transcript's text rides in the slot's audio storage (640 bytes), so a slot stays one
// fixed size and nothing is allocated on the worker. Cut on a UTF-8 boundary.
inline void set_slot_text(OutSlot& slot, std::string_view text) {
  text = utf8_prefix(text, sizeof(slot.pcm));
  std::memcpy(slot.pcm.data(), text.data(), text.size());
  slot.samples = static_cast<uint16_t>(text.size());  // bytes, for a transcript
}
inline std::string_view slot_text_view(const OutSlot& slot) {
  return {reinterpret_cast<const char*>(slot.pcm.data()),
          std::min<size_t>(slot.samples, sizeof(slot.pcm))};
}

class Channel {
 public:
  static constexpr size_t kOutSlots = 64;  // 1.28 s of our audio waiting for the socket
  static constexpr size_t kInEvents = 32;
  static constexpr int kInRingMs = 1000;

  explicit Channel(int rate) : rate_(rate), ring_(static_cast<size_t>(rate) * kInRingMs / 1000) {}
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  int rate() const { return rate_; }
  // I/O thread, before the leg exists: wake() lists `who` (the connection) on `queue`.
  void attach(std::shared_ptr<WakeQueue> queue, std::weak_ptr<Wakeable> who) {
    wake_queue_ = std::move(queue);
    wake_who_ = std::move(who);
  }

  // ---- I/O thread -> worker ----
  // Appends samples that arrived `at`; when the ring is full the oldest are dropped (the
  // worker stalled: the caller must not be heard late). Returns how many were dropped.
  size_t push_audio(const int16_t* pcm, size_t n, MonoTime at = MonoClock::now()) {
    std::lock_guard lock(mu_);
    size_t dropped = 0;
    if (n > ring_.size()) {
      dropped += n - ring_.size();
      pcm += n - ring_.size();
      consumed_locked(n - ring_.size());
      queued_total_ += n - ring_.size();
      n = ring_.size();
    }
    if (size_ + n > ring_.size()) {
      const size_t over = size_ + n - ring_.size();
      head_ = (head_ + over) % ring_.size();
      size_ -= over;
      dropped += over;
      consumed_locked(over);
    }
    size_t tail = (head_ + size_) % ring_.size();
    for (size_t i = 0; i < n; ++i) {
      ring_[tail] = pcm[i];
      if (++tail == ring_.size()) tail = 0;
    }
    size_ += n;
    queued_total_ += n;
    new_arrival_ = at;
    // This message's arrival covers the samples up to queued_total_ (the newest entry grows
    // when the table is full: those samples get a later time, never an earlier one).
    if (stamps_size_ == stamps_.size()) {
      stamps_[(stamps_head_ + stamps_size_ - 1) % stamps_.size()] = {queued_total_, at};
    } else {
      stamps_[(stamps_head_ + stamps_size_) % stamps_.size()] = {queued_total_, at};
      ++stamps_size_;
    }
    return dropped;
  }
  // False when the event ring is full (the peer floods control messages).
  bool push_event(const InEvent& e) {
    std::lock_guard lock(mu_);
    if (events_count_ == events_.size()) return false;
    events_[(events_head_ + events_count_) % events_.size()] = e;
    ++events_count_;
    return true;
  }
  // The connection is over (peer closed, protocol error, timeout): `reason` is recorded.
  void set_ended(std::string reason) {
    std::lock_guard lock(mu_);
    if (ended_) return;
    ended_ = true;
    end_reason_ = std::move(reason);
  }

  // ---- worker ----
  // Takes exactly n samples into out; false (nothing taken) when fewer are queued.
  // `received`: when the last of them arrived (atende_media_frame_to_flow_seconds).
  bool pop_audio(int16_t* out, size_t n, MonoTime* received = nullptr) {
    std::lock_guard lock(mu_);
    if (size_ < n || n == 0) return false;
    for (size_t i = 0; i < n; ++i) {
      out[i] = ring_[head_];
      if (++head_ == ring_.size()) head_ = 0;
    }
    size_ -= n;
    consumed_locked(n - 1);  // the entry covering the last sample is now the first
    if (received) *received = stamps_size_ > 0 ? stamps_[stamps_head_].at : MonoTime{};
    consumed_locked(1);
    return true;
  }
  // When the newest audio message came, if one came since the last call; else MonoTime{}.
  // Its wait for the worker's tick is the peer's phase (media/read_phase.h).
  MonoTime take_new_arrival() {
    std::lock_guard lock(mu_);
    return std::exchange(new_arrival_, MonoTime{});
  }
  // Drops the oldest `n` samples (a standing backlog, media/backlog_trim.h); how many went.
  size_t drop_oldest(size_t n) {
    std::lock_guard lock(mu_);
    n = std::min(n, size_);
    head_ = (head_ + n) % ring_.size();
    size_ -= n;
    consumed_locked(n);
    return n;
  }
  size_t queued() {
    std::lock_guard lock(mu_);
    return size_;
  }
  void drop_audio() {
    std::lock_guard lock(mu_);
    consumed_locked(size_);
    head_ = size_ = 0;
  }
  bool pop_event(InEvent& e) {
    std::lock_guard lock(mu_);
    if (events_count_ == 0) return false;
    e = events_[events_head_];
    events_head_ = (events_head_ + 1) % events_.size();
    --events_count_;
    return true;
  }
  bool ended(std::string* reason) {
    std::lock_guard lock(mu_);
    if (ended_ && reason) *reason = end_reason_;
    return ended_;
  }
  // Fills a free slot through `fill`; false when every slot is taken (the peer stopped
  // reading). Does not wake the I/O thread: call wake() after a batch.
  template <typename Fill>
  bool push_out(Fill&& fill) {
    std::lock_guard lock(mu_);
    if (out_count_ == out_.size()) return false;
    fill(out_[(out_head_ + out_count_) % out_.size()]);
    ++out_count_;
    return true;
  }
  // Every slot is taken while the I/O thread is behind (no write of its waits on the
  // socket): the oldest audio slot goes, so the message being pushed finds room. False when
  // no slot holds audio.
  bool drop_oldest_out_audio() {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < out_count_; ++i) {
      if (out_[(out_head_ + i) % out_.size()].kind != OutKind::kAudio) continue;
      for (size_t j = i; j + 1 < out_count_; ++j) {  // rare: only when the thread is behind
        out_[(out_head_ + j) % out_.size()] = out_[(out_head_ + j + 1) % out_.size()];
      }
      --out_count_;
      return true;
    }
    return false;
  }
  // How long the I/O thread's current write has waited for the socket; zero when none
  // waits. Full slots with a write waiting long: the peer stopped reading. Full slots with
  // none: our I/O thread is behind (a busy box, many sessions), not the peer.
  MonoClock::duration write_pending_for(MonoTime now) const {
    const int64_t since = write_since_.load(std::memory_order_acquire);
    return since == 0 ? MonoClock::duration::zero() : now - MonoTime(MonoClock::duration(since));
  }
  // ---- I/O thread: a write to the socket starts / completes ----
  void write_started(MonoTime at) {
    write_since_.store(std::max<int64_t>(1, at.time_since_epoch().count()),
                       std::memory_order_release);
  }
  void write_done() { write_since_.store(0, std::memory_order_release); }

  // Our side ends: stats and reason for the last message; the I/O thread closes after it.
  void set_local_end(std::string reason, std::string detail, const SessionStats& stats,
                     bool abort) {
    std::lock_guard lock(mu_);
    local_end_ = true;
    local_reason_ = std::move(reason);
    local_detail_ = std::move(detail);
    stats_ = stats;
    abort_ = abort;
  }
  // The I/O thread should look at this session: listed once until it clears the flag.
  void wake() {
    if (woken_.exchange(true, std::memory_order_acq_rel)) return;
    if (wake_queue_) wake_queue_->push(wake_who_);
  }

  // ---- I/O thread ----
  // Copies the oldest outbound slot; false when none.
  bool pop_out(OutSlot& slot) {
    std::lock_guard lock(mu_);
    if (out_count_ == 0) return false;
    slot = out_[out_head_];
    out_head_ = (out_head_ + 1) % out_.size();
    --out_count_;
    return true;
  }
  void clear_woken() { woken_.store(false, std::memory_order_release); }
  bool local_end(std::string* reason, std::string* detail, SessionStats* stats, bool* abort) {
    std::lock_guard lock(mu_);
    if (!local_end_) return false;
    *reason = local_reason_;
    *detail = local_detail_;
    *stats = stats_;
    *abort = abort_;
    return true;
  }

 private:
  // Samples left the ring: forget the arrival times wholly behind them.
  void consumed_locked(size_t samples) {
    consumed_total_ += samples;
    while (stamps_size_ > 0 && stamps_[stamps_head_].end <= consumed_total_) {
      stamps_head_ = (stamps_head_ + 1) % stamps_.size();
      --stamps_size_;
    }
  }

  const int rate_;
  std::shared_ptr<WakeQueue> wake_queue_;  // set before the leg exists, then read-only
  std::weak_ptr<Wakeable> wake_who_;
  std::atomic<bool> woken_{false};
  std::atomic<int64_t> write_since_{0};  // MonoTime ticks of the pending write; 0: none
  std::mutex mu_;
  std::vector<int16_t> ring_;
  size_t head_ = 0, size_ = 0;
  // Arrival times of the queued audio: entry i covers samples up to `end` (counted in
  // samples ever queued). Fixed size: no allocation per message.
  struct Stamp {
    uint64_t end = 0;
    MonoTime at{};
  };
  std::array<Stamp, 64> stamps_{};
  size_t stamps_head_ = 0, stamps_size_ = 0;
  uint64_t queued_total_ = 0, consumed_total_ = 0;
  MonoTime new_arrival_{};  // the newest push_audio's time, until the worker takes it
  std::array<InEvent, kInEvents> events_{};
  size_t events_head_ = 0, events_count_ = 0;
  std::array<OutSlot, kOutSlots> out_{};
  size_t out_head_ = 0, out_count_ = 0;
  bool ended_ = false;
  std::string end_reason_;
  bool local_end_ = false;
  bool abort_ = false;
  std::string local_reason_, local_detail_;
  SessionStats stats_;
};

}  // namespace atende::asp
