#include "speech/answer_carriers.h"

namespace atende::speech {
namespace {

// Hesitations that may start any answer.
constexpr const char* kHesitations[] = {"uh", "um"};

// Each list is short on purpose: every carrier is one more path the decoder can take, so
// a carrier that sounds like an answer ("see" next to "c") would cost right answers. The
// lists were checked with tools/sttcheck (docs/stt.md "Carrier phrases").
// No articles ("a visit", "the operator"): one short syllable before a short option word
// explains too much, like "uh": through an ASP bridge "sales" came back as "a help" with
// "a", as "the one" with "the" (tests/e2e/test_asp_bridge.py).
constexpr const char* kChoiceBefore[] = {
    "i need",         "i need a", "i want",   "i'd like",          "i would like",     "it's a",
    "i'm here for a", "i have a", "it's for", "i need to talk to", "i want to talk to"};
constexpr const char* kChoiceAfter[] = {"please", "thanks", "thank you"};

// "it's": without it "it's Robert Wilson" was heard right and then rejected for the
// unexplained pause before the name (tools/sttcheck, every tuning voice).
constexpr const char* kNameBefore[] = {
    "i'm here to see", "i am here to see", "here to see",     "i'm visiting", "i am visiting",
    "i want to see",   "i'd like to see",  "i'm looking for", "to see",       "it's"};
constexpr const char* kNameAfter[] = {"please", "thanks", "thank you"};

constexpr const char* kNumberBefore[] = {
    "apartment", "apartment number", "number", "it's apartment", "flat", "unit"};
constexpr const char* kNumberAfter[] = {"please", "thanks"};

constexpr const char* kYesNoBefore[] = {"uh", "um"};
constexpr const char* kYesNoAfter[] = {"please", "thanks", "thank you"};

template <size_t N>
void add(std::vector<std::string>& out, const char* const (&words)[N]) {
  out.insert(out.end(), std::begin(words), std::end(words));
}

}  // namespace

Carriers default_carriers(AnswerKind kind, std::string_view language) {
  Carriers c;
  if (language.rfind("pt", 0) == 0) return c;
  if (kind == AnswerKind::kYesNo) {
    add(c.before, kYesNoBefore);
    add(c.after, kYesNoAfter);
    return c;
  }
  // Menus and intents get no hesitations: "uh" plus a short option word explained too much
  // ("sales" over a bridge came back as "uh help", option 2).
  if (kind != AnswerKind::kChoice) add(c.before, kHesitations);
  if (kind == AnswerKind::kChoice) {
    add(c.before, kChoiceBefore);
    add(c.after, kChoiceAfter);
  } else if (kind == AnswerKind::kName) {
    add(c.before, kNameBefore);
    add(c.after, kNameAfter);
  } else {
    add(c.before, kNumberBefore);
    add(c.after, kNumberAfter);
  }
  return c;
}

}  // namespace atende::speech
