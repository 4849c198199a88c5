#include "agent/barge_in_heard.h"

#include <algorithm>
#include <cctype>

namespace atende::agent {

namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

void append_sentence(std::string& out, std::string_view s) {
  if (s.empty()) return;
  if (!out.empty()) out.push_back(' ');
  out.append(s);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string heard_prefix(std::string_view text, double fraction) {
  text = trim(text);
  if (fraction <= 0.0 || text.empty()) return {};
  if (fraction >= 1.0) return std::string(text);
  const double cut = fraction * double(text.size());
  size_t keep = 0;  // end of the last word heard
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    const size_t begin = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    if (i == begin) break;
    const double middle = (double(begin) + double(i)) / 2.0;
    if (middle > cut) break;
    keep = i;
  }
  return std::string(text.substr(0, keep));
}

void PlayedSpeech::queued(std::string text, size_t samples) {
  total_ += samples;
  parts_.push_back({std::move(text), samples});
}

void PlayedSpeech::extend(size_t samples) {
  if (parts_.empty()) return;
  parts_.back().samples += samples;
  total_ += samples;
}

void PlayedSpeech::advance(size_t samples) { played_ = std::min(total_, played_ + samples); }

std::string PlayedSpeech::heard_text() const { return heard_text_from(0); }

std::string PlayedSpeech::heard_text_from(size_t first_part) const {
  std::string out;
  size_t left = played_;
  for (size_t i = 0; i < parts_.size(); ++i) {
    const Part& p = parts_[i];
    if (i < first_part) {  // heard or not, it is not part of the text asked for
      left -= std::min(left, p.samples);
      continue;
    }
    if (left >= p.samples) {
      append_sentence(out, trim(p.text));
      left -= p.samples;
      continue;
    }
    if (p.samples > 0) append_sentence(out, heard_prefix(p.text, double(left) / p.samples));
    break;
  }
  return out;
}

std::string PlayedSpeech::full_text() const {
  std::string out;
  for (const Part& p : parts_) append_sentence(out, trim(p.text));
  return out;
}

void PlayedSpeech::clear() {
  parts_.clear();
  played_ = total_ = 0;
}

}  // namespace atende::agent
