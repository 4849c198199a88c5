// The registry of calls for controllers (src/control/controller_hub.h): parked calls are
// handed out in turn, and calls that ended while parked leave the queue and the gauge.
#include <gtest/gtest.h>

#include "control/controller_hub.h"

namespace atende::control {
namespace {

std::chrono::steady_clock::time_point soon() {
  return std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
}

TEST(ControllerHub, ParkedCallsGoToControllersInTurn) {
  Gauge parked;
  ControllerHub hub({.parked = &parked});
  auto a = hub.open({.call_id = "a"});
  auto b = hub.open({.call_id = "b"});
  EXPECT_EQ(hub.open({.call_id = "a"}), a);  // one channel per call
  hub.park(a);
  hub.park(b);
  EXPECT_EQ(parked.value(), 2);
  EXPECT_EQ(hub.take_parked(soon(), nullptr), a);
  EXPECT_EQ(hub.take_parked(soon(), nullptr), b);
  EXPECT_EQ(hub.take_parked(soon(), nullptr), nullptr);  // none left: waits, then gives up
  EXPECT_EQ(parked.value(), 0);
  EXPECT_TRUE(a->attached());
}

TEST(ControllerHub, CallsThatEndWhileParkedAreForgotten) {
  Gauge parked;
  ControllerHub hub({.parked = &parked});
  for (int i = 0; i < 100; ++i) {
    auto c = hub.open({.call_id = "gone" + std::to_string(i)});
    hub.park(c);
    c->end("remote_bye");  // the caller hung up before any controller came
    hub.remove(c->facts().call_id);
  }
  EXPECT_EQ(parked.value(), 0);
  auto live = hub.open({.call_id = "live"});
  hub.park(live);
  EXPECT_EQ(parked.value(), 1);
  EXPECT_EQ(hub.take_parked(soon(), nullptr), live);
}

TEST(ControllerHub, ARingingCallIsParkedWithItsRingingEvent) {
  Gauge parked;
  ControllerHub hub({.parked = &parked});
  hub.ringing({.call_id = "r", .from = "sip:alice@x", .to = "sip:7000@y"});
  EXPECT_EQ(parked.value(), 1);
  auto taken = hub.take_parked(soon(), nullptr);
  ASSERT_NE(taken, nullptr);
  EXPECT_TRUE(taken->ringing() && taken->was_held());
  EXPECT_EQ(taken->facts().direction, "inbound");
  EXPECT_EQ(taken->sample_rate(), 0);  // not answered: no rate yet
  bool closed = false;
  Outgoing first = taken->next_out(std::chrono::milliseconds(0), &closed);
  EXPECT_EQ(first.kind, Outgoing::Kind::kEvent);
  EXPECT_EQ(first.event.type, "ringing");
  // Refused (or rung out): the session layer's call.ended ends it, ringing no more.
  sessions::SessionEvent ended;
  ended.type = "call.ended";
  ended.call_id = "r";
  ended.json = R"({"end_reason":"controller_rejected"})";
  hub.on_session_event(ended);
  EXPECT_FALSE(taken->ringing());
  Outgoing last = taken->next_out(std::chrono::milliseconds(0), &closed);
  EXPECT_EQ(last.event.type, "hangup");
  EXPECT_EQ(last.event.reason, "controller_rejected");
}

TEST(ControllerHub, EndedCallsEndTheirStreamAndStopEndsAll) {
  ControllerHub hub({});
  auto a = hub.open({.call_id = "a"});
  sessions::SessionEvent ended;
  ended.type = "call.ended";
  ended.call_id = "a";
  ended.json = R"({"end_reason":"busy"})";
  hub.on_session_event(ended);
  EXPECT_TRUE(a->ended());
  EXPECT_EQ(hub.find("a"), nullptr);
  auto b = hub.open({.call_id = "b"});
  hub.stop();
  EXPECT_TRUE(b->ended());
  EXPECT_EQ(hub.take_parked(soon(), nullptr), nullptr);
}

}  // namespace
}  // namespace atende::control
