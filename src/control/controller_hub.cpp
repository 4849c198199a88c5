#include "control/controller_hub.h"

#include <nlohmann/json.hpp>

namespace atende::control {

std::shared_ptr<ControllerChannel> ControllerHub::open(const ControllerChannel::CallFacts& facts) {
  std::lock_guard lock(mu_);
  auto& slot = channels_[facts.call_id];
  if (!slot) slot = std::make_shared<ControllerChannel>(facts, metrics_.channel);
  return slot;
}

std::shared_ptr<ControllerChannel> ControllerHub::find(const std::string& call_id) const {
  std::lock_guard lock(mu_);
  auto it = channels_.find(call_id);
  return it == channels_.end() ? nullptr : it->second;
}

void ControllerHub::prune_parked_locked() {
  // Calls that ended (or were taken by id) while parked: without this the queue and the
  // gauge would grow with every call no controller came for.
  const size_t before = parked_.size();
  std::erase_if(parked_, [](const std::weak_ptr<ControllerChannel>& w) {
    auto c = w.lock();
    return !c || c->ended() || c->attached();
  });
  if (metrics_.parked) metrics_.parked->add(-static_cast<int64_t>(before - parked_.size()));
}

void ControllerHub::park(std::shared_ptr<ControllerChannel> channel) {
  {
    std::lock_guard lock(mu_);
    prune_parked_locked();
    parked_.push_back(channel);
    if (metrics_.parked) metrics_.parked->inc();
  }
  cv_.notify_one();
}

void ControllerHub::ringing(const sessions::HeldCall& call) {
  auto channel =
      open({.call_id = call.call_id, .from = call.from, .to = call.to, .direction = "inbound"});
  channel->set_ringing(true);
  channel->push_event({.type = "ringing"});
  park(std::move(channel));
}

std::shared_ptr<ControllerChannel> ControllerHub::take_parked(
    std::chrono::steady_clock::time_point deadline, const std::function<bool()>& cancelled) {
  std::unique_lock lock(mu_);
  while (!stopping_ && !(cancelled && cancelled())) {
    while (!parked_.empty()) {
      auto channel = parked_.front().lock();
      parked_.pop_front();
      if (metrics_.parked) metrics_.parked->dec();
      // A parked call may have ended (the caller hung up) or been taken by id meanwhile.
      if (channel && channel->attach(nullptr)) return channel;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    cv_.wait_until(lock, std::min(deadline, now + std::chrono::milliseconds(200)));
  }
  return nullptr;
}

void ControllerHub::remove(const std::string& call_id) {
  std::lock_guard lock(mu_);
  channels_.erase(call_id);
  prune_parked_locked();
}

void ControllerHub::on_session_event(const sessions::SessionEvent& ev) {
  auto channel = find(ev.call_id);
  if (!channel) return;
  if (ev.type == "call.ringing") {
    channel->push_event({.type = "ringing"});
  } else if (ev.type == "turn.completed") {
    // An agent the controller started: what the caller said, and what it answered.
    const auto turn = nlohmann::json::parse(ev.json, nullptr, false);
    if (!turn.is_object()) return;
    const std::string user = turn.value("user", "");
    const std::string agent = turn.value("agent", "");
    if (!user.empty())
      channel->push_event({.type = "transcript", .text = user, .data = {{"role", "caller"}}});
    if (!agent.empty())
      channel->push_event({.type = "transcript", .text = agent, .data = {{"role", "agent"}}});
  } else if (ev.type == "call.ended") {
    // A call that ended before its driver ran (a Dial that was never answered): its
    // outcome is the stream's last word.
    const auto data = nlohmann::json::parse(ev.json, nullptr, false);
    std::string reason = "ended";
    if (data.is_object() && data.contains("end_reason") && data["end_reason"].is_string()) {
      reason = data["end_reason"].get<std::string>();
    }
    channel->set_ringing(false);
    channel->end(reason);
    remove(ev.call_id);
  }
}

void ControllerHub::stop() {
  std::unordered_map<std::string, std::shared_ptr<ControllerChannel>> all;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    all.swap(channels_);
  }
  cv_.notify_all();
  for (auto& [id, c] : all) c->end("shutdown");
}

}  // namespace atende::control
