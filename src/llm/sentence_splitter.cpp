#include "llm/sentence_splitter.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace atende::llm {
namespace {

// Words that end with a dot without ending the sentence (lower case, dot removed).
// English and Brazilian Portuguese titles and the address words callers hear in the gate
// flow ("apto. 52"). "etc." is left out on purpose: it usually does end a sentence.
constexpr std::array<std::string_view, 22> kAbbreviations = {
    "mr",   "mrs", "ms",    "dr", "drs",  "prof", "st",  "jr", "sr", "sra", "srs",
    "srta", "dra", "profa", "av", "apto", "ap",   "apt", "no", "n",  "tel", "vs"};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Length of a terminator at `i` ('.', '!', '?', or the UTF-8 ellipsis), 0 if none.
size_t terminator_at(std::string_view s, size_t i) {
  const char c = s[i];
  if (c == '.' || c == '!' || c == '?') return 1;
  if (s.substr(i, 3) == "\xE2\x80\xA6") return 3;  // …
  return 0;
}

// Length of a closing quote or bracket at `i`, 0 if none.
size_t closer_at(std::string_view s, size_t i) {
  const char c = s[i];
  if (c == '"' || c == '\'' || c == ')' || c == ']' || c == '*') return 1;
  if (s.substr(i, 2) == "\xC2\xBB") return 2;      // »
  if (s.substr(i, 3) == "\xE2\x80\x9D") return 3;  // ”
  if (s.substr(i, 3) == "\xE2\x80\x99") return 3;  // ’
  return 0;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Back `n` off so it does not split a UTF-8 sequence.
size_t utf8_floor(std::string_view s, size_t n) {
  while (n > 0 && n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return n;
}

}  // namespace

SentenceSplitter::SentenceSplitter(SentenceSplitterOptions options) : options_(std::move(options)) {
  for (auto& a : options_.abbreviations) {
    std::transform(a.begin(), a.end(), a.begin(), [](unsigned char c) { return std::tolower(c); });
  }
  if (options_.hard_max_chars < 16) options_.hard_max_chars = 16;
  if (options_.soft_max_chars > options_.hard_max_chars) {
    options_.soft_max_chars = options_.hard_max_chars;
  }
}

bool SentenceSplitter::is_abbreviation(size_t dot) const {
  const std::string_view s = buffer_;
  size_t start = dot;
  while (start > 0 && !is_space(s[start - 1]) && s[start - 1] != '(' && s[start - 1] != '"') {
    --start;
  }
  const std::string_view word = s.substr(start, dot - start);
  if (word.empty()) return false;
  // A single capital is an initial ("J. R. Tolkien").
  if (word.size() == 1 && std::isupper(static_cast<unsigned char>(word[0]))) return true;
  // Dotted abbreviations: "e.g.", "i.e.", "U.S.".
  if (word.find('.') != std::string_view::npos) return true;
  // A number opening the sentence is a list marker ("1. Open the door").
  if (std::all_of(word.begin(), word.end(), [](unsigned char c) { return std::isdigit(c); })) {
    return trim(s.substr(0, start)).empty();
  }
  if (word.size() > 8) return false;
  std::string lower(word);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  // "no." is both the English word and "número"; only a following digit makes it the latter.
  if (lower == "no" || lower == "n") {
    size_t next = dot + 1;
    while (next < s.size() && s[next] == ' ') ++next;
    return next < s.size() && std::isdigit(static_cast<unsigned char>(s[next]));
  }
  if (std::find(kAbbreviations.begin(), kAbbreviations.end(), lower) != kAbbreviations.end()) {
    return true;
  }
  return std::find(options_.abbreviations.begin(), options_.abbreviations.end(), lower) !=
         options_.abbreviations.end();
}

size_t SentenceSplitter::find_cut() const {
  const std::string_view s = buffer_;
  const size_t n = s.size();
  // Terminators beyond hard_max_chars are not looked for: such a long sentence is cut by
  // length below, so the first audio does not wait for it.
  const size_t scan = std::min(n, options_.hard_max_chars);
  for (size_t i = 0; i < scan;) {
    if (s[i] == '\n') {
      if (!trim(s.substr(0, i)).empty()) return i + 1;
      ++i;
      continue;
    }
    size_t len = terminator_at(s, i);
    if (len == 0) {
      ++i;
      continue;
    }
    const bool lone_dot = s[i] == '.' && (i + 1 >= n || terminator_at(s, i + 1) == 0);
    size_t j = i + len;
    while (j < n && (len = terminator_at(s, j)) > 0) j += len;
    while (j < n && (len = closer_at(s, j)) > 0) j += len;
    if (j >= n) return 0;  // need the next character to decide
    if (is_space(s[j]) && !(lone_dot && is_abbreviation(i)) && !trim(s.substr(0, i)).empty()) {
      return j;
    }
    i = j;
  }
  // No sentence end: cut long clauses so speech can start.
  if (n >= options_.soft_max_chars) {
    const size_t min_clause = options_.soft_max_chars / 4;
    for (size_t p = std::min(n - 1, options_.hard_max_chars); p > min_clause; --p) {
      const char c = s[p - 1];
      if ((c == ',' || c == ';' || c == ':') && is_space(s[p])) return p;
    }
  }
  if (n >= options_.hard_max_chars) {
    const size_t space = s.find_last_of(" \t", options_.hard_max_chars - 1);
    if (space != std::string_view::npos && space > 0) return space + 1;
    const size_t cut = utf8_floor(s, options_.hard_max_chars);
    return cut > 0 ? cut : n;
  }
  return 0;
}

void SentenceSplitter::emit_prefix(size_t n, const Emit& emit) {
  const std::string_view sentence = trim(std::string_view(buffer_).substr(0, n));
  if (!sentence.empty() && emit) emit(std::string(sentence));
  buffer_.erase(0, n);
}

void SentenceSplitter::push(std::string_view delta, const Emit& emit) {
  buffer_.append(delta);
  for (size_t cut; (cut = find_cut()) > 0;) emit_prefix(cut, emit);
}

void SentenceSplitter::flush(const Emit& emit) { emit_prefix(buffer_.size(), emit); }

}  // namespace atende::llm
