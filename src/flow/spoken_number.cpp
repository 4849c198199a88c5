#include "flow/spoken_number.h"

#include <array>
#include <vector>

namespace atende::flow {
namespace {

constexpr std::array<const char*, 20> kEnUnits = {
    "zero",     "one",     "two",     "three",     "four",     "five",    "six",
    "seven",    "eight",   "nine",    "ten",       "eleven",   "twelve",  "thirteen",
    "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
constexpr std::array<const char*, 10> kEnTens = {"",      "",      "twenty",  "thirty", "forty",
                                                 "fifty", "sixty", "seventy", "eighty", "ninety"};
// Masculine forms: "um real", "dois reais" (both currency words are masculine).
constexpr std::array<const char*, 20> kPtUnits = {
    "zero",     "um",     "dois",      "três",      "quatro",  "cinco",   "seis",
    "sete",     "oito",   "nove",      "dez",       "onze",    "doze",    "treze",
    "quatorze", "quinze", "dezesseis", "dezessete", "dezoito", "dezenove"};
constexpr std::array<const char*, 10> kPtTens = {"",         "",          "vinte",    "trinta",
                                                 "quarenta", "cinquenta", "sessenta", "setenta",
                                                 "oitenta",  "noventa"};
constexpr std::array<const char*, 10> kPtHundreds = {
    "",           "cento",      "duzentos",   "trezentos",  "quatrocentos",
    "quinhentos", "seiscentos", "setecentos", "oitocentos", "novecentos"};

// 1..999
std::string en_group(int n) {
  std::string out;
  if (n >= 100) {
    out = std::string(kEnUnits[n / 100]) + " hundred";
    n %= 100;
    if (n == 0) return out;
    out += ' ';
  }
  if (n < 20) return out + kEnUnits[n];
  out += kEnTens[n / 10];
  if (n % 10) out += std::string("-") + kEnUnits[n % 10];
  return out;
}

// 1..999: "cento e vinte e três"; exactly 100 is "cem".
std::string pt_group(int n) {
  if (n == 100) return "cem";
  std::vector<std::string> parts;
  if (n >= 100) parts.emplace_back(kPtHundreds[n / 100]);
  int rest = n % 100;
  if (rest > 0 && rest < 20) {
    parts.emplace_back(kPtUnits[rest]);
  } else if (rest >= 20) {
    parts.emplace_back(kPtTens[rest / 10]);
    if (rest % 10) parts.emplace_back(kPtUnits[rest % 10]);
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : " e ") + p;
  return out;
}

struct Scale {
  int64_t size;
  const char* en;
  const char* pt_one;
  const char* pt_many;
};
constexpr Scale kScales[] = {{1'000'000'000, "billion", "bilhão", "bilhões"},
                             {1'000'000, "million", "milhão", "milhões"},
                             {1'000, "thousand", "mil", "mil"},
                             {1, "", "", ""}};

std::string english(int64_t n) {
  std::string out;
  for (const Scale& s : kScales) {
    int group = static_cast<int>(n / s.size);
    n %= s.size;
    if (group == 0) continue;
    if (!out.empty()) out += ' ';
    out += en_group(group);
    if (s.size > 1) out += std::string(" ") + s.en;
  }
  return out;
}

// Portuguese joins the last group with "e" when it is below 100 or a round hundred
// ("mil e cinquenta", "mil e duzentos", but "mil duzentos e trinta e quatro").
std::string portuguese(int64_t n) {
  std::vector<std::pair<std::string, int>> pieces;  // words, the group's value
  for (const Scale& s : kScales) {
    int group = static_cast<int>(n / s.size);
    n %= s.size;
    if (group == 0) continue;
    std::string words;
    if (s.size == 1000 && group == 1) {
      words = "mil";  // not "um mil"
    } else {
      words = pt_group(group);
      if (s.size > 1) words += std::string(" ") + (group == 1 ? s.pt_one : s.pt_many);
    }
    pieces.emplace_back(std::move(words), group);
  }
  std::string out;
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (i > 0) {
      bool last = i + 1 == pieces.size();
      int v = pieces[i].second;
      out += last && (v < 100 || v % 100 == 0) ? " e " : " ";
    }
    out += pieces[i].first;
  }
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Language language_of_voice(std::string_view voice) {
  return voice.size() >= 2 && (voice[0] == 'p' || voice[0] == 'P') &&
                 (voice[1] == 't' || voice[1] == 'T') && (voice.size() == 2 || voice[2] == '-')
             ? Language::kPortuguese
             : Language::kEnglish;
}

std::string spoken_number(int64_t n, Language language) {
  if (n < 0 || n > kMaxSpokenNumber) return "";
  if (n == 0) return "zero";  // the same word in both languages
  return language == Language::kPortuguese ? portuguese(n) : english(n);
}

std::optional<int64_t> parse_amount_cents(std::string_view text) {
  if (text.size() > 64) return std::nullopt;
  text = trim(text);
  for (std::string_view prefix : {"R$", "US$", "$", "BRL", "USD"}) {
    if (text.substr(0, prefix.size()) == prefix) {
      text = trim(text.substr(prefix.size()));
      break;
    }
  }
  if (text.empty() || !is_digit(text.front()) || !is_digit(text.back())) return std::nullopt;
  std::vector<size_t> seps;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.' || c == ',') {
      if (!is_digit(text[i - 1])) return std::nullopt;  // "1..2", "1.,2"
      seps.push_back(i);
    } else if (!is_digit(c)) {
      return std::nullopt;
    }
  }
  // Decide which separator (if any) is the decimal mark.
  size_t decimal_at = std::string_view::npos;
  if (!seps.empty()) {
    size_t last = seps.back();
    size_t after = text.size() - last - 1;
    char mark = text[last];
    bool same_kind = true;
    for (size_t s : seps) same_kind = same_kind && text[s] == mark;
    if (after == 3 && same_kind) {
      decimal_at = std::string_view::npos;  // "1.234" and "1,234,567": grouping only
    } else if (after == 1 || after == 2) {
      decimal_at = last;
    } else {
      return std::nullopt;
    }
  }
  std::string_view whole = text.substr(0, decimal_at);
  std::string_view fraction =
      decimal_at == std::string_view::npos ? std::string_view() : text.substr(decimal_at + 1);
  // Grouping in the whole part: one kind of separator, the other than the decimal mark,
  // first group 1-3 digits, then groups of exactly 3.
  char group_mark = '\0';
  size_t group_len = 0;
  bool grouped = false;
  int64_t units = 0;
  for (char c : whole) {
    if (c == '.' || c == ',') {
      if (decimal_at != std::string_view::npos && c == text[decimal_at]) return std::nullopt;
      if (group_mark != '\0' && c != group_mark) return std::nullopt;
      if (group_len == 0 || group_len > 3 || (grouped && group_len != 3)) return std::nullopt;
      group_mark = c;
      grouped = true;
      group_len = 0;
      continue;
    }
    ++group_len;
    units = units * 10 + (c - '0');
    if (units > kMaxSpokenNumber) return std::nullopt;
  }
  if (grouped && group_len != 3) return std::nullopt;
  int64_t cents = 0;
  if (fraction.size() == 1) cents = (fraction[0] - '0') * 10;
  if (fraction.size() == 2) cents = (fraction[0] - '0') * 10 + (fraction[1] - '0');
  return units * 100 + cents;
}

std::string money_words(int64_t cents, Language language) {
  if (cents < 0 || cents / 100 > kMaxSpokenNumber) return "";
  int64_t units = cents / 100;
  int64_t rest = cents % 100;
  bool pt = language == Language::kPortuguese;
  std::string out;
  if (units > 0 || rest == 0) {
    out = spoken_number(units, language);
    bool round_millions = units >= 1'000'000 && units % 1'000'000 == 0;
    if (pt) {
      if (round_millions) out += " de";  // "um milhão de reais"
      out += units == 1 ? " real" : " reais";
    } else {
      out += units == 1 ? " dollar" : " dollars";
    }
  }
  if (rest > 0) {
    if (!out.empty()) out += pt ? " e " : " and ";
    out += spoken_number(rest, language);
    if (pt) {
      out += rest == 1 ? " centavo" : " centavos";
    } else {
      out += rest == 1 ? " cent" : " cents";
    }
  }
  return out;
}

}  // namespace atende::flow
