// The capture step (the caller's utterance kept as a clip, no recognition) and
// "{name:audio}" in spoken texts: real speech (espeak-ng through the real VAD and turn
// detector) fed to the flow, clips checked on the fake leg in the order it got them.
#include <gtest/gtest.h>

#include "flow/flow_loader.h"
#include "flow/scripted_flow.h"
#include "flow/template_text.h"
#include "test_flow_fakes.h"
#include "test_flow_speech.h"

namespace atende::flow::testing {
namespace {

std::string capture_flow(const std::string& max_length = "4s") {
  return R"(
name: cap
start: name
steps:
  name:
    type: capture
    prompt: Say your name.
    into: who
    max_length: )" +
         max_length + R"(
    timeout: 3s
    retries: 1
    no_input: Sorry, I did not hear you.
    next: thanks
    on_failure: bye
  thanks:
    type: say
    text: Thank you {who:audio}. One moment.
    next: done
  done: {type: hangup, text: Goodbye.}
  bye: {type: hangup, text: Nobody there.}
)";
}

// Plays what is queued, texts synthesised on demand included.
void hear(Harness& h) {
  for (int i = 0; i < 6 && h.call_up(); ++i) {
    h.phrases.complete_all();
    h.host.run_posted();
    h.play_out();
  }
}

// Samples of `pcm` louder than line noise, first to last (what the caller really said).
size_t voiced_span(const std::vector<int16_t>& pcm) {
  size_t first = pcm.size(), last = 0;
  for (size_t i = 0; i < pcm.size(); ++i) {
    if (std::abs(pcm[i]) > 300) {
      first = std::min(first, i);
      last = i;
    }
  }
  return first < last ? last - first : 0;
}

TEST(FlowCapture, KeepsTheUtteranceTrimmedAndPlaysItInTheSentence) {
  Harness h;
  ASSERT_TRUE(h.start_text(capture_flow())) << h.errors;
  h.play_out();
  EXPECT_EQ(h.last_label(), "Say your name.");
  const std::vector<int16_t> said = speech_pcm("Carlos Souza");
  say_then_silence(h, "Carlos Souza", Millis(1500));
  ClipPtr clip = h.host.clip("who");
  ASSERT_NE(clip, nullptr) << "no clip kept";
  EXPECT_TRUE(h.host.has("slot", "who=(recorded)"));
  EXPECT_EQ(h.host.count("captured"), 1);
  EXPECT_EQ(clip->sample_rate, 8000);
  // The speech, not the silence around it: within 150 ms of what was voiced.
  const double voiced = double(voiced_span(said)) / 8000;
  EXPECT_GT(clip->seconds(), voiced - 0.05) << voiced;
  EXPECT_LT(clip->seconds(), voiced + 0.15) << voiced;
  EXPECT_EQ(h.host.stt.requests.size(), 0u);  // nothing was recognised
  // "Thank you {who:audio}. One moment." -> text, the recording, text.
  size_t before = h.leg.clips.size();
  hear(h);
  ASSERT_GE(h.leg.clips.size(), before + 3);
  EXPECT_EQ(h.leg.clips[before]->label, "Thank you");
  EXPECT_EQ(h.leg.clips[before + 1], clip);
  EXPECT_EQ(h.leg.clips[before + 2]->label, "One moment.");
  EXPECT_EQ(h.leg.clips[before + 3]->label, "Goodbye.");
}

TEST(FlowCapture, CutsALongUtteranceAtMaxLength) {
  Harness h;
  ASSERT_TRUE(h.start_text(capture_flow("1s"))) << h.errors;
  h.play_out();
  say_then_silence(h, "My name is Carlos Alberto de Souza Junior, from apartment twelve",
                   Millis(1500));
  ClipPtr clip = h.host.clip("who");
  ASSERT_NE(clip, nullptr);
  EXPECT_LE(clip->seconds(), 1.0);
  EXPECT_GT(clip->seconds(), 0.8);
}

TEST(FlowCapture, NoSpeechRetriesThenFails) {
  Harness h;
  ASSERT_TRUE(h.start_text(capture_flow())) << h.errors;
  h.play_out();
  h.run_for(Millis(3200));
  EXPECT_EQ(h.host.count("no_input"), 1);
  hear(h);
  h.run_for(Millis(3200));
  EXPECT_EQ(h.host.count("no_input"), 2);
  EXPECT_TRUE(h.host.has("failure", "name"));
  hear(h);
  EXPECT_EQ(h.last_label(), "Nobody there.");
  EXPECT_EQ(h.host.clip("who"), nullptr);
}

TEST(FlowCapture, MissingRecordingReadsAsAVisitor) {
  Harness h;
  ASSERT_TRUE(h.start_text(R"(
name: told
inputs: [who]
start: hello
steps:
  hello: {type: hangup, text: "{who:audio} is at the gate."}
)")) << h.errors;
  hear(h);
  EXPECT_EQ(h.leg.clips.front()->label, "a visitor is at the gate.");
}

// The resident's flow (run by portaria's dial on the resident's leg) finds the visitor's
// recording through its host: a session keeps clips session-wide.
TEST(FlowCapture, ChildFlowPlaysTheParentsRecording) {
  Harness h;
  auto name = std::make_shared<Clip>();
  name->sample_rate = 16000;  // the visitor's leg; the resident's leg resamples
  name->label = "(recorded visitor_name)";
  name->pcm.assign(16000, 1000);
  h.host.keep_clip("visitor_name", name);
  h.host.info.variables = {{"apartment", "302"},
                           {"visiting", "Mary Jones"},
                           {"intent_label", "delivery"},
                           {"visitor_name", "(recorded)"}};
  ASSERT_TRUE(h.start(shipped_flows(), "gate_resident"));
  for (int i = 0; i < 2; ++i) {  // the texts before and after the recording
    h.phrases.complete_all();
    h.host.run_posted();
  }
  ASSERT_GE(h.leg.clips.size(), 3u);
  EXPECT_EQ(h.leg.clips[0]->label, "Hello, resident of apartment 3 0 2!");
  EXPECT_EQ(h.leg.clips[1], name);
  EXPECT_EQ(h.leg.clips[2]->label,
            "is at the gate for Mary Jones, asking for a delivery. Do you authorise? Say yes or "
            "no, or press 1 or 2.");
}

TEST(FlowCapture, HostKeepsAtMostEightClipsOfTenSeconds) {
  FakeLeg leg;
  FakePhrases phrases;
  FakeHost host(leg, phrases);
  auto clip = [](size_t samples) {
    auto c = std::make_shared<Clip>();
    c->sample_rate = 8000;
    c->pcm.assign(samples, 1);
    return c;
  };
  host.keep_clip("long", clip(8000 * 12));
  ASSERT_NE(host.clip("long"), nullptr);
  EXPECT_EQ(host.clip("long")->pcm.size(), 8000u * 10);
  for (int i = 1; i < 8; ++i) host.keep_clip("c" + std::to_string(i), clip(80));
  host.keep_clip("ninth", clip(80));
  EXPECT_EQ(host.clip("ninth"), nullptr);
  host.keep_clip("c1", clip(160));  // a name already kept is replaced
  EXPECT_EQ(host.clip("c1")->pcm.size(), 160u);
}

TEST(FlowCapture, SplitsTextsAtAudioPlaceholders) {
  auto parts = split_clip_placeholders("Hi {a:audio}, for {b} {c:audio}");
  ASSERT_EQ(parts.size(), 5u);
  EXPECT_EQ(parts[0].text, "Hi ");
  EXPECT_TRUE(parts[1].clip);
  EXPECT_EQ(parts[1].text, "a");
  EXPECT_EQ(parts[2].text, ", for {b} ");
  EXPECT_EQ(parts[3].text, "c");
  EXPECT_EQ(parts[4].text, "");
}

TEST(FlowCapture, LoaderChecksRecordingsAndMaxLength) {
  auto errors = [](const std::string& yaml) { return load_flow_text(yaml, "t.yaml").error_text(); };
  std::string unknown = errors(R"(
name: t
start: hello
steps:
  hello: {type: say, text: "Hi {nobody:audio}.", next: bye}
  bye: {type: hangup, text: Bye.}
)");
  EXPECT_NE(unknown.find("no capture step records 'nobody'"), std::string::npos) << unknown;
  // A slot an ask step stores is text, not a recording.
  std::string not_clip = errors(R"(
name: t
start: who
steps:
  who:
    type: ask
    prompt: Your number?
    match: digits
    next: bye
  bye: {type: hangup, text: "Bye {who:audio}."}
)");
  EXPECT_NE(not_clip.find("no capture step records 'who'"), std::string::npos) << not_clip;
  std::string too_long = errors(capture_flow("11s"));
  EXPECT_NE(too_long.find("max_length: at most 10s"), std::string::npos) << too_long;
  std::string bad = errors(capture_flow("soon"));
  EXPECT_NE(bad.find("bad duration 'soon'"), std::string::npos) << bad;
  std::string unspoken = errors(R"(
name: t
start: name
steps:
  name:
    type: capture
    prompt: Your name, please.
    next: call
  call: {type: dial, to: "{name:audio}", next: bye, on_failure: bye}
  bye: {type: hangup, text: Bye.}
)");
  EXPECT_NE(unspoken.find("only in a text or prompt that is spoken"), std::string::npos)
      << unspoken;
  EXPECT_EQ(errors(capture_flow()), "");
}

}  // namespace
}  // namespace atende::flow::testing
