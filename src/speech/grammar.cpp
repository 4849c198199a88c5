#include "speech/grammar.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <optional>
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

namespace {

int exact_phrase(const std::vector<Grammar::Alternative>& alternatives, std::string_view words) {
  for (const auto& a : alternatives)
    if (a.words == words) return a.phrase;
  return -1;
}

// `words` without a leading `carrier` and the space after it; nullopt if it does not
// start so.
std::optional<std::string_view> strip_front(std::string_view words, std::string_view carrier) {
  if (words.size() <= carrier.size() || words.substr(0, carrier.size()) != carrier ||
      words[carrier.size()] != ' ')
    return std::nullopt;
  return words.substr(carrier.size() + 1);
}

std::optional<std::string_view> strip_back(std::string_view words, std::string_view carrier) {
  if (words.size() <= carrier.size() || words.substr(words.size() - carrier.size()) != carrier ||
      words[words.size() - carrier.size() - 1] != ' ')
    return std::nullopt;
  return words.substr(0, words.size() - carrier.size() - 1);
}

int word_count(std::string_view s) {
  return s.empty() ? 0 : static_cast<int>(std::count(s.begin(), s.end(), ' ')) + 1;
}

Grammar::Reading with_after(const Grammar& g, std::string_view words) {
  if (int p = exact_phrase(g.alternatives, words); p >= 0) return {p, 0, 0};
  for (const auto& c : g.after)
    if (auto rest = strip_back(words, c))
      if (int p = exact_phrase(g.alternatives, *rest); p >= 0) return {p, 0, word_count(c)};
  return {};
}

// Each carrier as the decoder writes it (its first spoken form), if every word is known.
std::vector<std::string> carrier_forms(const std::vector<std::string>& carriers,
                                       const PronouncingDictionary& dictionary,
                                       std::vector<std::string>& dropped);

}  // namespace

Grammar::Reading Grammar::read(std::string_view words) const {
  if (Reading r = with_after(*this, words); r.phrase >= 0) return r;
  for (const auto& c : before)
    if (auto rest = strip_front(words, c))
      if (Reading r = with_after(*this, *rest); r.phrase >= 0) {
        r.words_before = word_count(c);
        return r;
      }
  return {};
}

namespace {

bool pronounceable(const std::string& form, const PronouncingDictionary& dictionary) {
  size_t start = 0;
  while (start < form.size()) {
    size_t end = form.find(' ', start);
    if (end == std::string::npos) end = form.size();
    if (!dictionary.contains(std::string_view(form).substr(start, end - start))) return false;
    start = end + 1;
  }
  return true;
}

std::vector<std::string> carrier_forms(const std::vector<std::string>& carriers,
                                       const PronouncingDictionary& dictionary,
                                       std::vector<std::string>& dropped) {
  std::vector<std::string> out;
  for (size_t i = 0; i < carriers.size(); ++i) {
    const std::string& c = carriers[i];
    if (i >= kMaxCarriers || c.size() > kMaxPhraseBytes) {
      dropped.push_back(c.substr(0, kMaxPhraseBytes));
      continue;
    }
    auto forms = spoken_forms(c);
    if (forms.empty() || !pronounceable(forms.front(), dictionary)) {
      dropped.push_back(c);
      continue;
    }
    if (std::find(out.begin(), out.end(), forms.front()) == out.end()) out.push_back(forms.front());
  }
  // Longest first: "i am here to see" must be tried before "to see".
  std::stable_sort(out.begin(), out.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return out;
}

void append_rule(std::string& jsgf, const char* name, const std::vector<std::string>& forms) {
  jsgf += "<";
  jsgf += name;
  jsgf += "> = ";
  for (size_t i = 0; i < forms.size(); ++i) {
    if (i) jsgf += "\n  | ";
    jsgf += forms[i];
  }
  jsgf += ";\n";
}

}  // namespace

Grammar build_grammar(const std::vector<std::string>& expected,
                      const PronouncingDictionary& dictionary, bool garbage,
                      const Carriers& carriers) {
  Grammar g;
  for (const auto& p : expected) {
    g.key += p;
    g.key += '\x1f';
  }
  // Carriers are part of the key: the same phrases with other carriers is another grammar.
  for (const auto* side : {&carriers.before, &carriers.after}) {
    g.key += '\x1e';
    for (const auto& c : *side) {
      g.key += c;
      g.key += '\x1f';
    }
  }
  for (size_t i = 0; i < expected.size(); ++i) {
    const std::string& phrase = expected[i];
    if (i >= kMaxGrammarPhrases || phrase.size() > kMaxPhraseBytes) {
      g.dropped.push_back(phrase.substr(0, kMaxPhraseBytes));
      continue;
    }
    bool kept = false;
    for (const auto& form : spoken_forms(phrase)) {
      if (!pronounceable(form, dictionary)) continue;
      kept = true;
      if (exact_phrase(g.alternatives, form) < 0)
        g.alternatives.push_back({form, static_cast<int>(i)});
    }
    if (!kept) g.dropped.push_back(phrase);
  }
  if (g.alternatives.empty()) return g;
  g.before = carrier_forms(carriers.before, dictionary, g.dropped);
  g.after = carrier_forms(carriers.after, dictionary, g.dropped);
  g.jsgf = "#JSGF V1.0;\ngrammar atende;\n";
  if (!g.before.empty() || !g.after.empty()) {
    g.jsgf += "public <turn> = ";
    if (!g.before.empty()) g.jsgf += "[<before>] ";
    g.jsgf += "<choice>";
    if (!g.after.empty()) g.jsgf += " [<after>]";
    g.jsgf += ";\n";
    if (!g.before.empty()) append_rule(g.jsgf, "before", g.before);
    if (!g.after.empty()) append_rule(g.jsgf, "after", g.after);
    g.jsgf += "<choice> = ";
  } else {
    g.jsgf += "public <choice> = ";
  }
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
