// Where a call's driver (on its media worker) and a controller's stream (on gRPC threads)
// meet. Everything crossing threads goes through here, under one mutex held only to copy:
//
//   media worker                          gRPC threads
//   push_frame(heard) -> to_controller ->  next_out() -> Write(Audio)   (writer thread)
//   push_event(...)   -> events        ->  next_out() -> Write(Event)
//   pop_frame()       <- from_controller <- push_audio(...)               (reader thread)
//   take_commands()   <- commands        <- command(...)
//
// Every queue is bounded. Audio either way drops its oldest frame when full (counted, and
// the controller is told with a "frames_dropped" event now and then): a slow controller
// loses audio, never stalls the media path. Events and commands are few and small; a
// controller that floods commands gets an error instead of a longer queue.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "control/frame_ring.h"
#include "core/clip.h"
#include "core/metrics.h"

namespace atende::control {

struct ControllerEvent {
  std::string type{};  // docs/grpc.md "Events"
  std::string digit{};
  std::string text{};
  std::string reason{};
  int sample_rate = 0;
  uint64_t count = 0;
  std::map<std::string, std::string> data{};
};

struct ControllerCommand {
  enum class Kind { kAnswer, kPlay, kSay, kDtmf, kStartFlow, kStartAgent, kHangup, kFlush };
  Kind kind = Kind::kAnswer;
  ClipPtr clip{};       // kPlay
  std::string text{};   // kSay: the text; kDtmf: the digits; kStartFlow/kStartAgent: the name
  std::string voice{};  // kSay
  std::map<std::string, std::string> variables{};  // kStartFlow / kStartAgent
};

// What the writer thread sends next.
struct Outgoing {
  enum class Kind { kNone, kAudio, kEvent } kind = Kind::kNone;
  AudioFrame frame;
  ControllerEvent event;
};

struct ChannelMetrics {
  Counter* dropped_to_controller = nullptr;
  Counter* dropped_from_controller = nullptr;
};

class ControllerChannel {
 public:
  static constexpr size_t kToControllerFrames = 50;    // 1 s of audio waiting for the writer
  static constexpr size_t kFromControllerFrames = 25;  // 500 ms waiting for the leg's tick
  static constexpr size_t kMaxEvents = 256;
  static constexpr size_t kMaxCommands = 64;

  struct CallFacts {
    std::string call_id{};
    std::string from{};
    std::string to{};
    std::string direction{};
  };

  ControllerChannel(CallFacts facts, ChannelMetrics metrics);
  const CallFacts& facts() const { return facts_; }
  // The leg's rate once it is answered (0 before): any thread.
  void set_sample_rate(int rate) { sample_rate_.store(rate); }
  int sample_rate() const { return sample_rate_.load(); }
  // An inbound call held ringing until the controller answers or refuses it (the hub marks
  // it; its driver, which runs from the answer on, clears it). Any thread.
  void set_ringing(bool ringing) {
    ringing_.store(ringing);
    if (ringing) was_held_.store(true);
  }
  bool ringing() const { return ringing_.load(); }
  bool was_held() const { return was_held_.load(); }
  // The controller asked for early media while it rang (Progress): the driver starts before
  // the answer and says "early_media"; "answered" comes with the answer.
  void set_early_media(bool early) { early_media_.store(early); }
  bool early_media() const { return early_media_.load(); }

  // ---- the stream's side (gRPC threads) ----
  // One stream at a time: false when another holds the call or it has ended.
  bool attach(bool* ended);
  // The stream is gone (client cancelled, vanished, or finished): `reason` for the record.
  void detach(const std::string& reason);
  void push_audio(const AudioFrame& frame);
  // False when too many commands are waiting (the controller is flooding).
  bool command(ControllerCommand cmd);
  // Waits up to `wait` for something to send. kNone: nothing in time, or `closed` set when
  // the call has ended and everything was sent.
  Outgoing next_out(std::chrono::milliseconds wait, bool* closed);
  // Wakes next_out() (the stream is going away).
  void wake();

  // ---- the driver's side (the call's media worker) ----
  bool attached() const;
  bool ever_attached() const;
  std::string detach_reason() const;
  // Audio only flows while a stream holds the call in control mode (the driver decides).
  void push_frame(const AudioFrame& heard);
  // The controller's oldest frame, once at least `min_queued` wait (a small jitter buffer:
  // a controller's frames come over TCP in bursts).
  bool pop_frame(AudioFrame& out, size_t min_queued = 1);
  void push_event(ControllerEvent ev);
  void take_commands(std::vector<ControllerCommand>& out);
  // The call is over: a last "hangup" event with `reason`, then the stream ends.
  void end(const std::string& reason);
  bool ended() const;

 private:
  const CallFacts facts_;
  std::atomic<int> sample_rate_{0};
  std::atomic<bool> ringing_{false};
  std::atomic<bool> was_held_{false};
  std::atomic<bool> early_media_{false};
  ChannelMetrics metrics_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  FrameRing to_controller_{kToControllerFrames};
  FrameRing from_controller_{kFromControllerFrames};
  std::deque<ControllerEvent> events_;
  std::deque<ControllerCommand> commands_;
  uint64_t reported_drops_ = 0;  // to_controller drops the controller was told of
  bool attached_ = false;
  bool ever_attached_ = false;
  bool ended_ = false;
  bool woken_ = false;
  std::string detach_reason_;
};

}  // namespace atende::control
