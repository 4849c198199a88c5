// ask / confirm / lookup / route / record steps: the gate attendant flow driven with real
// speech audio (espeak-ng through the real VAD and turn detector) and a scripted
// recogniser standing in for pocketsphinx.
#include <gtest/gtest.h>

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

TEST(FlowAsk, GateConversationOffline) {
  Harness h;
  h.host.stt.script = {"john smith", "twelve oh four", "i have a package", "yes"};
  ASSERT_TRUE(h.start(shipped_flows(), "portaria"));
  h.play_out();
  say(h, "John Smith");
  EXPECT_TRUE(h.host.has("slot", "visitor=John Smith"));
  h.play_out();
  say(h, "twelve oh four");
  EXPECT_TRUE(h.host.has("slot", "apartment=1204"));
  EXPECT_TRUE(h.host.has("slot", "resident_extension=2104"));
  h.play_out();
  say(h, "I have a package");
  EXPECT_TRUE(h.host.has("slot", "intent=entrega"));
  EXPECT_EQ(h.last_label(),
            "You are John Smith for apartment 1 2 0 4, for a delivery. Is that right?");
  h.play_out();
  say(h, "yes");
  h.play_out();
  h.play_out();
  ASSERT_EQ(h.leg.hangups.size(), 1u);
  EXPECT_EQ(h.leg.hangups[0], "flow: calling");
  bool recorded = false;
  for (auto& [k, v] : h.host.events) {
    if (k == "gate_request") {
      recorded = true;
      EXPECT_NE(v.find("\"intent\":\"entrega\""), std::string::npos) << v;
      EXPECT_NE(v.find("\"apartment\":\"1204\""), std::string::npos) << v;
      EXPECT_NE(v.find("\"visitor\":\"John Smith\""), std::string::npos) << v;
    }
  }
  EXPECT_TRUE(recorded);
  // The first turn was recognised with a grammar of the residents' names.
  ASSERT_GE(h.host.stt.requests.size(), 1u);
  EXPECT_EQ(h.host.stt.requests[0].expected.size(), 5u);
  EXPECT_GT(h.host.stt.requests[0].pcm->size(), 4000u);
}

TEST(FlowAsk, NoMatchRetriesThenDtmfApartmentAndConfirmNoReasks) {
  Harness h;
  h.host.stt.script = {"xylophone quartz", "mary jones"};
  ASSERT_TRUE(h.start(shipped_flows(), "portaria"));
  h.play_out();
  say(h, "xylophone quartz");
  EXPECT_TRUE(h.host.has("no_match", "visitor"));
  EXPECT_EQ(h.leg.clips[h.leg.clips.size() - 2]->label, "Sorry, I did not get your name.");
  h.play_out();
  say(h, "Mary Jones");
  EXPECT_TRUE(h.host.has("slot", "visitor=Mary Jones"));
  h.play_out();
  h.press("302#");  // the keypad instead of speech
  EXPECT_TRUE(h.host.has("collected", "apartment=302"));
  h.play_out();
  h.press('3');
  EXPECT_TRUE(h.host.has("slot", "intent=servico"));
  h.play_out();
  h.press('2');  // no: start again
  EXPECT_TRUE(h.host.has("confirm", "no"));
  EXPECT_EQ(h.host.events.back(), (std::pair<std::string, std::string>{"step", "visitor"}));
}

}  // namespace
}  // namespace atende::flow::testing
