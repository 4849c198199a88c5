#include "speech/grammar.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <stdexcept>

namespace atende::speech {
namespace {

constexpr const char* kOnes[] = {"zero", "one", "two",   "three", "four",
                                 "five", "six", "seven", "eight", "nine"};
constexpr const char* kTeens[] = {"ten",     "eleven",  "twelve",    "thirteen", "fourteen",
                                  "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
constexpr const char* kTens[] = {"",      "",      "twenty",  "thirty", "forty",
                                 "fifty", "sixty", "seventy", "eighty", "ninety"};

// Readings of a digit string; the first is always digit by digit.
std::vector<std::string> number_readings(const std::string& digits) {
  std::vector<std::string> out;
  std::string by_digit, with_oh;
  for (char c : digits) {
    const char* w = kOnes[c - '0'];
    by_digit += (by_digit.empty() ? "" : " ") + std::string(w);
    with_oh += (with_oh.empty() ? "" : " ") + std::string(c == '0' ? "oh" : w);
  }
  out.push_back(by_digit);
  if (digits.size() > 1 && with_oh != by_digit) out.push_back(with_oh);
  if (digits.size() <= 4 && (digits[0] != '0' || digits.size() == 1)) {
    const int n = std::stoi(digits);
    std::string natural = number_words(n);
    out.push_back(natural);
    // British/Brazilian-English habit: "one hundred and one".
    if (n > 100 && n % 100 != 0 && n < 1000)
      out.push_back(number_words(n / 100 * 100) + " and " + number_words(n % 100));
    // Years and apartment-style pairs: 1204 "twelve oh four", 1900 "nineteen hundred".
    if (digits.size() == 4) {
      const int hi = n / 100, lo = n % 100;
      std::string pair = number_words(hi) + " ";
      if (lo == 0)
        pair += "hundred";
      else if (lo < 10)
        pair += std::string("oh ") + kOnes[lo];
      else
        pair += number_words(lo);
      out.push_back(pair);
    }
  }
  std::vector<std::string> unique;
  for (auto& r : out)
    if (std::find(unique.begin(), unique.end(), r) == unique.end()) unique.push_back(r);
  return unique;
}

constexpr size_t kMaxFormsPerPhrase = 16;

// Out-of-grammar absorbers: frequent, short, phonetically varied English words. Measured
// without them, "hello" decoded as "no" and a sentence about pizza as "yes".
constexpr const char* kGarbageWords[] = {
    "the",  "a",     "and",   "of",    "to",    "in",    "is",      "it",     "i",     "you",
    "he",   "she",   "we",    "they",  "that",  "this",  "what",    "when",   "where", "why",
    "how",  "hello", "hi",    "okay",  "well",  "um",    "uh",      "like",   "so",    "but",
    "just", "very",  "good",  "day",   "time",  "thing", "people",  "please", "thank", "want",
    "need", "know",  "think", "would", "could", "maybe", "with",    "for",    "have",  "be",
    "do",   "go",    "see",   "get",   "make",  "pizza", "weather", "today",  "hmm",   "oh",
    "ah",   "sure",  "right", "now",   "here",  "there", "much",    "more"};

}  // namespace

PronouncingDictionary PronouncingDictionary::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read pronouncing dictionary " + path);
  PronouncingDictionary d;
  std::string line;
  while (std::getline(in, line)) {
    auto end = line.find_first_of(" \t");
    std::string word = line.substr(0, end);
    if (auto paren = word.find('('); paren != std::string::npos) word.resize(paren);
    if (!word.empty()) d.words_.insert(std::move(word));
  }
  return d;
}

PronouncingDictionary PronouncingDictionary::from_words(std::vector<std::string> words) {
  PronouncingDictionary d;
  for (auto& w : words) d.words_.insert(std::move(w));
  return d;
}

std::string number_words(int n) {
  if (n < 0 || n > 9999) return {};
  if (n < 10) return kOnes[n];
  if (n < 20) return kTeens[n - 10];
  if (n < 100) return std::string(kTens[n / 10]) + (n % 10 ? std::string(" ") + kOnes[n % 10] : "");
  if (n < 1000)
    return std::string(kOnes[n / 100]) + " hundred" +
           (n % 100 ? " " + number_words(n % 100) : std::string());
  return number_words(n / 1000) + " thousand" +
         (n % 1000 ? " " + number_words(n % 1000) : std::string());
}

std::vector<std::string> spoken_forms(std::string_view phrase) {
  // Tokens: words of letters/apostrophes, and digit runs (each with several readings).
  std::vector<std::vector<std::string>> tokens;
  std::string cur;
  bool cur_digits = false;
  auto flush = [&] {
    if (cur.empty()) return;
    if (cur_digits) {
      tokens.push_back(number_readings(cur));
    } else {
      // Apostrophes only inside a word ("don't"), not as quotes around it.
      while (!cur.empty() && cur.front() == '\'') cur.erase(cur.begin());
      while (!cur.empty() && cur.back() == '\'') cur.pop_back();
      if (!cur.empty()) tokens.push_back({cur});
    }
    cur.clear();
  };
  for (char ch : phrase) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80) return {};  // accented letters: the en-us dictionary cannot say them
    const bool letter = std::isalpha(c) || c == '\'';
    const bool digit = std::isdigit(c);
    if ((letter && cur_digits) || (digit && !cur_digits)) flush();
    if (letter) {
      cur_digits = false;
      cur += static_cast<char>(std::tolower(c));
    } else if (digit) {
      cur_digits = true;
      cur += ch;
    } else {
      flush();
    }
  }
  flush();
  if (tokens.empty()) return {};
  std::vector<std::string> forms{""};
  for (const auto& alts : tokens) {
    std::vector<std::string> next;
    for (const auto& f : forms)
      for (const auto& a : alts) {
        if (next.size() >= kMaxFormsPerPhrase) break;
        next.push_back(f.empty() ? a : f + " " + a);
      }
    forms.swap(next);
  }
  return forms;
}

int Grammar::phrase_of(std::string_view words) const {
  for (const auto& a : alternatives)
    if (a.words == words) return a.phrase;
  return -1;
}

Grammar build_grammar(const std::vector<std::string>& expected,
                      const PronouncingDictionary& dictionary, bool garbage) {
  Grammar g;
  for (const auto& p : expected) {
    g.key += p;
    g.key += '\x1f';
  }
  for (size_t i = 0; i < expected.size(); ++i) {
    const std::string& phrase = expected[i];
    if (i >= kMaxGrammarPhrases || phrase.size() > kMaxPhraseBytes) {
      g.dropped.push_back(phrase.substr(0, kMaxPhraseBytes));
      continue;
    }
    bool kept = false;
    for (const auto& form : spoken_forms(phrase)) {
      bool known = true;
      size_t start = 0;
      while (known && start < form.size()) {
        size_t end = form.find(' ', start);
        if (end == std::string::npos) end = form.size();
        known = dictionary.contains(std::string_view(form).substr(start, end - start));
        start = end + 1;
      }
      if (!known) continue;
      kept = true;
      if (g.phrase_of(form) < 0) g.alternatives.push_back({form, static_cast<int>(i)});
    }
    if (!kept) g.dropped.push_back(phrase);
  }
  if (g.alternatives.empty()) return g;
  g.jsgf = "#JSGF V1.0;\ngrammar atende;\npublic <choice> = ";
  for (size_t i = 0; i < g.alternatives.size(); ++i) {
    if (i) g.jsgf += "\n  | ";
    g.jsgf += g.alternatives[i].words;
  }
  std::string fillers;
  if (garbage) {
    std::unordered_set<std::string> used;
    for (const auto& a : g.alternatives) {
      size_t start = 0;
      while (start < a.words.size()) {
        size_t end = a.words.find(' ', start);
        if (end == std::string::npos) end = a.words.size();
        used.insert(a.words.substr(start, end - start));
        start = end + 1;
      }
    }
    for (const char* w : kGarbageWords)
      if (!used.count(w) && dictionary.contains(w))
        fillers += (fillers.empty() ? "" : " | ") + std::string(w);
  }
  if (!fillers.empty()) g.jsgf += "\n  | <garbage>";
  g.jsgf += ";\n";
  if (!fillers.empty()) g.jsgf += "<garbage> = (" + fillers + ")+;\n";
  return g;
}

}  // namespace atende::speech
