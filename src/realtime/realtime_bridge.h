// What a Realtime session's WebSocket (on the Realtime I/O thread) and the agent engine (on a
// leg's media worker) hand each other. Audio goes through rings allocated once, at the leg's
// rate (the I/O thread resamples to and from 24 kHz); events and commands through bounded
// queues. One mutex, held only to copy in or out: the media thread never waits on the
// network, and never allocates for audio.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "realtime/realtime_events.h"

namespace atende::realtime {

// A command from the engine, sent by the I/O thread in order.
struct Command {
  // kRestartInput: a caller utterance starts; the server's input buffer is cleared and
  // refilled with the last `audio_end_ms` of the caller's audio (its start and pre-roll).
  enum class Kind {
    kCommit,
    kCancel,
    kTruncate,
    kToolOutput,
    kRespond,
    kDeleteItem,
    kRestartInput
  };
  Kind kind = Kind::kCommit;
  std::string id{};      // kTruncate, kDeleteItem: item id; kToolOutput: call id
  std::string output{};  // kToolOutput; kRespond: instructions for that response
  int audio_end_ms = 0;  // kTruncate: heard up to; kRestartInput: audio to keep
};

// An event for the engine: a server event without its audio (audio is in the answer ring),
// or kAudioStart: the samples of assistant item `item_id` start at `ring_pos`.
struct EngineEvent {
  bool audio_start = false;
  uint64_t ring_pos = 0;
  ServerEvent event;
};

class Bridge {
 public:
  static constexpr size_t kMaxEvents = 256;
  static constexpr size_t kMaxCommands = 64;
  static constexpr int kCallerRingMs = 2000;
  static constexpr int kAnswerRingSeconds = 60;  // a long answer arrives faster than it plays

  explicit Bridge(int leg_rate)
      : rate_(leg_rate),
        caller_(static_cast<size_t>(leg_rate) * kCallerRingMs / 1000),
        answer_(static_cast<size_t>(leg_rate) * kAnswerRingSeconds) {}
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  int rate() const { return rate_; }

  // ---- media thread ----
  // The caller's audio at the leg's rate; the oldest is dropped when the socket lags.
  void push_caller(const int16_t* pcm, size_t n) {
    std::lock_guard lock(mu_);
    push_ring(caller_, caller_head_, caller_size_, pcm, n);
  }
  // Exactly n answer samples into `out`; false (nothing taken) when fewer are queued.
  bool pop_answer(int16_t* out, size_t n) {
    std::lock_guard lock(mu_);
    if (answer_size_ < n) return false;
    pop_ring(answer_, answer_head_, answer_size_, out, n);
    answer_popped_ += n;
    return true;
  }
  size_t answer_queued() {
    std::lock_guard lock(mu_);
    return answer_size_;
  }
  // Barge-in: drop the queued answer and ignore what still arrives for `response_id`.
  void drop_answer(const std::string& response_id) {
    std::lock_guard lock(mu_);
    answer_popped_ += answer_size_;
    answer_head_ = answer_size_ = 0;
    dropped_response_ = response_id;
  }
  uint64_t answer_popped() {
    std::lock_guard lock(mu_);
    return answer_popped_;
  }
  bool pop_event(EngineEvent& e) {
    std::lock_guard lock(mu_);
    if (events_.empty()) return false;
    e = std::move(events_.front());
    events_.pop_front();
    return true;
  }
  // False when the queue is full (the socket is stuck): the engine ends the call. The I/O
  // thread is woken for it (a commit starts the model's answer: it should not wait for the
  // next 20 ms tick).
  bool push_command(Command c) {
    std::lock_guard lock(mu_);
    if (commands_.size() >= kMaxCommands) return false;
    commands_.push_back(std::move(c));
    if (wake_) wake_();
    return true;
  }
  // The engine is gone: the I/O thread closes the socket.
  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  // The session is over (socket closed, error): why, or nullopt while it runs.
  std::optional<std::string> ended() {
    std::lock_guard lock(mu_);
    return ended_;
  }

  // ---- I/O thread ----
  size_t pop_caller(int16_t* out, size_t max) {
    std::lock_guard lock(mu_);
    const size_t n = std::min(max, caller_size_);
    pop_ring(caller_, caller_head_, caller_size_, out, n);
    return n;
  }
  // Answer audio of `response_id`, at the leg's rate. False when it is dropped (barged in).
  // A full ring cuts the answer (60 s queued is a runaway answer, not a conversation).
  bool push_answer(const std::string& response_id, const int16_t* pcm, size_t n) {
    std::lock_guard lock(mu_);
    if (!dropped_response_.empty() && response_id == dropped_response_) return false;
    n = std::min(n, answer_.size() - answer_size_);
    push_ring(answer_, answer_head_, answer_size_, pcm, n);
    answer_pushed_ += n;
    return true;
  }
  bool is_dropped(const std::string& response_id) {
    std::lock_guard lock(mu_);
    return !dropped_response_.empty() && response_id == dropped_response_;
  }
  uint64_t answer_pushed() {
    std::lock_guard lock(mu_);
    return answer_pushed_;
  }
  // False when full: the server floods us (the I/O thread ends the session).
  bool push_event(EngineEvent e) {
    std::lock_guard lock(mu_);
    if (events_.size() >= kMaxEvents) return false;
    events_.push_back(std::move(e));
    return true;
  }
  bool pop_command(Command& c) {
    std::lock_guard lock(mu_);
    if (commands_.empty()) return false;
    c = std::move(commands_.front());
    commands_.pop_front();
    return true;
  }
  bool closed() {
    std::lock_guard lock(mu_);
    return closed_;
  }
  // Called (under the bridge's mutex: it must only post, never block) when a command is
  // queued; empty: nobody to wake. Set and cleared by the I/O side.
  void set_wake(std::function<void()> wake) {
    std::lock_guard lock(mu_);
    wake_ = std::move(wake);
  }
  void set_ended(std::string why) {
    std::lock_guard lock(mu_);
    if (!ended_) ended_ = std::move(why);
  }

 private:
  static void push_ring(std::vector<int16_t>& ring, size_t& head, size_t& size, const int16_t* pcm,
                        size_t n) {
    if (ring.empty()) return;
    if (n > ring.size()) {
      pcm += n - ring.size();
      n = ring.size();
    }
    if (size + n > ring.size()) {  // drop the oldest
      const size_t over = size + n - ring.size();
      head = (head + over) % ring.size();
      size -= over;
    }
    size_t tail = (head + size) % ring.size();
    for (size_t i = 0; i < n; ++i) {
      ring[tail] = pcm[i];
      if (++tail == ring.size()) tail = 0;
    }
    size += n;
  }
  static void pop_ring(const std::vector<int16_t>& ring, size_t& head, size_t& size, int16_t* out,
                       size_t n) {
    for (size_t i = 0; i < n; ++i) {
      out[i] = ring[head];
      if (++head == ring.size()) head = 0;
    }
    size -= n;
  }

  const int rate_;
  std::mutex mu_;
  std::vector<int16_t> caller_;
  size_t caller_head_ = 0, caller_size_ = 0;
  std::vector<int16_t> answer_;
  size_t answer_head_ = 0, answer_size_ = 0;
  uint64_t answer_pushed_ = 0;  // samples ever queued (positions for kAudioStart)
  uint64_t answer_popped_ = 0;  // samples ever taken or dropped
  std::string dropped_response_;
  std::deque<EngineEvent> events_;
  std::deque<Command> commands_;
  bool closed_ = false;
  std::optional<std::string> ended_;
  std::function<void()> wake_;
};

}  // namespace atende::realtime
