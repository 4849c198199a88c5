// Menu steps with spoken choices: the loader's shape and checks, the decision taken on a
// recognition result, and the engine listening during the prompt and the wait (real
// espeak-ng audio through the real VAD and turn detector; a scripted recogniser).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "flow/flow_loader.h"
#include "flow/menu_speech.h"
#include "test_flow_fakes.h"
#include "test_flow_speech.h"

namespace atende::flow::testing {
namespace {

std::string menu_flow(const std::string& choices, const std::string& voice = "en-us") {
  return "name: m\nvoice: {name: " + voice +
         "}\nstart: menu\nsteps:\n"
         "  menu:\n"
         "    type: menu\n"
         "    prompt: \"Say sales or support.\"\n"
         "    choices:\n" +
         choices +
         "  a:\n    type: hangup\n"
         "  b:\n    type: hangup\n";
}

LoadResult load(const std::string& yaml) { return load_flow_text(yaml, "m.yaml"); }

std::vector<std::string> phrases_of(const StepSpec& s) {
  std::vector<std::string> out;
  for (auto& c : s.spoken) out.push_back(std::string(1, c.digit) + ":" + c.phrase);
  return out;
}

TEST(FlowMenuSpeechLoader, WordsThenEveryDigitWord) {
  LoadResult r =
      load(menu_flow("      \"1\": {next: a, say: [sales, Vendas]}\n"
                     "      \"2\": {next: b, say: support}\n"));
  ASSERT_TRUE(r.ok()) << r.error_text();
  const StepSpec& m = r.flow->steps[0];
  EXPECT_EQ(m.choices[digit_slot('1')], 1);
  EXPECT_EQ(m.choices[digit_slot('2')], 2);
  auto p = phrases_of(m);
  ASSERT_GE(p.size(), 13u);
  EXPECT_EQ(
      std::vector<std::string>(p.begin(), p.begin() + 6),
      (std::vector<std::string>{"1:sales", "1:Vendas", "2:support", "0:zero", "1:one", "2:two"}));
  EXPECT_EQ(p.back(), "9:nine");
  EXPECT_TRUE(m.spoken[3].digit_word);
  EXPECT_FALSE(m.spoken[0].digit_word);
  EXPECT_EQ(menu_expected(m).front(), "sales");
}

TEST(FlowMenuSpeechLoader, KeypadOnlyMenusStayKeypadOnlyAndMixedShapesLoad) {
  LoadResult old = load(menu_flow("      \"1\": a\n      \"2\": b\n"));
  ASSERT_TRUE(old.ok()) << old.error_text();
  EXPECT_TRUE(old.flow->steps[0].spoken.empty());
  LoadResult mixed = load(menu_flow("      \"1\": a\n      \"2\": {next: b, say: [support]}\n"));
  ASSERT_TRUE(mixed.ok()) << mixed.error_text();
  EXPECT_EQ(phrases_of(mixed.flow->steps[0])[0], "2:support");
  LoadResult map_no_words = load(menu_flow("      \"1\": {next: a}\n      \"2\": b\n"));
  ASSERT_TRUE(map_no_words.ok()) << map_no_words.error_text();
  EXPECT_TRUE(map_no_words.flow->steps[0].spoken.empty());
}

TEST(FlowMenuSpeechLoader, PortugueseDigitWords) {
  LoadResult r =
      load(menu_flow("      \"1\": {next: a, say: [vendas]}\n      \"2\": b\n", "pt-br"));
  ASSERT_TRUE(r.ok()) << r.error_text();
  auto p = phrases_of(r.flow->steps[0]);
  EXPECT_NE(std::find(p.begin(), p.end(), "2:dois"), p.end());
  EXPECT_NE(std::find(p.begin(), p.end(), "1:uma"), p.end());
  EXPECT_EQ(std::find(p.begin(), p.end(), "2:two"), p.end());
}

TEST(FlowMenuSpeechLoader, EmptyWordsAreErrorsWithPosition) {
  EXPECT_EQ(
      load(menu_flow("      \"1\": {next: a, say: [sales, \"\"]}\n      \"2\": b\n")).error_text(),
      "m.yaml:9:35: say: empty word (write what the caller says, e.g. sales)\n");
  EXPECT_EQ(
      load(menu_flow("      \"1\": {next: a, say: [\"...\"]}\n      \"2\": b\n")).error_text(),
      "m.yaml:9:28: say: empty word (write what the caller says, e.g. sales)\n");
  EXPECT_NE(load(menu_flow("      \"1\": {next: a, say: []}\n      \"2\": b\n"))
                .error_text()
                .find("m.yaml:9:27: say: expected a word or a list of 1 to 16 words"),
            std::string::npos);
  EXPECT_NE(load(menu_flow("      \"1\": {next: a, say: }\n      \"2\": b\n"))
                .error_text()
                .find("say: expected a word or a list"),
            std::string::npos);
}

TEST(FlowMenuSpeechLoader, TooLongWord) {
  std::string words(61, 'a');
  EXPECT_EQ(load(menu_flow("      \"1\": {next: a, say: [" + words + "]}\n      \"2\": b\n"))
                .error_text(),
            "m.yaml:9:28: say: too long (61 characters, limit 60)\n");
  std::string ok(60, 'a');
  EXPECT_TRUE(load(menu_flow("      \"1\": {next: a, say: [" + ok + "]}\n      \"2\": b\n")).ok());
}

TEST(FlowMenuSpeechLoader, DuplicatesAcrossAndWithinChoices) {
  std::string across = load(menu_flow("      \"1\": {next: a, say: [sales, help]}\n"
                                      "      \"2\": {next: b, say: [support, Help!]}\n"))
                           .error_text();
  EXPECT_EQ(across, "m.yaml:10:37: say: 'Help!' is already a word of choice '1'\n");
  std::string within =
      load(menu_flow("      \"1\": {next: a, say: [echo test, Echo-Test]}\n")).error_text();
  EXPECT_EQ(within, "m.yaml:9:39: say: 'Echo-Test' is already a word of this choice\n");
}

TEST(FlowMenuSpeechLoader, AnotherChoicesDigitWordIsAnError) {
  EXPECT_EQ(load(menu_flow("      \"1\": {next: a, say: [two]}\n      \"2\": b\n")).error_text(),
            "m.yaml:9:28: say: 'two' says the digit 2: it cannot choose '1'\n");
  // Its own digit word is allowed (and listened for once).
  LoadResult r = load(menu_flow("      \"1\": {next: a, say: [one, sales]}\n      \"2\": b\n"));
  ASSERT_TRUE(r.ok()) << r.error_text();
  auto p = phrases_of(r.flow->steps[0]);
  EXPECT_EQ(std::count(p.begin(), p.end(), "1:one"), 1);
}

TEST(FlowMenuSpeechLoader, ChoiceMapNeedsNextAndKnownKeys) {
  EXPECT_EQ(
      load(menu_flow("      \"1\": {say: [sales]}\n      \"2\": {next: b}\n")).error_text(),
      "m.yaml:9:12: choices: a choice written as a map needs 'next' (the step it leads to)\n");
  EXPECT_NE(load(menu_flow("      \"1\": {next: a, sya: [sales]}\n      \"2\": b\n"))
                .error_text()
                .find("m.yaml:9:22: unknown key 'sya' in a choice (expected one of: next, say)"),
            std::string::npos);
  EXPECT_NE(load(menu_flow("      \"1\": {next: nowhere, say: [sales]}\n      \"2\": b\n"))
                .error_text()
                .find("next: no step named 'nowhere'"),
            std::string::npos);
}

// --- the decision on a recognition result ---

const StepSpec& ivr_menu() {
  static FlowLibrary lib;
  static const bool loaded = (lib.load_dir(shipped_flows()), true);
  (void)loaded;
  return lib.find("ivr")->steps[lib.find("ivr")->start];
}

speech::Recognition grammar_result(const StepSpec& m, const std::string& phrase) {
  speech::Recognition r;
  r.ok = true;
  r.text = phrase;
  for (size_t i = 0; i < m.spoken.size(); ++i) {
    if (m.spoken[i].phrase == phrase) {
      r.matched = phrase;
      r.matched_index = static_cast<int>(i);
    }
  }
  return r;
}

TEST(FlowMenuSpeechDecision, GrammarMatchIsTheOptionsDigit) {
  const StepSpec& m = ivr_menu();
  auto d = decide_menu_speech(m, grammar_result(m, "support"));
  EXPECT_EQ(d.kind, MenuSpeechDecision::Kind::kChoice);
  EXPECT_EQ(d.digit, '2');
  EXPECT_EQ(d.heard, "support");
  d = decide_menu_speech(m, grammar_result(m, "echo test"));
  EXPECT_EQ(d.digit, '3');
  d = decide_menu_speech(m, grammar_result(m, "zero"));
  EXPECT_EQ(d.kind, MenuSpeechDecision::Kind::kChoice);
  EXPECT_EQ(d.digit, '0');
}

TEST(FlowMenuSpeechDecision, DigitWordNotOfferedIsLikeAWrongKey) {
  const StepSpec& m = ivr_menu();
  auto d = decide_menu_speech(m, grammar_result(m, "seven"));
  EXPECT_EQ(d.kind, MenuSpeechDecision::Kind::kNotOffered);
  EXPECT_EQ(d.digit, '7');
}

TEST(FlowMenuSpeechDecision, RejectedEmptyAndErrorsAreNoChoice) {
  const StepSpec& m = ivr_menu();
  auto r = grammar_result(m, "sales");
  r.rejected = true;  // out of grammar, even though a phrase was forced
  r.matched_index = -1;
  r.matched.clear();
  EXPECT_EQ(decide_menu_speech(m, r).kind, MenuSpeechDecision::Kind::kNoMatch);
  speech::Recognition nothing;
  nothing.ok = true;
  EXPECT_EQ(decide_menu_speech(m, nothing).kind, MenuSpeechDecision::Kind::kNoMatch);
  speech::Recognition failed;
  failed.error = "sphinx: busy";
  EXPECT_EQ(decide_menu_speech(m, failed).kind, MenuSpeechDecision::Kind::kError);
  // A matched_index that does not fit the phrase is not trusted.
  auto odd = grammar_result(m, "sales");
  odd.matched = "something else";
  odd.text = "xylophone quartz";
  EXPECT_EQ(decide_menu_speech(m, odd).kind, MenuSpeechDecision::Kind::kNoMatch);
}

TEST(FlowMenuSpeechDecision, FreeTextEnginesMatchFuzzily) {
  const StepSpec& m = ivr_menu();
  speech::Recognition r;
  r.ok = true;
  r.text = "I need support please";
  auto d = decide_menu_speech(m, r);
  EXPECT_EQ(d.kind, MenuSpeechDecision::Kind::kChoice);
  EXPECT_EQ(d.digit, '2');
  r.text = "what is the weather like today";
  EXPECT_EQ(decide_menu_speech(m, r).kind, MenuSpeechDecision::Kind::kNoMatch);
}

// --- the engine: listening during the prompt and the wait ---

// A menu whose prompt lasts 6 s with the fake phrases (10 ms per character), so speech
// can end and be recognised while it still plays. Written once to a temp dir.
std::string long_menu_dir() {
  static const std::string dir = [] {
    auto d = std::filesystem::temp_directory_path() /
             ("atende-test-menu-" + std::to_string(static_cast<long>(::getpid())));
    std::filesystem::create_directories(d);
    std::ofstream(d / "long.yaml") << "name: long\nstart: menu\nsteps:\n  menu:\n    type: menu\n"
                                      "    prompt: \""
                                   << std::string(600, 'x')
                                   << "\"\n    invalid: \"Not an option.\"\n    choices:\n"
                                      "      \"1\": {next: a, say: [sales]}\n"
                                      "      \"3\": {next: b, say: [echo test]}\n"
                                      "  a:\n    type: hangup\n  b:\n    type: hangup\n";
    return d.string();
  }();
  return dir;
}

// The caller says `text` (real audio): one frame per tick, then `silence`.
void say(Harness& h, const std::string& text, Millis silence = Millis(1000)) {
  say_then_silence(h, text, silence);
}

TEST(FlowMenuSpeechEngine, SpokenChoiceAfterThePrompt) {
  Harness h;
  h.host.stt.script = {"support"};
  ASSERT_TRUE(h.start(shipped_flows(), "ivr"));
  h.play_out();
  say(h, "support");
  EXPECT_TRUE(h.host.has("heard", "support"));
  EXPECT_TRUE(h.host.has("choice_by", "speech: support"));
  EXPECT_TRUE(h.host.has("choice", "2 support"));
  EXPECT_TRUE(h.host.has("step", "support"));
  ASSERT_EQ(h.host.stt.requests.size(), 1u);
  const auto& expected = h.host.stt.requests[0].expected;
  EXPECT_NE(std::find(expected.begin(), expected.end(), "echo test"), expected.end());
  EXPECT_NE(std::find(expected.begin(), expected.end(), "two"), expected.end());
  EXPECT_TRUE(h.host.digits.empty() || h.host.digits[0].empty());  // nothing was pressed
}

TEST(FlowMenuSpeechEngine, SpeakingOverThePromptStopsItOnlyOnceItIsAChoice) {
  Harness h;
  h.host.stt.script = {"three"};
  ASSERT_TRUE(h.start(long_menu_dir(), "long"));
  h.run_for(Millis(300));
  ASSERT_TRUE(h.leg.playing());
  auto pcm = speech_pcm("three");
  for (size_t at = 0; at + 160 <= pcm.size(); at += 160) {
    AudioFrame f = AudioFrame::silence();
    std::copy(pcm.begin() + at, pcm.begin() + at + 160, f.pcm.begin());
    h.tick(f);
  }
  EXPECT_EQ(h.leg.flushes, 0);  // heard, not yet understood: the prompt goes on
  EXPECT_TRUE(h.leg.playing());
  h.run_for(Millis(1000));
  EXPECT_EQ(h.leg.flushes, 1);
  EXPECT_TRUE(h.host.has("choice_by", "speech: three"));
  EXPECT_TRUE(h.host.has("choice", "3 b"));
}

TEST(FlowMenuSpeechEngine, UnrelatedSpeechAfterThePromptRepromptsWithoutAChoice) {
  Harness h;
  h.host.stt.script = {""};  // rejected: the recogniser found no phrase
  ASSERT_TRUE(h.start(shipped_flows(), "ivr"));
  h.play_out();
  say(h, "what is the weather like today");
  EXPECT_TRUE(h.host.has("heard", "(nothing)"));
  EXPECT_TRUE(h.host.has("no_match", "menu"));
  EXPECT_EQ(h.host.count("choice"), 0);
  ASSERT_GE(h.leg.clips.size(), 3u);
  EXPECT_EQ(h.leg.clips[1]->label, "Sorry, that is not a valid option.");
  EXPECT_EQ(h.leg.clips[2]->label, h.leg.clips[0]->label);
}

TEST(FlowMenuSpeechEngine, NoiseDuringThePromptDoesNotCutIt) {
  Harness h;
  h.host.stt.script = {""};
  ASSERT_TRUE(h.start(long_menu_dir(), "long"));
  h.run_for(Millis(200));
  say(h, "hmm what", Millis(800));
  EXPECT_TRUE(h.host.has("no_match", "menu"));
  EXPECT_EQ(h.leg.flushes, 0);
  EXPECT_EQ(h.leg.clips.size(), 1u);  // no apology, no second prompt
  EXPECT_EQ(h.host.count("invalid"), 0);
}

TEST(FlowMenuSpeechEngine, SpokenDigitTheMenuDoesNotOfferIsInvalid) {
  Harness h;
  h.host.stt.script = {"seven"};
  ASSERT_TRUE(h.start(shipped_flows(), "ivr"));
  h.play_out();
  say(h, "seven");
  EXPECT_TRUE(h.host.has("invalid", "7 (speech: seven)"));
  EXPECT_EQ(h.host.count("choice"), 0);
}

TEST(FlowMenuSpeechEngine, KeypadWinsOverASpokenAnswerInFlight) {
  Harness h;
  h.host.stt.script = {"sales"};
  ASSERT_TRUE(h.start(shipped_flows(), "ivr"));
  h.play_out();
  auto pcm = speech_pcm("sales");
  for (size_t at = 0; at + 160 <= pcm.size(); at += 160) {
    AudioFrame f = AudioFrame::silence();
    std::copy(pcm.begin() + at, pcm.begin() + at + 160, f.pcm.begin());
    h.tick(f);
  }
  // Tick until the turn went to the recogniser, then press before its answer is run.
  for (int i = 0; i < 100 && h.host.stt.requests.empty(); ++i) {
    h.now += Millis(20);
    h.flow->on_frame(AudioFrame::silence(), h.now);
    h.leg.executor().timers()->run_due(h.now);  // the end of turn is a worker timer
  }
  ASSERT_EQ(h.host.stt.requests.size(), 1u);
  h.press('2');
  h.run_for(Millis(200));
  EXPECT_TRUE(h.host.has("choice_by", "digit"));
  EXPECT_TRUE(h.host.has("choice", "2 support"));
  EXPECT_EQ(h.host.count("choice"), 1);  // the spoken "sales" was dropped
}

TEST(FlowMenuSpeechEngine, KeypadOnlyMenuNeverAsksTheRecogniser) {
  Harness h;
  ASSERT_TRUE(h.start(example_flows(), "example-menu"));
  h.play_out();
  say(h, "one");
  EXPECT_TRUE(h.host.stt.requests.empty());
  h.press('1');
  EXPECT_TRUE(h.host.has("choice_by", "digit"));
}

}  // namespace
}  // namespace atende::flow::testing
