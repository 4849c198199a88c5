// CallControl events as console events: the live call as GET /api/live shows it, a call
// that ended as last seen (state "ended", end_reason), a leg of a call that goes on as an
// update, and calls the live list does not show yet built from the event's own payload.
#include <gtest/gtest.h>

#include "app/call_event_feed.h"

namespace atende::app {
namespace {

class ListOnly : public sessions::CallControl {
 public:
  std::vector<sessions::SessionSummary> live;
  std::vector<sessions::SessionSummary> list() const override { return live; }
  sessions::ControlResult<std::string> originate(sessions::OriginateRequest) override {
    return sessions::ControlError{};
  }
  sessions::ControlResult<sessions::Done> hangup(const std::string&) override {
    return sessions::ControlError{};
  }
  sessions::ControlResult<sessions::Done> transfer(const std::string&,
                                                   const std::string&) override {
    return sessions::ControlError{};
  }
  sessions::ControlResult<sessions::Done> bridge(const std::string&, const std::string&) override {
    return sessions::ControlError{};
  }
  Subscription subscribe(std::function<void(const sessions::SessionEvent&)>) override { return 1; }
  void unsubscribe(Subscription) override {}
};

sessions::SessionSummary session(const std::string& id, const std::string& state) {
  return {.id = id,
          .flow = "echo",
          .state = state,
          .started_at = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000)),
          .legs = {{.id = id,
                    .kind = "sip",
                    .direction = "inbound",
                    .from = "sip:+5511@pbx",
                    .to = "sip:echo@atende",
                    .state = state}}};
}

sessions::SessionEvent event(const std::string& type, const std::string& id,
                             const std::string& json = "{\"flow\":\"echo\"}") {
  return {.type = type, .call_id = id, .at = std::chrono::system_clock::now(), .json = json};
}

TEST(CallEventFeed, LiveCallsAsTheLiveListShowsThem) {
  ListOnly control;
  api::SseHub hub;
  CallEventFeed feed(control, hub);
  control.live = {session("c1", "answered")};
  const auto j = feed.translate(event("call.answered", "c1"), control.live);
  EXPECT_EQ(j["type"], "call.answered");
  EXPECT_EQ(j["call"]["id"], "c1");
  EXPECT_EQ(j["call"]["state"], "answered");
  EXPECT_EQ(j["call"]["legs"][0]["from"], "sip:+5511@pbx");
  EXPECT_EQ(feed.translate(event("turn.completed", "c1"), control.live)["type"], "call.updated");
}

TEST(CallEventFeed, AnEndedCallAsLastSeen) {
  ListOnly control;
  api::SseHub hub;
  CallEventFeed feed(control, hub);
  control.live = {session("c1", "answered")};
  feed.translate(event("call.answered", "c1"), control.live);
  control.live.clear();
  const auto j = feed.translate(
      event("call.ended", "c1", R"({"flow":"echo","end_reason":"caller hangup"})"), control.live);
  EXPECT_EQ(j["type"], "call.ended");
  EXPECT_EQ(j["call"]["state"], "ended");
  EXPECT_EQ(j["call"]["legs"][0]["state"], "ended");
  EXPECT_EQ(j["call"]["legs"][0]["to"], "sip:echo@atende");
  EXPECT_EQ(j["call"]["end_reason"], "caller hangup");
}

TEST(CallEventFeed, OneLegOfACallThatGoesOnIsAnUpdate) {
  ListOnly control;
  api::SseHub hub;
  CallEventFeed feed(control, hub);
  auto s = session("c1", "bridged");
  s.legs.push_back({.id = "c2",
                    .kind = "sip",
                    .direction = "outbound",
                    .from = "sip:atende@x",
                    .to = "sip:2001@pbx",
                    .state = "answered"});
  control.live = {s};
  const auto j = feed.translate(event("call.ended", "c2"), control.live);
  EXPECT_EQ(j["type"], "call.updated");
  EXPECT_EQ(j["call"]["id"], "c1");
}

TEST(CallEventFeed, NotListedYetFromThePayload) {
  ListOnly control;
  api::SseHub hub;
  CallEventFeed feed(control, hub);
  const auto j = feed.translate(
      event(
          "call.started", "c9",
          R"({"flow":"menu","direction":"inbound","from":"sip:a@b","to":"sip:menu@x","leg_kind":"sip"})"),
      {});
  EXPECT_EQ(j["type"], "call.started");
  EXPECT_EQ(j["call"]["id"], "c9");
  EXPECT_EQ(j["call"]["flow"], "menu");
  EXPECT_EQ(j["call"]["state"], "ringing");
  EXPECT_EQ(j["call"]["legs"][0]["from"], "sip:a@b");
  // A payload that is not JSON is not trusted, and not fatal.
  EXPECT_EQ(feed.translate(event("call.ended", "c8", "not json"), {})["call"]["state"], "ended");
}

TEST(CallEventFeed, SnapshotListsTheLiveCalls) {
  ListOnly control;
  api::SseHub hub;
  CallEventFeed feed(control, hub);
  control.live = {session("c1", "answered"), session("c2", "ringing")};
  const auto j = nlohmann::json::parse(feed.snapshot());
  EXPECT_EQ(j["type"], "snapshot");
  ASSERT_EQ(j["calls"].size(), 2u);
  EXPECT_EQ(j["calls"][1]["id"], "c2");
}

}  // namespace
}  // namespace atende::app
