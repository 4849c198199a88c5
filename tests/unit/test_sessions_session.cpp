// A session of legs without SIP or threads: fake legs on a fake executor the test runs,
// fake services. Bridging copies frames and digits both ways; a dialled leg is parked until
// its dialler decides; the caller hanging up ends every other leg; the callee hanging up
// gives the caller back to its flow when it asked for that.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "sessions/bridge.h"
#include "sessions/session.h"
#include "store/call_store.h"
#include "test_flow_fakes.h"

namespace atende::sessions {
namespace {

using flow::testing::FakeLeg;

struct RecordingFlow : flow::Flow {
  void start(MonoTime) override { started = true; }
  void on_frame(const AudioFrame&, MonoTime) override { ++frames; }
  void on_dtmf(char d, MonoTime) override { digits += d; }
  void on_hangup(std::string_view r) override { hangup = std::string(r); }
  bool started = false;
  int frames = 0;
  std::string digits;
  std::string hangup;
};

struct Services : SessionServices {
  explicit Services(const std::string& dir) : store_({.path = dir + "/s.db"}) {}
  std::unique_ptr<flow::Flow> make_flow(const std::string& name, flow::FlowHost& host) override {
    if (name == "missing") return nullptr;
    auto f = std::make_unique<RecordingFlow>();
    flows.push_back(f.get());
    hosts.push_back(&host);
    return f;
  }
  speech::PhraseSource& phrases() override { return phrases_; }
  speech::Recognizer* recognizer() override { return nullptr; }
  store::CallStore& store() override { return store_; }
  ControlResult<std::string> dial(Session& s, const flow::DialRequest& r, Executor*) override {
    if (r.to == "bad") return ControlError{ControlErrc::kInvalid, "bad number"};
    const std::string id = "leg" + std::to_string(++dialled);
    s.add_leg(LegInfo{id, "fake", LegDirection::kOutbound, "us", r.to}, "dialling");
    return id;
  }
  void hang_up(const std::string& leg_id) override { hung_up.push_back(leg_id); }
  void refer_leg(const std::string& leg_id, const std::string& to) override {
    refers.push_back(to);
  }
  void emit(const std::string& type, const std::string&, const nlohmann::json&) override {
    events.push_back(type);
  }
  void session_finished(Session&) override { finished = true; }

  flow::testing::FakePhrases phrases_;
  store::CallStore store_;
  std::vector<RecordingFlow*> flows;
  std::vector<flow::FlowHost*> hosts;
  std::vector<std::string> hung_up, refers, events;
  int dialled = 0;
  bool finished = false;
};

// A directory of its own per test process: ctest runs each test as its own process, at once
// with others, and the store's schema differs between builds sharing a machine.
// Removed when the test is over (declared before the store, so it goes after it).
struct PrivateDir {
  PrivateDir()
      : path((std::filesystem::temp_directory_path() /
              ("atende-session-" + std::to_string(::getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                 .string()) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~PrivateDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  std::string path;
};

struct SessionTest : ::testing::Test {
  SessionTest() : services(dir.path) {
    caller = std::make_shared<FakeLeg>();
    caller->info_.id = "caller";
    session =
        std::make_shared<Session>(services, "caller", "ivr", std::map<std::string, std::string>{});
    session->add_leg(caller->info_, "ringing");
    session->bind_executor(&caller->executor_);
    session->leg_up(caller);
  }
  // What a session posts to its executor holds the session: run it, as a media worker would
  // (or drop it, as a stopping worker does), so nothing is left holding anything.
  ~SessionTest() override {
    caller->executor_.run_all();
    session.reset();
    caller.reset();
  }
  void run() { caller->executor_.run_all(); }
  // A leg the caller's flow dialled, answered on the same executor.
  std::shared_ptr<FakeLeg> answered_dial(std::string* leg_id, std::string* outcome) {
    services.hosts[0]->dial({.to = "2302"}, [=](const flow::DialResult& r) {
      *leg_id = r.leg_id;
      *outcome = r.outcome;
    });
    auto callee = std::make_shared<FakeLeg>();
    callee->info_.id = "leg1";
    callee->shared_executor = &caller->executor_;  // one session, one executor
    session->leg_up(callee);
    run();
    return callee;
  }

  PrivateDir dir;
  Services services;
  std::shared_ptr<FakeLeg> caller;
  std::shared_ptr<Session> session;
};

TEST_F(SessionTest, FirstLegStartsTheDriver) {
  ASSERT_EQ(services.flows.size(), 1u);
  EXPECT_TRUE(services.flows[0]->started);
  EXPECT_TRUE(caller->started);
  EXPECT_EQ(caller->listener, services.flows[0]);
  EXPECT_EQ(session->summary().state, "answered");
}

TEST_F(SessionTest, DialledLegIsParkedUntilBridged) {
  std::string leg_id, outcome;
  auto callee = answered_dial(&leg_id, &outcome);
  EXPECT_EQ(outcome, "answered");
  EXPECT_EQ(leg_id, "leg1");
  EXPECT_TRUE(callee->started);
  EXPECT_EQ(callee->listener, nullptr);  // parked: nobody hears it yet

  ASSERT_TRUE(services.hosts[0]->bridge("leg1", false, nullptr));
  ASSERT_NE(caller->listener, nullptr);
  ASSERT_NE(callee->listener, nullptr);
  AudioFrame f = AudioFrame::silence();
  f.pcm[0] = 1234;
  caller->listener->on_frame(f, MonoTime{});
  ASSERT_EQ(callee->frames.size(), 1u);
  EXPECT_EQ(callee->frames[0].pcm[0], 1234);
  callee->listener->on_frame(f, MonoTime{});
  EXPECT_EQ(caller->frames.size(), 1u);
  EXPECT_EQ(session->summary().state, "bridged");
  EXPECT_EQ(services.flows[0]->frames, 0);  // the flow heard nothing of the bridge
  run();  // and is destroyed (bridge without keep_flow) on the executor's next turn
}

TEST_F(SessionTest, CalleeHangingUpEndsTheCallerUnlessTheFlowKeepsIt) {
  std::string leg_id, outcome;
  auto callee = answered_dial(&leg_id, &outcome);
  std::string who;
  ASSERT_TRUE(services.hosts[0]->bridge("leg1", true, [&](std::string_view w) { who = w; }));
  callee->listener->on_hangup("remote_bye");
  EXPECT_EQ(who, "callee");
  EXPECT_EQ(caller->listener, services.flows[0]);  // back to the flow
  EXPECT_TRUE(caller->hangups.empty());
}

TEST_F(SessionTest, CallerHangingUpWhileBridgedTellsTheParkedFlow) {
  std::string leg_id, outcome;
  auto callee = answered_dial(&leg_id, &outcome);
  bool called_back = false;
  ASSERT_TRUE(
      services.hosts[0]->bridge("leg1", true, [&](std::string_view) { called_back = true; }));
  caller->listener->on_hangup("remote_bye");
  session->leg_ended("caller", "remote_bye", 0);
  EXPECT_EQ(services.flows[0]->hangup, "remote_bye");  // the parked flow heard of it
  EXPECT_FALSE(called_back);                           // and is not handed the caller back
  EXPECT_FALSE(callee->hangups.empty());               // the callee is hung up
  session->leg_ended("leg1", "local_bye", 0);
  run();
  EXPECT_TRUE(services.finished);
}

TEST_F(SessionTest, CalleeHangingUpEndsTheBridgedCaller) {
  std::string leg_id, outcome;
  auto callee = answered_dial(&leg_id, &outcome);
  ASSERT_TRUE(services.hosts[0]->bridge("leg1", false, nullptr));
  callee->listener->on_hangup("remote_bye");
  ASSERT_EQ(caller->hangups.size(), 1u);
  EXPECT_NE(caller->hangups[0].find("other side"), std::string::npos);
}

TEST_F(SessionTest, CallerHangingUpEndsEveryOtherLeg) {
  std::string leg_id, outcome;
  services.hosts[0]->dial({.to = "2302"}, [&](const flow::DialResult& r) { outcome = r.outcome; });
  session->leg_ended("caller", "remote_bye", 0);
  EXPECT_EQ(services.hung_up, std::vector<std::string>{"leg1"});  // still ringing: CANCEL
  session->leg_ended("leg1", "cancelled", 487);
  run();
  EXPECT_TRUE(services.finished);
  EXPECT_EQ(session->summary().state, "ended");
}

TEST_F(SessionTest, FailedDialsReportTheirOutcome) {
  flow::DialResult got;
  services.hosts[0]->dial({.to = "2302"}, [&](const flow::DialResult& r) { got = r; });
  session->leg_ended("leg1", "busy", 486);
  EXPECT_EQ(got.outcome, "busy");
  EXPECT_EQ(got.sip_status, 486);
  services.hosts[0]->dial({.to = "bad"}, [&](const flow::DialResult& r) { got = r; });
  run();
  EXPECT_EQ(got.outcome, "failed");
  EXPECT_EQ(got.message, "bad number");
  EXPECT_FALSE(services.finished);  // the caller is still there
}

TEST_F(SessionTest, FlowOnADialledLegHandsItsSlotsBack) {
  std::string leg_id, outcome;
  auto callee = answered_dial(&leg_id, &outcome);
  std::map<std::string, std::string> got;
  std::string ended;
  ASSERT_TRUE(services.hosts[0]->run_flow_on(
      "leg1", "gate_resident", {{"apartment", "302"}},
      [&](const std::map<std::string, std::string>& slots, std::string_view why) {
        got = slots;
        ended = why;
      }));
  ASSERT_EQ(services.hosts.size(), 2u);
  EXPECT_EQ(services.hosts[1]->call().variables.at("apartment"), "302");
  services.hosts[1]->flow_finished({{"decision", "authorised"}});
  session->leg_ended("leg1", "local_bye", 0);
  EXPECT_EQ(got.at("decision"), "authorised");
  EXPECT_EQ(ended, "local_bye");
  EXPECT_FALSE(services.hosts[0]->run_flow_on("nope", "x", {}, nullptr));
}

// A recording the caller's flow made (step capture) is the session's: the flow on the
// dialled leg plays it.
TEST_F(SessionTest, ClipsAreSharedAcrossTheSessionsLegs) {
  std::string leg_id, outcome;
  auto callee = answered_dial(&leg_id, &outcome);
  auto name = std::make_shared<Clip>();
  name->pcm.assign(8000 * 12, 7);  // 12 s: kept as 10 s
  services.hosts[0]->keep_clip("visitor_name", name);
  ASSERT_TRUE(services.hosts[0]->run_flow_on("leg1", "gate_resident", {}, nullptr));
  ASSERT_EQ(services.hosts.size(), 2u);
  ClipPtr got = services.hosts[1]->clip("visitor_name");
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->pcm.size(), 8000u * 10);
  EXPECT_EQ(services.hosts[1]->clip("other"), nullptr);
  for (int i = 0; i < 10; ++i) services.hosts[1]->keep_clip("c" + std::to_string(i), name);
  EXPECT_NE(services.hosts[0]->clip("c6"), nullptr);
  EXPECT_EQ(services.hosts[0]->clip("c7"), nullptr);  // 8 kept at most
}

TEST_F(SessionTest, ALegOfAnotherSessionJoinsAndIsBridged) {
  auto other_leg = std::make_shared<FakeLeg>();
  other_leg->info_.id = "other";
  auto other =
      std::make_shared<Session>(services, "other", "echo", std::map<std::string, std::string>{});
  other->add_leg(other_leg->info_, "ringing");
  other->bind_executor(&other_leg->executor_);
  other->leg_up(other_leg);
  EXPECT_EQ(other->give_up_leg("nope"), nullptr);
  auto moved = other->give_up_leg("other");
  ASSERT_EQ(moved, other_leg);
  auto first_other = other_leg;
  EXPECT_TRUE(services.finished);  // its only leg left: that session is over
  EXPECT_EQ(other_leg->listener, nullptr);
  EXPECT_FALSE(session->adopt_and_bridge(moved));   // not moved: legs that meet share a worker
  other_leg->shared_executor = &caller->executor_;  // what Leg::move_to does for an RTP leg
  auto again = std::make_shared<FakeLeg>();
  again->info_.id = "other2";
  again->shared_executor = &caller->executor_;
  moved = again;
  other_leg = again;
  ASSERT_TRUE(session->adopt_and_bridge(moved));
  EXPECT_EQ(session->summary().state, "bridged");
  EXPECT_EQ(session->summary().legs.size(), 2u);
  AudioFrame f = AudioFrame::silence();
  other_leg->listener->on_frame(f, MonoTime{});
  EXPECT_EQ(caller->frames.size(), 1u);
  first_other->executor_.run_all();
}

TEST(Bridge, ConvertsRatesAndPassesDigits) {
  FakeLeg a, b;
  struct Wide : FakeLeg {
    int sample_rate() const override { return 16000; }
  } wide;
  std::vector<int> ended;
  Bridge bridge(a, wide, [&](int side, std::string_view) { ended.push_back(side); });
  AudioFrame f = AudioFrame::silence(8000);
  a.listener->on_frame(f, MonoTime{});
  ASSERT_EQ(wide.frames.size(), 1u);
  EXPECT_EQ(wide.frames[0].sample_rate, 16000);
  wide.listener->on_dtmf('5', MonoTime{});
  a.listener->on_hangup("bye");
  EXPECT_EQ(ended, std::vector<int>{0});
  EXPECT_EQ(wide.listener, nullptr);
}

}  // namespace
}  // namespace atende::sessions
