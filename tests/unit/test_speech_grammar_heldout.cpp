// Grammar mode on voices its settings were not tuned on: answers inside carrier phrases
// come through, unrelated speech is rejected, with the recogniser's default settings and
// the grammars the shipped flows build (flows/portaria.yaml, flows/ivr.yaml).
//
// The voices are the held-out set of bench/bench_speech_grammar_accuracy.cpp (the carriers
// and thresholds were chosen on other voices, kTuningVoices there). These cases are ones
// that bench run got right with the defaults, kept as a regression guard; how often the
// recogniser is right overall is the bench's job (bench/results/grammar_accuracy.md), not
// this test's. Audio as a call delivers it: 8 kHz, G.711 u-law, 0.2 s of silence before and
// 0.8 s after. Only cases the bench got right for at least five of its six voices are
// here: a decoder's normalisation carries over from one turn to the next, so a case on
// the edge may go either way in another order ("I'm here to see John Smith" in en+f2 did).
#include <gtest/gtest.h>

#include <future>

#include "rtp/codec.h"
#include "speech/answer_carriers.h"
#include "speech/espeak_synthesizer.h"
#include "speech/sphinx_recognizer.h"

// pocketsphinx leaks a little per compiled grammar inside its own libraries (see
// test_speech_recognizer_sphinx.cpp).
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libsphinxbase.so\nleak:libpocketsphinx.so\n";
}

namespace {

using namespace atende;
using speech::AnswerKind;

struct Step {
  std::vector<std::string> phrases;
  std::vector<int> answer_of;
  AnswerKind kind;
};

const Step kVisiting{
    {"John Smith", "Mary Jones", "Peter Brown", "Anna Lee"}, {}, AnswerKind::kName};
const Step kApartment{{"1204", "302", "101", "505"}, {}, AnswerKind::kNumber};
const Step kIntent{{"visit", "visiting", "see my friend", "friend", "delivery", "package", "food",
                    "service", "repair", "maintenance", "technician"},
                   {0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2},
                   AnswerKind::kChoice};
const Step kConfirm{{"yes", "yeah", "yep", "correct", "right", "sure", "that's right", "of course",
                     "yeah sure", "no", "nope", "wrong", "incorrect", "not", "not really"},
                    {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0},
                    AnswerKind::kYesNo};
const Step kMenu{{"sales", "one", "support", "help", "two", "echo test", "echo", "three",
                  "operator", "agent", "zero", "four", "five", "six", "seven", "eight", "nine"},
                 {1, 1, 2, 2, 2, 3, 3, 3, 0, 0, 0, 4, 5, 6, 7, 8, 9},
                 AnswerKind::kChoice};

speech::SphinxRecognizer& recogniser() {
  static speech::SphinxRecognizer stt;  // the defaults a flow gets
  return stt;
}

speech::Recognition hear(const Step& step, const std::string& said, const std::string& voice,
                         int rate_wpm) {
  static speech::EspeakSynthesizer tts;
  auto clip = tts.synthesize({said, {voice, rate_wpm}, 8000});
  EXPECT_TRUE(clip) << said;
  auto pcm = std::make_shared<std::vector<int16_t>>(1600, 0);
  if (clip)
    for (int16_t s : clip->pcm) pcm->push_back(rtp::ulaw_to_linear(rtp::linear_to_ulaw(s)));
  pcm->insert(pcm->end(), 6400, 0);
  speech::RecognitionRequest req;
  req.pcm = pcm;
  req.expected = step.phrases;
  req.answer_of = step.answer_of;
  req.carriers = speech::default_carriers(step.kind, "en-us");
  req.language = "en-us";
  req.tag = said;
  std::promise<speech::Recognition> p;
  auto f = p.get_future();
  recogniser().recognize(std::move(req),
                         [&p](speech::Recognition r) { p.set_value(std::move(r)); });
  return f.get();
}

// The answer (an index into step.answer_of's values, or the phrase index) heard, or -1.
int answer_heard(const Step& step, const speech::Recognition& r) {
  if (!r.ok || r.rejected || r.matched_index < 0) return -1;
  const auto i = static_cast<size_t>(r.matched_index);
  return step.answer_of.empty() ? static_cast<int>(i) : step.answer_of[i];
}

struct Said {
  const Step* step;
  const char* text;
  const char* voice;
  int rate_wpm;
  const char* wanted;  // a phrase of the wanted answer
};

int answer_of_phrase(const Step& step, const std::string& phrase) {
  for (size_t i = 0; i < step.phrases.size(); ++i)
    if (step.phrases[i] == phrase)
      return step.answer_of.empty() ? static_cast<int>(i) : step.answer_of[i];
  return -2;
}

}  // namespace

TEST(GrammarHeldOutVoices, AnswersInsideCarrierPhrasesComeThrough) {
  const Said cases[] = {
      {&kVisiting, "I'd like to see Anna Lee please", "en-us-nyc+m5", 140, "Anna Lee"},
      {&kVisiting, "I'm visiting Peter Brown", "en-gb-scotland", 160, "Peter Brown"},
      {&kVisiting, "um, Peter Brown", "en-us+m3", 175, "Peter Brown"},
      {&kApartment, "apartment twelve oh four", "en-us+m3", 175, "1204"},
      {&kApartment, "apartment one oh one please", "en-029", 155, "101"},
      {&kIntent, "I have a package", "en-gb-x-rp+f4", 170, "delivery"},
      {&kIntent, "I'm visiting a friend", "en+f2", 150, "visit"},
      {&kConfirm, "yeah sure", "en-029", 155, "yes"},
      {&kConfirm, "nope", "en-gb-scotland", 160, "no"},
      {&kMenu, "I'd like the echo test", "en-us+m3", 175, "echo test"},
      {&kMenu, "I want to talk to an agent", "en+f2", 150, "operator"},
  };
  for (const Said& c : cases) {
    const auto r = hear(*c.step, c.text, c.voice, c.rate_wpm);
    EXPECT_EQ(answer_heard(*c.step, r), answer_of_phrase(*c.step, c.wanted))
        << c.text << " (" << c.voice << ") heard as '" << r.text << "', rejected=" << r.rejected;
  }
}

TEST(GrammarHeldOutVoices, UnrelatedSpeechIsRejected) {
  // Several of these were taken as an answer by main's settings before the answer margin
  // (bench/results/grammar_accuracy_previous.json): "I'm here to see Emily White" as a resident,
  // "hang on a second" and "I'm not sure" as yes or no, "what time is it" as an intent.
  const Said cases[] = {
      {&kVisiting, "I have a package for the building", "en-029", 155, nullptr},
      {&kVisiting, "I'm here to see Emily White", "en-gb-scotland", 160, nullptr},
      {&kIntent, "what time is it", "en-us-nyc+m5", 140, nullptr},
      {&kConfirm, "hang on a second", "en+f2", 150, nullptr},
      {&kConfirm, "I'm not sure", "en-gb-x-rp+f4", 170, nullptr},
      {&kMenu, "my order never arrived", "en-029", 155, nullptr},
  };
  for (const Said& c : cases) {
    const auto r = hear(*c.step, c.text, c.voice, c.rate_wpm);
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(answer_heard(*c.step, r), -1)
        << c.text << " (" << c.voice << ") taken as '" << r.matched << "' from '" << r.text << "'";
  }
}
