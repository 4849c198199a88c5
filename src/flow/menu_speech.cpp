#include "flow/menu_speech.h"

#include <algorithm>

#include "turn/fuzzy.h"

namespace atende::flow {

namespace {

// Index by digit. Portuguese feminine forms ("uma", "duas") as callers say them for
// "opção". Written as the recogniser's grammar takes them: ASCII ("tres" for "três";
// accents are ignored when comparing anyway). English "oh" for 0 is left out of menus: it
// is the commonest hesitation and one vowel, and with carrier phrases "hello" and "I don't
// know" came back as option 0 (docs/stt.md "Carrier phrases"); numbers still take it.
constexpr std::string_view kEnglish[10][2] = {
    {"zero", ""}, {"one", ""}, {"two", ""},   {"three", ""}, {"four", ""},
    {"five", ""}, {"six", ""}, {"seven", ""}, {"eight", ""}, {"nine", ""}};
constexpr std::string_view kPortuguese[10][2] = {
    {"zero", ""},  {"um", "uma"}, {"dois", "duas"}, {"tres", ""}, {"quatro", ""},
    {"cinco", ""}, {"seis", ""},  {"sete", ""},     {"oito", ""}, {"nove", ""}};

bool portuguese(std::string_view language) {
  return language.size() >= 2 && (language.substr(0, 2) == "pt" || language.substr(0, 2) == "PT");
}

}  // namespace

std::vector<std::string_view> digit_words(char digit, std::string_view language) {
  if (digit < '0' || digit > '9') return {};
  const auto& row = portuguese(language) ? kPortuguese[digit - '0'] : kEnglish[digit - '0'];
  std::vector<std::string_view> out;
  for (std::string_view w : row)
    if (!w.empty()) out.push_back(w);
  return out;
}

std::string spoken_key(std::string_view phrase) { return turn::normalize_text(phrase); }

void add_digit_words(StepSpec& menu, std::string_view language) {
  if (menu.spoken.empty()) return;
  for (char d = '0'; d <= '9'; ++d) {
    for (std::string_view w : digit_words(d, language)) {
      std::string key = spoken_key(w);
      bool taken = std::any_of(menu.spoken.begin(), menu.spoken.end(),
                               [&](const SpokenChoice& c) { return spoken_key(c.phrase) == key; });
      if (!taken) menu.spoken.push_back({std::string(w), d, true});
    }
  }
}

std::vector<std::string> menu_expected(const StepSpec& menu) {
  std::vector<std::string> out;
  out.reserve(menu.spoken.size());
  for (const SpokenChoice& c : menu.spoken) out.push_back(c.phrase);
  return out;
}

MenuSpeechDecision decide_menu_speech(const StepSpec& menu, const speech::Recognition& r) {
  MenuSpeechDecision d;
  d.heard = r.text;
  if (!r.ok) {
    d.kind = MenuSpeechDecision::Kind::kError;
    return d;
  }
  if (r.rejected || r.text.empty() || menu.spoken.empty()) return d;  // kNoMatch
  int index = -1;
  if (r.matched_index >= 0 && static_cast<size_t>(r.matched_index) < menu.spoken.size() &&
      menu.spoken[r.matched_index].phrase == r.matched) {
    index = r.matched_index;
  } else if (auto said = turn::words_to_digits(r.text); said && said->size() == 1) {
    // No grammar answer (an engine that only takes hints) and the words are one digit:
    // exactly that digit ("two", "dois"; fuzzy matching is too loose for short words).
    auto it = std::find_if(menu.spoken.begin(), menu.spoken.end(),
                           [&](const SpokenChoice& c) { return c.digit == (*said)[0]; });
    if (it == menu.spoken.end()) return d;
    index = static_cast<int>(it - menu.spoken.begin());
  } else {
    // Otherwise the closest option word, by digit, so "support" and "suporte" of the same
    // option never count as a tie. Digit words take no part ("today" is not "two").
    std::vector<turn::FuzzyCandidate> by_digit;
    std::vector<char> digits;
    for (const SpokenChoice& c : menu.spoken) {
      if (c.digit_word) continue;
      auto at = std::find(digits.begin(), digits.end(), c.digit);
      if (at == digits.end()) {
        digits.push_back(c.digit);
        by_digit.push_back({c.phrase, {}});
      } else {
        by_digit[at - digits.begin()].aliases.push_back(c.phrase);
      }
    }
    turn::FuzzyMatch m = turn::best_match(r.text, by_digit);
    if (!m.ok()) return d;
    char digit = digits[m.index];
    index = static_cast<int>(std::find_if(menu.spoken.begin(), menu.spoken.end(),
                                          [&](const SpokenChoice& c) { return c.digit == digit; }) -
                             menu.spoken.begin());
  }
  const SpokenChoice& c = menu.spoken[index];
  d.digit = c.digit;
  d.phrase = c.phrase;
  int slot = digit_slot(c.digit);
  d.kind = slot >= 0 && menu.choices[slot] != kNoStep ? MenuSpeechDecision::Kind::kChoice
                                                      : MenuSpeechDecision::Kind::kNotOffered;
  return d;
}

}  // namespace atende::flow
