// Spoken choices in a menu step: which phrases the recogniser listens for, and what a
// recognition result means for the menu. Pure functions, so the decision is unit-tested
// without audio; ScriptedFlow (scripted_flow_menu.cpp) does the listening and acting.
//
// A menu with spoken choices listens for every option's own words ("sales", "vendas")
// plus the digit words of the flow's language ("one".."nine", "zero", "oh"; "um", "dois"
// ...) for all ten digits, so "seven" reads as the invalid choice 7 instead of being forced
// onto the nearest option. The recogniser's grammar is exactly these phrases, with its
// out-of-grammar rejection: noise and unrelated speech come back rejected = no choice.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "flow/flow_spec.h"
#include "speech/recognizer.h"

namespace atende::flow {

// Longest option word/phrase, in bytes (a menu word is a word or two, not a sentence).
constexpr size_t kMaxSpokenChoiceChars = 60;
// Most `say` entries per option.
constexpr size_t kMaxSpokenChoicesPerOption = 16;

// The words that say `digit` (0-9) in `language` (a voice name: "pt-br", "pt", "en-us";
// anything not Portuguese reads as English). Empty for other digits.
std::vector<std::string_view> digit_words(char digit, std::string_view language);

// The form two phrases are compared in for duplicates: lowercase, accents and
// punctuation dropped, spaces collapsed ("Echo-Test" == "echo test").
std::string spoken_key(std::string_view phrase);

// Appends the digit words of 0-9 to a menu that already has option words (no-op for a
// keypad-only menu). Digit words equal to an option word are not added twice.
void add_digit_words(StepSpec& menu, std::string_view language);

// The recogniser's expected phrases for a menu, in SpokenChoice order.
std::vector<std::string> menu_expected(const StepSpec& menu);

struct MenuSpeechDecision {
  enum class Kind {
    kChoice,      // a phrase of an option: go to choices[digit]
    kNotOffered,  // a digit word for a digit the menu does not offer: as an invalid key
    kNoMatch,     // rejected (noise, unrelated speech), nothing heard, or no phrase fits
    kError,       // the recogniser failed
  };
  Kind kind = Kind::kNoMatch;
  char digit = '\0';
  std::string heard;   // what the recogniser wrote ("" if nothing)
  std::string phrase;  // the SpokenChoice phrase it read as ("" unless kChoice/kNotOffered)
};

// What a recognition result means for `menu`. Uses the grammar's matched_index when the
// engine gives one, else a fuzzy match of the text against the phrases (engines without a
// grammar); a rejected result is never a choice.
MenuSpeechDecision decide_menu_speech(const StepSpec& menu, const speech::Recognition& r);

}  // namespace atende::flow
