// The registry of calls a controller may take: each call driven by a controller has a
// ControllerChannel here, by call id, from the moment it exists (a Dial, or an inbound call
// the dial plan sent to `controller`) until it ends. Inbound calls also wait in a parked
// queue for the next controller whose Attach names no call.
//
// Any thread. Session events (CallControl::subscribe) are routed here to the channel of
// their call: ringing, transcripts of an agent the controller started, the end.
#pragma once
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "control/controller_channel.h"
#include "sessions/call_control.h"

namespace atende::control {

struct ControllerMetrics {
  Gauge* connected = nullptr;  // streams attached to a call now
  Gauge* parked = nullptr;     // inbound calls waiting for a controller
  ChannelMetrics channel{};
};

class ControllerHub {
 public:
  explicit ControllerHub(ControllerMetrics metrics) : metrics_(metrics) {}

  // The channel of `call_id`, made when there is none yet.
  std::shared_ptr<ControllerChannel> open(const ControllerChannel::CallFacts& facts);
  std::shared_ptr<ControllerChannel> find(const std::string& call_id) const;
  // An inbound call waits for the next Attach without a call id.
  void park(std::shared_ptr<ControllerChannel> channel);
  // An inbound call held ringing (SessionManager::set_inbound_hold): its channel, marked
  // ringing with a "ringing" event waiting, parked for the next controller. Any thread.
  void ringing(const sessions::HeldCall& call);
  // Waits until `deadline` (or stop(), or `cancelled()` turning true; checked every 200 ms)
  // for a parked call and hands it over attached; nullptr when none came.
  std::shared_ptr<ControllerChannel> take_parked(std::chrono::steady_clock::time_point deadline,
                                                 const std::function<bool()>& cancelled);
  // The call is over: forgotten (its channel lives on with whoever still holds it).
  void remove(const std::string& call_id);
  void on_session_event(const sessions::SessionEvent& ev);
  // Shutdown: waiters give up, every channel ends.
  void stop();

  void stream_attached() {
    if (metrics_.connected) metrics_.connected->inc();
  }
  void stream_detached() {
    if (metrics_.connected) metrics_.connected->dec();
  }
  const ChannelMetrics& channel_metrics() const { return metrics_.channel; }

 private:
  void prune_parked_locked();

  ControllerMetrics metrics_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<std::string, std::shared_ptr<ControllerChannel>> channels_;
  std::deque<std::weak_ptr<ControllerChannel>> parked_;
  bool stopping_ = false;
};

}  // namespace atende::control
