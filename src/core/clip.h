// A finished piece of audio to play (a prompt, a synthesised sentence). Immutable and
// shared: the phrase cache hands the same clip to every call that plays it.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace atende {

struct Clip {
  int sample_rate = 8000;
  std::vector<int16_t> pcm;
  std::string label;  // what it says, for logs and transcripts

  double seconds() const { return sample_rate ? double(pcm.size()) / sample_rate : 0.0; }
};
using ClipPtr = std::shared_ptr<const Clip>;

}  // namespace atende
