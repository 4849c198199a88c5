#include "agent/streamed_sentence.h"

#include <algorithm>
#include <memory>

namespace atende::agent {

StreamedSentence::StreamedSentence(std::string text, int sample_rate, StreamedSentenceLimits limits)
    : text_(std::move(text)), sample_rate_(sample_rate), limits_(limits) {}

bool StreamedSentence::append(std::span<const int16_t> pcm) {
  if (cut_ || finished_) return false;
  const size_t room = limits_.max_samples - std::min(limits_.max_samples, received_);
  const size_t n = std::min(room, pcm.size());
  buffer_.insert(buffer_.end(), pcm.begin(), pcm.begin() + static_cast<std::ptrdiff_t>(n));
  received_ += n;
  if (n < pcm.size()) {
    cut_ = true;
    if (error_.empty()) error_ = "too long: cut";
    return false;
  }
  return true;
}

void StreamedSentence::finish(std::string error) {
  if (finished_) return;
  finished_ = true;
  if (error_.empty()) error_ = std::move(error);
}

ClipPtr StreamedSentence::take(size_t leg_queued_samples) {
  if (buffer_.empty()) return nullptr;
  const bool first = taken_ == 0;
  const bool running_low = leg_queued_samples < limits_.low_water_samples;
  if (!first && !running_low && !finished_ && !cut_) return nullptr;
  auto clip = std::make_shared<Clip>();
  clip->sample_rate = sample_rate_;
  clip->label = text_;
  clip->pcm.swap(buffer_);
  taken_ += clip->pcm.size();
  return clip;
}

}  // namespace atende::agent
