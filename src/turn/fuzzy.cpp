#include "turn/fuzzy.h"

#include <algorithm>
#include <array>
#include <cstdint>

namespace atende::turn {

namespace {

// Base letter of U+00C0..U+00FF ('\0': not a letter, becomes a space).
constexpr char kLatin1[] =
    "aaaaaaaceeeeiiii"    // C0-CF
    "dnooooo\0ouuuuyts"   // D0-DF (D7 is the multiplication sign)
    "aaaaaaaceeeeiiii"    // E0-EF
    "dnooooo\0ouuuuyty";  // F0-FF (F7 is the division sign)

// Base letter of U+0100..U+017F, in runs: {last code point of the run, letter}.
struct Run {
  uint16_t last;
  char letter;
};
constexpr Run kExtendedA[] = {{0x105, 'a'}, {0x10D, 'c'}, {0x111, 'd'}, {0x11B, 'e'}, {0x123, 'g'},
                              {0x127, 'h'}, {0x133, 'i'}, {0x135, 'j'}, {0x138, 'k'}, {0x142, 'l'},
                              {0x14B, 'n'}, {0x153, 'o'}, {0x159, 'r'}, {0x161, 's'}, {0x167, 't'},
                              {0x173, 'u'}, {0x175, 'w'}, {0x178, 'y'}, {0x17E, 'z'}, {0x17F, 's'}};

char base_letter(uint32_t cp) {
  if (cp >= 0xC0 && cp <= 0xFF) return kLatin1[cp - 0xC0];
  if (cp >= 0x100 && cp <= 0x17F) {
    for (const Run& r : kExtendedA) {
      if (cp <= r.last) return r.letter;
    }
  }
  return '\0';
}

}  // namespace

std::string normalize_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  auto put = [&out](char c) {
    if (c == ' ') {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
    } else {
      out.push_back(c);
    }
  };
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (c >= 'A' && c <= 'Z') {
        put(static_cast<char>(c - 'A' + 'a'));
      } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        put(static_cast<char>(c));
      } else if (c != '\'') {  // "don't" stays one word
        put(' ');
      }
      ++i;
      continue;
    }
    // Decode one UTF-8 sequence; malformed bytes are skipped one at a time.
    int more = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
    if (more == 0 || i + more >= text.size()) {
      ++i;  // stray continuation byte, or a sequence cut short at the end
      continue;
    }
    uint32_t cp = c & (0x3F >> more);
    bool good = true;
    for (int k = 1; k <= more; ++k) {
      unsigned char cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) {
        good = false;
        break;
      }
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (!good) {
      ++i;
      continue;
    }
    i += 1 + more;
    char b = base_letter(cp);
    put(b ? b : ' ');
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::vector<std::string> normalized_words(std::string_view text) {
  std::vector<std::string> words;
  std::string norm = normalize_text(text);
  size_t at = 0;
  while (at < norm.size()) {
    size_t end = norm.find(' ', at);
    if (end == std::string::npos) end = norm.size();
    words.push_back(norm.substr(at, end - at));
    at = end + 1;
  }
  return words;
}

namespace {

struct NumberWord {
  std::string_view word;
  int value;
};
// Single digits (en and pt-br), read one by one.
constexpr NumberWord kDigitWords[] = {
    {"zero", 0},  {"oh", 0},   {"o", 0},    {"one", 1},   {"two", 2},   {"three", 3},
    {"four", 4},  {"five", 5}, {"six", 6},  {"seven", 7}, {"eight", 8}, {"nine", 9},
    {"um", 1},    {"uma", 1},  {"dois", 2}, {"duas", 2},  {"tres", 3},  {"quatro", 4},
    {"cinco", 5}, {"seis", 6}, {"meia", 6}, {"sete", 7},  {"oito", 8},  {"nove", 9}};
constexpr NumberWord kTeens[] = {
    {"ten", 10},     {"eleven", 11},  {"twelve", 12},    {"thirteen", 13}, {"fourteen", 14},
    {"fifteen", 15}, {"sixteen", 16}, {"seventeen", 17}, {"eighteen", 18}, {"nineteen", 19}};
constexpr NumberWord kTens[] = {{"twenty", 20}, {"thirty", 30},  {"forty", 40},  {"fifty", 50},
                                {"sixty", 60},  {"seventy", 70}, {"eighty", 80}, {"ninety", 90}};

int lookup(std::span<const NumberWord> table, std::string_view w) {
  for (const NumberWord& n : table) {
    if (n.word == w) return n.value;
  }
  return -1;
}

bool all_digits(std::string_view w) {
  return !w.empty() && std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::optional<std::string> words_to_digits(std::string_view text) {
  constexpr size_t kMaxDigits = 32;
  std::vector<std::string> words = normalized_words(text);
  if (words.empty()) return std::nullopt;
  // Groups are numbers read as one ("twelve", "forty two", "1204"); the result is their
  // digits side by side. "hundred"/"thousand" multiply the group before them and absorb
  // the group after them ("twelve hundred four" -> 1204).
  std::string out;
  std::string group;      // digits of the group being read
  int pending_tens = -1;  // "forty" waiting for a unit ("forty two")
  long multiplied = -1;   // value before "hundred"/"thousand", waiting for the rest
  auto flush_tens = [&] {
    if (pending_tens >= 0) group += std::to_string(pending_tens), pending_tens = -1;
  };
  auto close_group = [&] {
    flush_tens();
    if (multiplied >= 0) {
      long rest = group.empty() ? 0 : std::stol(group.substr(0, 9));
      out += std::to_string(multiplied + rest);
      multiplied = -1;
    } else {
      out += group;
    }
    group.clear();
  };
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (out.size() + group.size() > kMaxDigits) return std::nullopt;
    int v;
    if (w == "and" || w == "e") {
      if (multiplied < 0) return std::nullopt;  // "and" only inside "one hundred and one"
      continue;
    }
    if (w == "hundred" || w == "thousand") {
      flush_tens();
      long base = group.empty() ? 1 : std::stol(group.substr(0, 9));
      long factor = w == "hundred" ? 100 : 1000;
      // "one thousand two hundred": the smaller scale adds to what came before.
      if (multiplied >= 0 && factor == 100) {
        multiplied += base * factor;
      } else {
        multiplied = (multiplied >= 0 ? multiplied + base : base) * factor;
      }
      if (multiplied > 999999999L) return std::nullopt;
      group.clear();
      continue;
    }
    if ((v = lookup(kTens, w)) >= 0) {
      if (multiplied < 0)
        close_group();
      else
        flush_tens();
      pending_tens = v;
      continue;
    }
    if ((v = lookup(kDigitWords, w)) >= 0 || (v = lookup(kTeens, w)) >= 0) {
      if (pending_tens >= 0 && v < 10) {
        group += std::to_string(pending_tens + v);
        pending_tens = -1;
        if (multiplied < 0) close_group();
        continue;
      }
      if (multiplied >= 0) {
        flush_tens();
        group += std::to_string(v);
        continue;
      }
      close_group();
      // A digit word followed by "hundred" starts a group of its own.
      group = std::to_string(v);
      if (i + 1 < words.size() && (words[i + 1] == "hundred" || words[i + 1] == "thousand")) {
        continue;
      }
      close_group();
      continue;
    }
    if (all_digits(w)) {
      close_group();
      group = w;
      close_group();
      continue;
    }
    return std::nullopt;
  }
  close_group();
  if (out.empty() || out.size() > kMaxDigits) return std::nullopt;
  return out;
}

double word_similarity(std::string_view a, std::string_view b) {
  if (a == b) return a.empty() ? 0.0 : 1.0;
  if (a.empty() || b.empty()) return 0.0;
  // Jaro: matching characters within a window, then transpositions among them.
  constexpr size_t kMax = 64;  // longer words are compared on their first 64 letters
  a = a.substr(0, kMax);
  b = b.substr(0, kMax);
  const size_t window = std::max<size_t>(std::max(a.size(), b.size()) / 2, 1) - 1;
  std::array<bool, kMax> used_a{}, used_b{};
  size_t matches = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    size_t lo = i > window ? i - window : 0;
    size_t hi = std::min(i + window + 1, b.size());
    for (size_t j = lo; j < hi; ++j) {
      if (!used_b[j] && a[i] == b[j]) {
        used_a[i] = used_b[j] = true;
        ++matches;
        break;
      }
    }
  }
  if (matches == 0) return 0.0;
  size_t transposed = 0;
  for (size_t i = 0, j = 0; i < a.size(); ++i) {
    if (!used_a[i]) continue;
    while (!used_b[j]) ++j;
    if (a[i] != b[j]) ++transposed;
    ++j;
  }
  double m = static_cast<double>(matches);
  double jaro = (m / a.size() + m / b.size() + (m - transposed / 2.0) / m) / 3.0;
  // Winkler: a common prefix (up to 4 letters) counts extra; names rarely differ there.
  size_t prefix = 0;
  while (prefix < 4 && prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix]) {
    ++prefix;
  }
  return jaro + prefix * 0.1 * (1.0 - jaro);
}

namespace {

// Mean over `from` words of their best partner in `to`; words shorter than `min_len` in
// `from` are skipped (0 if none are left).
double covered(std::span<const std::string> from, std::span<const std::string> to, size_t min_len) {
  double sum = 0;
  size_t n = 0;
  for (const std::string& f : from) {
    if (f.size() < min_len) continue;
    double best = 0;
    for (const std::string& t : to) best = std::max(best, word_similarity(f, t));
    sum += best;
    ++n;
  }
  return n == 0 ? 0.0 : sum / n;
}

}  // namespace

double phrase_similarity(std::span<const std::string> utterance,
                         std::span<const std::string> phrase) {
  if (utterance.empty() || phrase.empty()) return 0.0;
  return std::max(covered(phrase, utterance, 1), covered(utterance, phrase, 2));
}

FuzzyMatch best_match(std::string_view text, std::span<const FuzzyCandidate> candidates,
                      const FuzzyOptions& options) {
  FuzzyMatch m;
  std::vector<std::string> heard = normalized_words(text);
  if (heard.empty()) return m;
  int best = -1;
  double best_score = 0, second_score = 0;
  int second = -1;
  for (size_t i = 0; i < candidates.size(); ++i) {
    double score = phrase_similarity(heard, normalized_words(candidates[i].value));
    for (const std::string& alias : candidates[i].aliases) {
      score = std::max(score, phrase_similarity(heard, normalized_words(alias)));
    }
    if (score > best_score) {
      second = best, second_score = best_score;
      best = static_cast<int>(i), best_score = score;
    } else if (score > second_score) {
      second = static_cast<int>(i), second_score = score;
    }
  }
  m.runner_up = second;
  m.runner_up_score = second_score;
  if (best < 0 || best_score < options.threshold) return m;
  m.index = best;
  m.score = best_score;
  m.ambiguous = second >= 0 && second_score >= options.threshold &&
                best_score - second_score < options.ambiguity_margin;
  return m;
}

}  // namespace atende::turn
