// ask / confirm / lookup / route / record steps: the gate attendant flow driven with real
// speech audio (espeak-ng through the real VAD and turn detector) and a scripted
// recogniser standing in for pocketsphinx.
#include <gtest/gtest.h>

#include <algorithm>

#include "flow/scripted_flow.h"
#include "test_flow_fakes.h"
#include "test_flow_speech.h"

namespace atende::flow::testing {
namespace {

// The caller says `text` (real audio), then stays silent long enough to end the turn.
void say(Harness& h, const std::string& text) {
  say_then_silence(h, text, Millis(1500));
  // Prompts with {slots} are synthesised on demand: let the "worker" deliver them.
  h.phrases.complete_all();
  h.host.run_posted();
}

std::string event_detail(const Harness& h, std::string_view kind) {
  for (auto& [k, v] : h.host.events)
    if (k == kind) return v;
  return "";
}

// portaria's first step records the visitor's name (nothing is recognised).
void give_name(Harness& h) {
  h.play_out();
  EXPECT_EQ(h.last_label(), "Hello, this is the gate. Please say your name.");
  say(h, "Carlos Souza");
  EXPECT_TRUE(h.host.has("slot", "visitor_name=(recorded)"));
}

// Plays what is queued, prompts synthesised on demand included.
void hear(Harness& h) {
  for (int i = 0; i < 4 && h.call_up(); ++i) {
    h.phrases.complete_all();
    h.host.run_posted();
    h.play_out();
  }
}

TEST(FlowAsk, GateConversationOffline) {
  Harness h;
  // Anna Lee shares apartment 1204 with John Smith (its first row): name AND apartment.
  h.host.stt.script = {"anna lee", "twelve oh four", "i have a package", "yes"};
  ASSERT_TRUE(h.start(shipped_flows(), "portaria"));
  give_name(h);
  h.play_out();
  say(h, "Anna Lee");
  EXPECT_TRUE(h.host.has("slot", "visiting=Anna Lee"));
  h.play_out();
  say(h, "twelve oh four");
  EXPECT_TRUE(h.host.has("slot", "apartment=1204"));
  EXPECT_TRUE(h.host.has("slot", "resident_name=Anna Lee"));
  EXPECT_TRUE(h.host.has("slot", "resident_extension=2105"));
  EXPECT_FALSE(h.host.has("slot", "resident_name=John Smith"));
  h.play_out();
  say(h, "I have a package");
  EXPECT_TRUE(h.host.has("slot", "intent=entrega"));
  EXPECT_EQ(h.last_label(),
            "You are visiting Anna Lee in apartment 1 2 0 4, for a delivery. Is that right?");
  h.play_out();
  say(h, "yes");
  std::string request = event_detail(h, "gate_request");
  EXPECT_NE(request.find("\"intent\":\"entrega\""), std::string::npos) << request;
  EXPECT_NE(request.find("\"apartment\":\"1204\""), std::string::npos) << request;
  EXPECT_NE(request.find("\"resident_name\":\"Anna Lee\""), std::string::npos) << request;
  // The resident is called, twice if need be, and asked on their own phone.
  ASSERT_EQ(h.host.dials.size(), 1u);
  EXPECT_EQ(h.host.dials[0].request.to, "2105");
  EXPECT_EQ(h.host.dials[0].request.ring_timeout, Millis(10000));
  EXPECT_EQ(h.last_label(), "Please wait while I call the resident.");
  h.host.finish_dial("no_answer", 408);
  ASSERT_EQ(h.host.dials.size(), 2u);
  h.host.finish_dial("answered", 200, "leg-2");
  ASSERT_EQ(h.host.child_flows.size(), 1u);
  const auto& child = h.host.child_flows[0];
  EXPECT_EQ(child.flow, "gate_resident");
  EXPECT_EQ(child.variables.at("apartment"), "1204");
  EXPECT_EQ(child.variables.at("visiting"), "Anna Lee");
  EXPECT_EQ(child.variables.at("intent_label"), "delivery");
  EXPECT_EQ(child.variables.at("visitor_name"), "(recorded)");
  ASSERT_NE(h.host.clip("visitor_name"), nullptr);  // for the resident's flow to play
  h.play_out();
  h.run_for(Millis(5000));  // the visitor waits in silence
  EXPECT_TRUE(h.call_up());
  h.host.end_child_flow({{"decision", "authorised"}, {"decision_label", "yes"}});
  std::string decision = event_detail(h, "gate_decision");
  EXPECT_NE(decision.find("\"decision\":\"authorised\""), std::string::npos) << decision;
  hear(h);
  EXPECT_EQ(h.last_label(), "The resident authorised your entry. Please come in. Goodbye.");
  ASSERT_EQ(h.leg.hangups.size(), 1u);
  EXPECT_EQ(h.leg.hangups[0], "flow: authorised");
  // The first turn was recognised with a grammar of the residents' names.
  ASSERT_GE(h.host.stt.requests.size(), 1u);
  EXPECT_EQ(h.host.stt.requests[0].expected.size(), 5u);
  EXPECT_GT(h.host.stt.requests[0].pcm->size(), 4000u);
  // Which answer each phrase stands for goes with the phrases (the recogniser's answer
  // margin never weighs "delivery" against "package"): nothing for names (identical text
  // is the only sameness), the value for the intent's words.
  EXPECT_TRUE(h.host.stt.requests[0].answer_of.empty());
  const auto& requests = h.host.stt.requests;
  const auto intent = std::find_if(requests.begin(), requests.end(), [](const auto& r) {
    return std::find(r.expected.begin(), r.expected.end(), "delivery") != r.expected.end();
  });
  ASSERT_NE(intent, requests.end());
  ASSERT_EQ(intent->answer_of.size(), intent->expected.size());
  const auto answer = [&](const std::string& word) {
    const auto at = std::find(intent->expected.begin(), intent->expected.end(), word);
    return at == intent->expected.end() ? -1 : intent->answer_of[at - intent->expected.begin()];
  };
  EXPECT_EQ(answer("delivery"), answer("package"));
  EXPECT_NE(answer("delivery"), answer("service"));
  EXPECT_NE(answer("visit"), answer("service"));
  // The conversation's lines (ASP transcripts, recording.transcript): the prompts as they
  // start, what the recogniser took, in order.
  using Line = std::pair<Speaker, std::string>;
  const auto& t = h.host.transcript;
  ASSERT_GE(t.size(), 4u);
  EXPECT_EQ(t[0], (Line{Speaker::kAgent, "Hello, this is the gate. Please say your name."}));
  const auto at = [&](const Line& l) { return std::find(t.begin(), t.end(), l) - t.begin(); };
  EXPECT_LT(at({Speaker::kCaller, "anna lee"}), at({Speaker::kCaller, "twelve oh four"}));
  EXPECT_LT(at({Speaker::kCaller, "twelve oh four"}), long(t.size()));
  EXPECT_LT(at({Speaker::kCaller, "yes"}), long(t.size()));
}

TEST(FlowAsk, GateResidentNotThereIsAskedAgain) {
  Harness h;
  h.host.stt.script = {"anna lee", "three oh two"};
  ASSERT_TRUE(h.start(shipped_flows(), "portaria"));
  give_name(h);
  h.play_out();
  say(h, "Anna Lee");
  h.play_out();
  say(h, "three oh two");
  EXPECT_TRUE(h.host.has("lookup_missing", "resident Anna Lee 302"));
  EXPECT_TRUE(h.host.events.back() == (std::pair<std::string, std::string>{"step", "not_there"}));
  hear(h);
  bool said = false;
  for (auto& c : h.leg.clips)
    said = said || c->label == "Anna Lee does not live in apartment 3 0 2.";
  EXPECT_TRUE(said);
  EXPECT_EQ(h.last_label(), "Who are you visiting?");
}

TEST(FlowAsk, GateDeniedOrNobodyAnswers) {
  for (const char* outcome : {"denied", "busy", "failed", "nothing"}) {
    SCOPED_TRACE(outcome);
    Harness h;
    h.host.stt.script = {"mary jones", "three oh two", "visit", "yes"};
    ASSERT_TRUE(h.start(shipped_flows(), "portaria"));
    give_name(h);
    for (const char* words : {"Mary Jones", "three oh two", "visit", "yes"}) {
      h.play_out();
      say(h, words);
    }
    ASSERT_EQ(h.host.dials.size(), 1u);
    EXPECT_EQ(h.host.dials[0].request.to, "2302");
    std::string o = outcome;
    if (o == "busy") {
      h.host.finish_dial("busy", 486);
      h.host.finish_dial("busy", 486);
    } else if (o == "failed") {
      h.host.finish_dial("failed", 0);
    } else {
      h.host.finish_dial("answered", 200, "leg-2");
      h.host.end_child_flow(o == "denied"
                                ? std::map<std::string, std::string>{{"decision", "denied"}}
                                : std::map<std::string, std::string>{});
    }
    hear(h);
    ASSERT_EQ(h.leg.hangups.size(), 1u);
    if (o == "denied") {
      EXPECT_EQ(h.leg.hangups[0], "flow: denied");
      EXPECT_EQ(h.last_label(), "Sorry, the resident did not authorise your entry. Goodbye.");
      EXPECT_FALSE(event_detail(h, "gate_decision").empty());
    } else {
      EXPECT_EQ(h.leg.hangups[0], "flow: not_answering");
      EXPECT_EQ(h.last_label(),
                "Sorry, the resident is not answering. Please try again later. Goodbye.");
      EXPECT_TRUE(event_detail(h, "gate_decision").empty());
    }
  }
}

// The resident's side, on its own: the visitor's slots come in as inputs.
TEST(FlowAsk, GateResidentAuthorisesByKeypadAfterARepeat) {
  Harness h;
  h.host.info.variables = {
      {"apartment", "1204"}, {"visiting", "Anna Lee"}, {"intent_label", "delivery"}};
  ASSERT_TRUE(h.start(shipped_flows(), "gate_resident"));
  hear(h);
  EXPECT_EQ(
      h.leg.clips.front()->label,
      "Hello, resident of apartment 1 2 0 4! a visitor is at the gate for Anna Lee, asking for "
      "a delivery. Do you authorise? Say yes or no, or press 1 or 2.");
  h.press('9');
  hear(h);
  EXPECT_EQ(h.last_label(),
            "a visitor is at the gate for Anna Lee, asking for a delivery. Do you authorise? Say "
            "yes or no, or press 1 or 2.");
  h.press('1');
  hear(h);
  EXPECT_NE(event_detail(h, "gate_decision").find("\"decision\":\"authorised\""),
            std::string::npos);
  ASSERT_EQ(h.leg.hangups.size(), 1u);
  EXPECT_EQ(h.leg.hangups[0], "flow: thanks");
  ASSERT_EQ(h.host.finished_slots.size(), 1u);  // what portaria gets back
  EXPECT_EQ(h.host.finished_slots[0].at("decision"), "authorised");
}

TEST(FlowAsk, GateResidentSilentHangsUpWithoutADecision) {
  Harness h;
  h.host.info.variables = {
      {"apartment", "302"}, {"visiting", "Mary Jones"}, {"intent_label", "visit"}};
  ASSERT_TRUE(h.start(shipped_flows(), "gate_resident"));
  for (int i = 0; i < 40 && h.call_up(); ++i) {
    hear(h);
    h.run_for(Millis(1000));
  }
  ASSERT_EQ(h.leg.hangups.size(), 1u);
  EXPECT_EQ(h.leg.hangups[0], "flow: goodbye");
  EXPECT_EQ(h.last_label(), "Goodbye.");
  ASSERT_EQ(h.host.finished_slots.size(), 1u);
  EXPECT_EQ(h.host.finished_slots[0].count("decision"), 0u);
}

TEST(FlowAsk, NoMatchRetriesThenDtmfApartmentAndConfirmNoReasks) {
  Harness h;
  h.host.stt.script = {"xylophone quartz", "mary jones"};
  ASSERT_TRUE(h.start(shipped_flows(), "portaria"));
  give_name(h);
  h.play_out();
  say(h, "xylophone quartz");
  EXPECT_TRUE(h.host.has("no_match", "visiting"));
  EXPECT_EQ(h.leg.clips[h.leg.clips.size() - 2]->label, "Sorry, I did not get the name.");
  h.play_out();
  say(h, "Mary Jones");
  EXPECT_TRUE(h.host.has("slot", "visiting=Mary Jones"));
  h.play_out();
  h.press("302#");  // the keypad instead of speech
  EXPECT_TRUE(h.host.has("collected", "apartment=302"));
  h.play_out();
  h.press('3');
  EXPECT_TRUE(h.host.has("slot", "intent=servico"));
  h.play_out();
  h.press('2');  // no: start again
  EXPECT_TRUE(h.host.has("confirm", "no"));
  EXPECT_EQ(h.host.events.back(), (std::pair<std::string, std::string>{"step", "visiting"}));
}

}  // namespace
}  // namespace atende::flow::testing
