#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <future>
#include <random>

#include "audio/resampler.h"
#include "speech/espeak_synthesizer.h"
#include "speech/sphinx_recognizer.h"

using atende::speech::EspeakSynthesizer;
using atende::speech::Recognition;
using atende::speech::RecognitionRequest;
using atende::speech::SphinxOptions;
using atende::speech::SphinxRecognizer;

// pocketsphinx 0.8 leaks a few hundred bytes per compiled JSGF grammar inside
// libsphinxbase (no frame of ours in the trace); the decoder caches grammars, so it is
// bounded. Suppressed here so the ASan build judges our code.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libsphinxbase.so\nleak:libpocketsphinx.so\n";
}

namespace {

// Caller audio as a phone delivers it: espeak-ng speech at 8 kHz with a little silence
// around it (a VAD-cut turn keeps some).
std::shared_ptr<const std::vector<int16_t>> say(const std::string& text, int rate = 8000,
                                                double trailing_seconds = 0.2) {
  static EspeakSynthesizer tts;
  auto clip = tts.synthesize({text, {"en-us", 165}, rate});
  EXPECT_TRUE(clip) << text;
  auto pcm = std::make_shared<std::vector<int16_t>>(static_cast<size_t>(rate / 5), 0);
  if (clip) pcm->insert(pcm->end(), clip->pcm.begin(), clip->pcm.end());
  pcm->insert(pcm->end(), static_cast<size_t>(rate * trailing_seconds), 0);
  return pcm;
}

std::shared_ptr<const std::vector<int16_t>> white_noise(double seconds, int amplitude) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> d(-amplitude, amplitude);
  auto pcm = std::make_shared<std::vector<int16_t>>(static_cast<size_t>(seconds * 8000));
  for (auto& s : *pcm) s = static_cast<int16_t>(d(rng));
  return pcm;
}

Recognition recognize(SphinxRecognizer& stt, RecognitionRequest req) {
  std::promise<Recognition> p;
  auto f = p.get_future();
  stt.recognize(std::move(req), [&p](Recognition r) { p.set_value(std::move(r)); });
  EXPECT_EQ(f.wait_for(std::chrono::seconds(120)), std::future_status::ready);
  return f.get();
}

SphinxRecognizer& shared() {
  static SphinxRecognizer stt;
  return stt;
}

}  // namespace

Recognition hear(const std::string& said, std::vector<std::string> expected) {
  return recognize(shared(), {say(said), 8000, std::move(expected), "en-us", said});
}

TEST(SphinxRecognizer, MenuWordsAt8kHz) {
  const std::vector<std::string> menu{"Sales", "Support", "Operator"};
  for (size_t i = 0; i < menu.size(); ++i) {
    auto r = hear(menu[i], menu);
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_FALSE(r.rejected) << menu[i] << " heard as '" << r.text << "'";
    EXPECT_EQ(r.matched, menu[i]);
    EXPECT_EQ(r.matched_index, static_cast<int>(i));
    EXPECT_EQ(r.engine, "sphinx");
    EXPECT_GT(r.audio_seconds, 0.4);
  }
}

TEST(SphinxRecognizer, YesAndNo) {
  EXPECT_EQ(hear("yes", {"yes", "no"}).matched, "yes");
  EXPECT_EQ(hear("no", {"yes", "no"}).matched, "no");
}

TEST(SphinxRecognizer, ApartmentNumbersInSeveralReadings) {
  const std::vector<std::string> apts{"101", "202", "303", "1204"};
  EXPECT_EQ(hear("one oh one", apts).matched, "101");
  EXPECT_EQ(hear("two zero two", apts).matched, "202");
  EXPECT_EQ(hear("three hundred three", apts).matched, "303");
  EXPECT_EQ(hear("one two oh four", apts).matched, "1204");
}

TEST(SphinxRecognizer, NamesFromAList) {
  const std::vector<std::string> names{"John Smith", "Mary Johnson", "Robert Brown", "Linda Davis"};
  EXPECT_EQ(hear("Mary Johnson", names).matched, "Mary Johnson");
  // Measured: "Robert Brown" and "John Smith" (espeak-ng) decode to nothing (rejected),
  // a known weakness of two-word names to work on (docs/stt.md).
}

TEST(SphinxRecognizer, NoiseAndSilenceAreRejected) {
  const std::vector<std::string> menu{"sales", "support", "operator"};
  auto noise = recognize(shared(), {white_noise(1.5, 3000), 8000, menu, "en-us", "noise"});
  EXPECT_TRUE(noise.ok);
  EXPECT_TRUE(noise.rejected) << noise.text;
  EXPECT_EQ(noise.matched_index, -1);
  auto silence = recognize(
      shared(), {std::make_shared<std::vector<int16_t>>(8000, 0), 8000, menu, "en-us", "silence"});
  EXPECT_TRUE(silence.rejected) << silence.text;
}

// Measured before rejection: each of these came back as the phrase shown.
// Not here: "what is the weather like today" against yes/no. It is rejected or taken for
// "no" depending on espeak-ng's internal state (its rendering varies with what the process
// synthesised before), so it cannot be asserted either way; docs/stt.md lists the known
// false accepts. ctest runs each test in its own process, so what is here is deterministic.
TEST(SphinxRecognizer, UnrelatedSpeechIsRejected) {
  auto cost = hear("how much does it cost", {"101", "202", "303", "1204"});  // was "202"
  EXPECT_TRUE(cost.ok);
  EXPECT_TRUE(cost.rejected) << cost.text;
  EXPECT_EQ(cost.matched_index, -1);
  EXPECT_EQ(cost.matched, "");
  EXPECT_TRUE(hear("the red car is parked outside", {"yes", "no"}).rejected);  // was "no"
}

// Each of these gets through the segmentation check and is caught by the phone loop:
// speech forced onto a phrase scores far below it (tools/sttcheck-cases/menu.txt, with the
// turn detector's ~0.8 s of trailing silence).
TEST(SphinxRecognizer, PhoneLoopRejectsWhatSegmentationLetThrough) {
  const std::vector<std::string> menu{"sales", "support", "help", "echo test", "echo",  "operator",
                                      "agent", "zero",    "oh",   "one",       "two",   "three",
                                      "four",  "five",    "six",  "seven",     "eight", "nine"};
  const char* unrelated[] = {"good morning", "I want support"};
  auto ask = [&](SphinxRecognizer& stt, const std::string& said) {
    return recognize(stt, {say(said, 8000, 0.8), 8000, menu, "en-us", said});
  };
  {
    SphinxOptions o;
    o.rejection.max_phone_loop_gap = 0;  // segmentation only
    o.rejection.min_answer_margin = 0;
    // With pocketsphinx's own beams, as this was measured (the wider default beams decode
    // some of this speech differently).
    o.beam = "1e-48";
    o.wbeam = "7e-29";
    SphinxRecognizer without(o);
    for (const char* said : unrelated) {
      auto r = ask(without, said);
      EXPECT_FALSE(r.rejected) << said << " was rejected without the phone loop: " << r.text;
    }
  }
  for (const char* said : unrelated) {
    auto r = ask(shared(), said);
    EXPECT_TRUE(r.ok) << said;
    EXPECT_TRUE(r.rejected) << said << " -> " << r.text;
    EXPECT_EQ(r.matched, "") << said;
  }
  // In-grammar answers from the same menu still come through.
  EXPECT_EQ(ask(shared(), "support").matched, "support");
  EXPECT_EQ(ask(shared(), "operator").matched, "operator");
  EXPECT_EQ(ask(shared(), "three").matched, "three");
}

TEST(SphinxRecognizer, LongTrailingSilenceStillAccepts) {
  // The turn detector ends a turn after ~700 ms of silence, which stays in the audio.
  auto r = recognize(
      shared(),
      {say("billing", 8000, 0.8), 8000, {"sales", "support", "operator", "billing"}, "en-us", ""});
  EXPECT_EQ(r.matched, "billing") << r.text;
  EXPECT_GT(r.confidence, 0.33f);
}

TEST(SphinxRecognizer, SixteenKilohertzInputNeedsNoResampling) {
  auto r = recognize(shared(), {say("support", 16000), 16000, {"sales", "support"}, "en", ""});
  EXPECT_EQ(r.matched, "support");
}

TEST(SphinxRecognizer, ClearErrorsForUnusableRequests) {
  auto free_speech = hear("hello there", {});
  EXPECT_FALSE(free_speech.ok);
  EXPECT_NE(free_speech.error.find("free speech"), std::string::npos);
  auto unknown = hear("hello", {"Xqzzyv", "Blorfington"});
  EXPECT_FALSE(unknown.ok);
  EXPECT_NE(unknown.error.find("dictionary"), std::string::npos);
  auto no_audio = recognize(shared(), {nullptr, 8000, {"yes"}, "en", ""});
  EXPECT_FALSE(no_audio.ok);
}

TEST(SphinxRecognizer, GrammarsAreCachedByPhraseList) {
  auto a = shared().grammar_for({"sales", "support"});
  auto b = shared().grammar_for({"sales", "support"});
  auto c = shared().grammar_for({"support", "sales"});
  EXPECT_EQ(a.get(), b.get());
  EXPECT_NE(a.get(), c.get());
}

TEST(SphinxRecognizer, QueueFullAnswersAtOnceAndDestructionAnswersTheRest) {
  SphinxOptions o;
  o.max_queued = 1;
  std::atomic<int> answered{0}, busy{0};
  auto audio = say("sales");
  {
    SphinxRecognizer stt(o);
    for (int i = 0; i < 20; ++i)
      stt.recognize({audio, 8000, {"sales"}, "en", ""}, [&](Recognition r) {
        ++answered;
        if (!r.ok && r.error.find("busy") != std::string::npos) ++busy;
      });
  }
  EXPECT_EQ(answered.load(), 20);
  EXPECT_GE(busy.load(), 1);
}

TEST(SphinxRecognizer, RegistryBuildsItByNameAndChecksParameters) {
  auto reg = atende::speech::RecognizerRegistry::with_builtins();
  EXPECT_TRUE(reg.has("sphinx"));
  EXPECT_TRUE(reg.has("http"));
  EXPECT_THROW(reg.create("nope"), std::invalid_argument);
  EXPECT_THROW(reg.create("sphinx", {{"workers", "many"}}), std::invalid_argument);
  EXPECT_THROW(reg.create("sphinx", {{"colour", "blue"}}), std::invalid_argument);
  EXPECT_THROW(reg.create("sphinx", {{"reject", "maybe"}}), std::invalid_argument);
  EXPECT_EQ(
      atende::speech::sphinx_options_from({{"reject_min_coverage", "0.5"}}).rejection.min_coverage,
      0.5);
  EXPECT_EQ(atende::speech::sphinx_options_from({{"reject_phone_loop_gap", "40"}})
                .rejection.max_phone_loop_gap,
            40);
  EXPECT_EQ(atende::speech::SphinxOptions{}.rejection.max_phone_loop_gap, 55);
  EXPECT_THROW(reg.create("sphinx", {{"reject_phone_loop_gap", "-1"}}), std::invalid_argument);
  EXPECT_THROW(reg.create("sphinx", {{"reject_phone_loop_gap", "lots"}}), std::invalid_argument);
  EXPECT_EQ(atende::speech::SphinxOptions{}.rejection.min_answer_margin, 6);
  EXPECT_EQ(atende::speech::sphinx_options_from({{"reject_answer_margin", "0"}})
                .rejection.min_answer_margin,
            0);
  EXPECT_THROW(reg.create("sphinx", {{"reject_answer_margin", "-2"}}), std::invalid_argument);
  EXPECT_EQ(atende::speech::sphinx_options_from({{"beam", "1e-48"}}).beam, "1e-48");
  EXPECT_THROW(reg.create("sphinx", {{"beam", "2"}}), std::invalid_argument);
  EXPECT_THROW(reg.create("sphinx", {{"wbeam", "wide"}}), std::invalid_argument);
  EXPECT_EQ(atende::speech::sphinx_options_from({{"warp", "0.9"}}).warp, "0.9");
  EXPECT_THROW(reg.create("sphinx", {{"warp", "2"}}), std::invalid_argument);
  EXPECT_EQ(atende::speech::sphinx_options_from({{"fold", "0.5"}}).front_end.fold, 0.5);
  EXPECT_THROW(reg.create("sphinx", {{"fold", "-1"}}), std::invalid_argument);
  EXPECT_THROW(reg.create("sphinx", {{"model_dir", "/nonexistent"}}), std::runtime_error);
  auto stt = reg.create("sphinx", {{"workers", "1"}});
  EXPECT_TRUE(stt->uses_grammar());
}

TEST(SphinxRecognizer, LogModeMeasuresEveryCheckAndRejectsOnlyNoAnswer) {
  // `reject: log`: unrelated speech forced onto a phrase comes back matched, with every
  // measure and what the thresholds would have said (for calibrating on real calls).
  SphinxRecognizer stt(atende::speech::sphinx_options_from({{"reject", "log"}}));
  auto r = recognize(
      stt, {say("what is the weather like today"), 8000, {"yes", "no"}, "en-us", "weather"});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_FALSE(r.rejected);
  EXPECT_GE(r.matched_index, 0);
  EXPECT_NE(r.detail.find("coverage"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("loop"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("margin"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("would reject"), std::string::npos) << r.detail;
}

TEST(SphinxRecognizer, SecondOpinionAndTheEightKilohertzFrontEndKeepAClearAnswer) {
  for (const char* second : {"wide_noise", "narrow_noise", "8k"}) {
    SphinxRecognizer stt(atende::speech::sphinx_options_from({{"second_opinion", second}}));
    auto r = recognize(stt, {say("support"), 8000, {"sales", "support", "operator"}, "en-us", ""});
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.matched, "support") << second << ": " << r.detail;
  }
  // The front-end experiments keep a clear answer too.
  for (const auto& [key, value] : {std::pair{"warp", "0.9"}, std::pair{"fold", "1"}}) {
    SphinxRecognizer stt(atende::speech::sphinx_options_from({{key, value}}));
    auto r = recognize(stt, {say("support"), 8000, {"sales", "support", "operator"}, "en-us", ""});
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.matched, "support") << key << ": " << r.detail;
  }
  // The caller's 8 kHz straight into the model (no upsampling) decodes too (how well:
  // docs/stt.md "Second opinion").
  SphinxRecognizer narrow(atende::speech::sphinx_options_from({{"decode_rate", "8000"}}));
  auto r = recognize(narrow, {say("yes"), 8000, {"yes", "no"}, "en-us", ""});
  EXPECT_TRUE(r.ok) << r.error;
}
