#include "flow/prompt_player.h"

namespace atende::flow {

PromptPlayer::PromptPlayer(FlowHost& host, speech::Voice voice)
    : host_(host),
      voice_(std::move(voice)),
      self_(std::make_shared<PromptPlayer*>(this)),
      gate_(std::make_shared<PostGate>()) {
  gate_->host = &host;
}

PromptPlayer::~PromptPlayer() {
  // Waits at most for a worker's post() in progress: a queue push, not a synthesis.
  std::lock_guard lock(gate_->mutex);
  gate_->host = nullptr;
}

void PromptPlayer::play(std::initializer_list<std::string_view> texts) {
  stop();
  for (std::string_view t : texts) add(t, nullptr);
  active_ = true;
  pump();
}

void PromptPlayer::play(std::string_view apology, const std::vector<PromptPiece>& pieces) {
  stop();
  add(apology, nullptr);
  for (const PromptPiece& p : pieces) add(p.text, p.clip);
  active_ = true;
  pump();
}

void PromptPlayer::add(std::string_view text, ClipPtr clip) {
  if (count_ >= kMaxQueued) return;
  if (clip ? clip->pcm.empty() : text.empty()) return;
  texts_[count_].text.assign(text);
  texts_[count_].clip = std::move(clip);
  ++count_;
}

void PromptPlayer::stop() {
  if (clips_queued_ || host_.leg().playing()) host_.leg().flush();
  abandon();
}

void PromptPlayer::abandon() {
  ++generation_;
  for (size_t i = 0; i < count_; ++i) texts_[i].clip.reset();  // a recording is not kept alive
  count_ = next_ = 0;
  fetching_ = clips_queued_ = active_ = finished_ = false;
}

void PromptPlayer::pump() {
  while (next_ < count_ && !fetching_) {
    if (texts_[next_].clip) {  // ready: the leg resamples it if its rate differs
      host_.leg().play(texts_[next_].clip);
      clips_queued_ = true;
      ++next_;
      continue;
    }
    speech::Phrase phrase{texts_[next_].text, voice_, host_.leg().sample_rate()};
    if (ClipPtr clip = host_.phrases().cached(phrase)) {
      host_.note_transcript(Speaker::kAgent, texts_[next_].text);
      host_.leg().play(std::move(clip));
      clips_queued_ = true;
      ++next_;
      continue;
    }
    fetching_ = true;
    // The worker thread only posts, and only while this player exists (gate); the posted
    // task checks again on the media thread, and that the sequence was not replaced.
    std::weak_ptr<PromptPlayer*> weak = self_;
    uint64_t generation = generation_;
    host_.phrases().fetch(phrase, [gate = gate_, weak, generation](ClipPtr clip) {
      std::lock_guard lock(gate->mutex);
      if (!gate->host) return;
      gate->host->post([weak, generation, clip = std::move(clip)]() mutable {
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
    host_.note_transcript(Speaker::kAgent, texts_[next_].text);
    host_.leg().play(std::move(clip));
    clips_queued_ = true;
  } else {
    host_.record_event("tts_error", texts_[next_].text);
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
