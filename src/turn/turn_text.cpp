#include "turn/turn_text.h"

#include <algorithm>
#include <cctype>
#include <iterator>

namespace atende::turn {

namespace {

constexpr size_t kMaxWordBytes = 64;
// Only the end of a long transcript matters; bound the work on untrusted text.
constexpr size_t kMaxWords = 256;

// A word that, last, means the phrase goes on.
constexpr std::string_view kUnfinishedLast[] = {
    // English: conjunctions, prepositions, articles, possessives, fillers
    "and", "but", "so", "or", "because", "cause", "the", "a", "an", "to", "of", "for", "with", "in",
    "on", "at", "from", "about", "my", "your", "our", "their", "his", "her", "is", "are", "was",
    "if", "that", "which", "when", "then", "like", "uh", "um", "er", "erm", "uhm", "hmm", "well",
    // Portuguese
    "e", "mas", "então", "entao", "de", "do", "da", "dos", "das", "que", "porque", "pra", "para",
    "o", "os", "as", "uma", "no", "na", "em", "com", "é", "eh", "ahn", "hã", "tipo", "aí", "se",
    "meu", "minha"};

// A whole answer on its own.
constexpr std::string_view kShortAnswers[] = {
    "yes",      "no",      "yeah",    "yep",      "nope",     "ok",       "okay",     "sure",
    "right",    "correct", "exactly", "thanks",   "bye",      "goodbye",  "cancel",   "sim",
    "não",      "nao",     "claro",   "certo",    "isso",     "exato",    "correto",  "obrigado",
    "obrigada", "tchau",   "pode",    "confirmo", "confirma", "negativo", "positivo", "please",
    "thank",    "you",     "that's",  "it"};

constexpr std::string_view kNumberWords[] = {
    "zero", "oh",   "one", "two",  "three",   "four", "five",  "six",    "seven", "eight", "nine",
    "ten",  "um",   "uma", "dois", "duas",    "três", "tres",  "quatro", "cinco", "seis",  "sete",
    "oito", "nove", "dez", "meia", "hundred", "cem",  "cento", "mil",    "e"};

template <size_t N>
bool contains(const std::string_view (&set)[N], std::string_view w) {
  return std::find(std::begin(set), std::end(set), w) != std::end(set);
}

bool is_word_byte(unsigned char c) { return std::isalnum(c) || c >= 0x80; }

// Trailing punctuation that means the speaker trailed off.
bool trails_off(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  if (text.empty()) return false;
  if (text.back() == ',' || text.back() == '-') return true;
  if (text.ends_with("...")) return true;
  return text.ends_with("\xE2\x80\xA6");  // U+2026 HORIZONTAL ELLIPSIS
}

// A recogniser that punctuates ("What time do you open?", "Book it for Friday.") closes a
// sentence it heard as finished. "..." is trailing off, not an end (trails_off() says so).
bool ends_sentence(std::string_view text) {
  while (!text.empty() && (std::isspace(static_cast<unsigned char>(text.back())) ||
                           text.back() == '"' || text.back() == '\'' || text.back() == ')')) {
    text.remove_suffix(1);
  }
  if (text.empty() || text.ends_with("...")) return false;
  return text.back() == '?' || text.back() == '!' || text.back() == '.';
}

}  // namespace

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::string cur;
  auto flush = [&] {
    while (!cur.empty() && (cur.back() == '\'' || cur.back() == '-')) cur.pop_back();
    if (!cur.empty() && words.size() < kMaxWords) words.push_back(cur);
    cur.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == 0xC3 && i + 1 < text.size()) {
      // Latin-1 supplement letter (à..ÿ, À..Þ): lower-case the capitals, keep the pair.
      unsigned char d = static_cast<unsigned char>(text[i + 1]);
      if (d >= 0x80 && d <= 0x9E && d != 0x97) d += 0x20;  // not U+00D7 (multiplication)
      if (cur.size() + 2 <= kMaxWordBytes) {
        cur.push_back(char(c));
        cur.push_back(char(d));
      }
      ++i;
      continue;
    }
    if (is_word_byte(c)) {
      if (cur.size() < kMaxWordBytes) cur.push_back(char(std::tolower(c)));
    } else if ((c == '\'' || c == '-') && !cur.empty()) {
      if (cur.size() < kMaxWordBytes) cur.push_back(char(c));  // "that's", "uh-huh"
    } else {
      flush();
    }
  }
  flush();
  return words;
}

bool is_digit_string(const std::vector<std::string>& words) {
  if (words.empty()) return false;
  for (const auto& w : words) {
    const bool digits =
        std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits && !contains(kNumberWords, w)) return false;
  }
  // "e" alone is a conjunction, not a number ("cento e um" is).
  return !(words.size() == 1 && words[0] == "e");
}

TurnEnding classify_ending(std::string_view text) {
  if (trails_off(text)) return TurnEnding::kUnfinished;
  const auto words = split_words(text);
  if (words.empty()) return TurnEnding::kNeutral;
  if (is_digit_string(words)) {
    // A number is complete unless it ends on "e" ("cento e ...").
    return words.back() == "e" ? TurnEnding::kUnfinished : TurnEnding::kNumber;
  }
  // Before the unfinished check: "no" is a whole answer in English and "in the" in
  // Portuguese; alone, it is the answer.
  if (words.size() <= 3 && std::all_of(words.begin(), words.end(), [](const std::string& w) {
        return contains(kShortAnswers, w);
      })) {
    return TurnEnding::kComplete;
  }
  if (contains(kUnfinishedLast, words.back())) return TurnEnding::kUnfinished;
  // Last: a full stop after "for" is the recogniser's guess, the word is the caller's.
  if (ends_sentence(text)) return TurnEnding::kComplete;
  return TurnEnding::kNeutral;
}

}  // namespace atende::turn
