// What a host without sessions (a unit test's fake) answers to the multi-leg calls: no
// second leg can be had, so every dial fails at once (later, through post(), as a real one
// would) and flows take their "failed" branch.
#include "flow/flow_host.h"

namespace atende::flow {

void FlowHost::dial(DialRequest, std::function<void(const DialResult&)> done) {
  post([done = std::move(done)] {
    done(DialResult{.outcome = "failed", .message = "this call cannot place calls"});
  });
}

bool FlowHost::run_flow_on(
    const std::string&, const std::string&, std::map<std::string, std::string>,
    std::function<void(const std::map<std::string, std::string>&, std::string_view)>) {
  return false;
}

bool FlowHost::bridge(const std::string&, bool, std::function<void(std::string_view)>) {
  return false;
}

void FlowHost::hang_up_leg(const std::string&) {}

ClipPtr bounded_clip(ClipPtr clip) {
  if (!clip) return clip;
  const size_t max = static_cast<size_t>(clip->sample_rate) * FlowHost::kMaxClipSeconds;
  if (clip->pcm.size() <= max) return clip;
  auto cut = std::make_shared<Clip>();
  cut->sample_rate = clip->sample_rate;
  cut->label = clip->label;
  cut->pcm.assign(clip->pcm.begin(), clip->pcm.begin() + static_cast<std::ptrdiff_t>(max));
  return cut;
}

void keep_bounded_clip(std::map<std::string, ClipPtr>& clips, const std::string& name,
                       ClipPtr clip) {
  if (!clip || clip->sample_rate <= 0) return;
  auto it = clips.find(name);
  if (it != clips.end()) {
    it->second = bounded_clip(std::move(clip));
  } else if (clips.size() < FlowHost::kMaxClips) {
    clips.emplace(name, bounded_clip(std::move(clip)));
  }
}

void FlowHost::keep_clip(const std::string& name, ClipPtr clip) {
  keep_bounded_clip(clips_, name, std::move(clip));
}

ClipPtr FlowHost::clip(const std::string& name) const {
  auto it = clips_.find(name);
  return it == clips_.end() ? nullptr : it->second;
}

void FlowHost::transfer(const std::string&, std::function<void(int)> done) {
  post([done = std::move(done)] { done(501); });
}

}  // namespace atende::flow
