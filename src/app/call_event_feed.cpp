#include "app/call_event_feed.h"

#include <spdlog/spdlog.h>

#include "app/session_json.h"
#include "store/call_record.h"

namespace atende::app {

namespace {

std::string console_type(const std::string& type) {
  if (type == "call.started" || type == "call.answered" || type == "call.ended") return type;
  return "call.updated";
}

// A call the live list does not show (yet, or any more): what the event itself says.
nlohmann::json call_from_event(const sessions::SessionEvent& e, const nlohmann::json& data,
                               const std::string& state) {
  auto text = [&](const char* key) {
    const auto it = data.find(key);
    return it != data.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  nlohmann::json leg{
      {"id", e.call_id},      {"kind", text("leg_kind")}, {"direction", text("direction")},
      {"from", text("from")}, {"to", text("to")},         {"state", state}};
  return {{"id", e.call_id},
          {"flow", text("flow")},
          {"state", state},
          {"started_at", store::format_iso8601(e.at)},
          {"legs", nlohmann::json::array({std::move(leg)})}};
}

}  // namespace

CallEventFeed::CallEventFeed(sessions::CallControl& control, api::SseHub& hub)
    : control_(control), hub_(hub) {
  subscription_ = control_.subscribe([this](const sessions::SessionEvent& e) { on_event(e); });
}

CallEventFeed::~CallEventFeed() {
  control_.unsubscribe(subscription_);
  hub_.stop();  // a drain task the hub still holds points at this feed
}

void CallEventFeed::on_event(const sessions::SessionEvent& e) {
  if (hub_.clients() == 0) return;  // nobody watches: no work on the hub thread
  std::lock_guard lock(mutex_);
  if (batch_.size() >= kMaxBatch) return;  // the hub is far behind; see SseHub::post
  batch_.push_back(e);
  if (drain_posted_) return;
  drain_posted_ = hub_.post([this] { drain(); });
}

void CallEventFeed::drain() {
  std::vector<sessions::SessionEvent> events;
  {
    std::lock_guard lock(mutex_);
    events.swap(batch_);
    drain_posted_ = false;
  }
  if (events.empty()) return;
  const auto live = control_.list();
  for (const auto& e : events) {
    // Replace, not throw: names and URIs came from the network and may be bad UTF-8.
    hub_.broadcast(
        translate(e, live).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  // Forget calls that ended without an event we saw (bounded by the live calls).
  if (last_seen_.size() > 2 * live.size() + 64) {
    std::map<std::string, nlohmann::json> kept;
    for (const auto& s : live) {
      if (auto it = last_seen_.find(s.id); it != last_seen_.end()) kept.insert(*it);
    }
    last_seen_.swap(kept);
  }
}

nlohmann::json CallEventFeed::translate(const sessions::SessionEvent& e,
                                        const std::vector<sessions::SessionSummary>& live) {
  std::string type = console_type(e.type);
  auto data = nlohmann::json::parse(e.json, nullptr, false);
  if (!data.is_object()) data = nlohmann::json::object();
  // The event names a leg: its session is the call whose id or one of whose legs matches.
  const sessions::SessionSummary* found = nullptr;
  for (const auto& s : live) {
    if (s.id == e.call_id) found = &s;
    for (const auto& l : s.legs) {
      if (!found && l.id == e.call_id) found = &s;
    }
    if (found) break;
  }
  nlohmann::json call;
  if (found) {
    // One leg of a call that goes on (a transfer's or bridge's other leg): an update.
    if (type == "call.ended" && found->id != e.call_id) type = "call.updated";
    call = session_json(*found);
    last_seen_[found->id] = call;
  } else if (auto it = last_seen_.find(e.call_id); it != last_seen_.end()) {
    call = it->second;
    if (type == "call.ended") last_seen_.erase(it);
  } else {
    call = call_from_event(e, data, type == "call.ended" ? "ended" : "ringing");
  }
  if (type == "call.ended") {
    call["state"] = "ended";
    for (auto& leg : call["legs"]) leg["state"] = "ended";
    if (data.contains("end_reason")) call["end_reason"] = data["end_reason"];
  }
  return {{"type", type}, {"call", std::move(call)}};
}

std::string CallEventFeed::snapshot() {
  auto calls = nlohmann::json::array();
  for (const auto& s : control_.list()) {
    auto j = session_json(s);
    last_seen_[s.id] = j;
    calls.push_back(std::move(j));
  }
  return nlohmann::json{{"type", "snapshot"}, {"calls", std::move(calls)}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace atende::app
