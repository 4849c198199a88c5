#include "flow/prompt_player.h"

namespace atende::flow {

PromptPlayer::PromptPlayer(FlowHost& host, speech::Voice voice)
    : host_(host), voice_(std::move(voice)), self_(std::make_shared<PromptPlayer*>(this)) {}

PromptPlayer::~PromptPlayer() = default;

void PromptPlayer::play(std::initializer_list<std::string_view> texts) {
  stop();
  for (std::string_view t : texts) {
    if (!t.empty() && count_ < kMaxQueued) texts_[count_++].assign(t);
  }
  active_ = true;
  pump();
}

void PromptPlayer::stop() {
  if (clips_queued_ || host_.leg().playing()) host_.leg().flush();
  abandon();
}

void PromptPlayer::abandon() {
  ++generation_;
  count_ = next_ = 0;
  fetching_ = clips_queued_ = active_ = finished_ = false;
}

void PromptPlayer::pump() {
  while (next_ < count_ && !fetching_) {
    speech::Phrase phrase{texts_[next_], voice_, host_.leg().sample_rate()};
    if (ClipPtr clip = host_.phrases().cached(phrase)) {
      host_.leg().play(std::move(clip));
      clips_queued_ = true;
      ++next_;
      continue;
    }
    fetching_ = true;
    // The worker thread only posts; the posted task checks the player still exists and the
    // sequence was not replaced before touching anything (both on the media thread).
    std::weak_ptr<PromptPlayer*> weak = self_;
    FlowHost* host = &host_;
    uint64_t generation = generation_;
    host_.phrases().fetch(phrase, [weak, host, generation](ClipPtr clip) {
      host->post([weak, generation, clip = std::move(clip)]() mutable {
        if (auto self = weak.lock()) (*self)->on_fetched(generation, std::move(clip));
      });
    });
  }
  // Nothing left to fetch and nothing playing (all failed, or all empty): done now.
  if (next_ == count_ && !fetching_ && !clips_queued_ && active_) {
    active_ = false;
    finished_ = true;
  }
}

void PromptPlayer::on_fetched(uint64_t generation, ClipPtr clip) {
  if (generation != generation_ || !fetching_) return;
  fetching_ = false;
  if (clip) {
    host_.leg().play(std::move(clip));
    clips_queued_ = true;
  } else {
    host_.record_event("tts_error", texts_[next_]);
  }
  ++next_;
  pump();
}

void PromptPlayer::on_playout_idle() {
  if (!clips_queued_ || host_.leg().playing()) return;
  clips_queued_ = false;
  pump();
}

bool PromptPlayer::take_finished() {
  bool f = finished_;
  finished_ = false;
  return f;
}

}  // namespace atende::flow
