// GET /api/events' content: CallControl's events turned into console events (docs/api.md
// "Live events") and broadcast through an api::SseHub.
//
// CallControl calls subscribers on SIP, media and agent threads, which must never wait: the
// subscriber only appends the event to a bounded batch and posts one drain task to the
// hub's thread. The drain asks CallControl::list() once per batch (not per event) and
// sends each event with the call as GET /api/live shows it:
//
//   {"type": "call.started"|"call.answered"|"call.updated"|"call.ended", "call": {...}}
//
// turn.completed and any other event of a call become "call.updated". A call that is no
// longer listed (it ended) is sent as last seen, with state "ended" and its end_reason.
#pragma once
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/sse_hub.h"
#include "sessions/call_control.h"

namespace atende::app {

class CallEventFeed {
 public:
  static constexpr size_t kMaxBatch = 10'000;  // events waiting for the hub thread

  // Subscribes at once; `hub` must outlive this feed.
  CallEventFeed(sessions::CallControl& control, api::SseHub& hub);
  ~CallEventFeed();  // unsubscribes and stops the hub (its tasks may point at this feed)
  CallEventFeed(const CallEventFeed&) = delete;
  CallEventFeed& operator=(const CallEventFeed&) = delete;

  // A new client's first event: {"type": "snapshot", "calls": [...live calls...]}. Hub
  // thread (SseHub::adopt's `first`).
  std::string snapshot();

  // The console event for `e`, given the live calls: what drain() sends. Public for tests.
  nlohmann::json translate(const sessions::SessionEvent& e,
                           const std::vector<sessions::SessionSummary>& live);

 private:
  void on_event(const sessions::SessionEvent& e);  // any thread
  void drain();                                    // hub thread

  sessions::CallControl& control_;
  api::SseHub& hub_;
  sessions::CallControl::Subscription subscription_ = 0;
  std::mutex mutex_;
  std::vector<sessions::SessionEvent> batch_;  // guarded by mutex_
  bool drain_posted_ = false;                  // guarded by mutex_
  // Hub thread: each live call as last sent, so an ended call can be shown as it was.
  std::map<std::string, nlohmann::json> last_seen_;
};

}  // namespace atende::app
