#include "speech/stream_core.h"

namespace atende::speech {

void StreamCore::push(std::span<const int16_t> pcm) {
  if (cancel_requested_.load() || ended_.load() || ring_.empty()) return;
  std::lock_guard lock(mu_);
  if (finish_requested_) return;
  if (pcm.size() > ring_.size()) {
    dropped_ += pcm.size() - ring_.size();
    pcm = pcm.last(ring_.size());
  }
  if (size_ + pcm.size() > ring_.size()) {  // the engine is behind: drop the oldest
    const size_t over = size_ + pcm.size() - ring_.size();
    head_ = (head_ + over) % ring_.size();
    size_ -= over;
    dropped_ += over;
  }
  size_t tail = (head_ + size_) % ring_.size();
  for (int16_t s : pcm) {
    ring_[tail] = s;
    if (++tail == ring_.size()) tail = 0;
  }
  size_ += pcm.size();
}

size_t StreamCore::pop(int16_t* out, size_t max) {
  std::lock_guard lock(mu_);
  const size_t n = std::min(max, size_);
  for (size_t i = 0; i < n; ++i) {
    out[i] = ring_[head_];
    if (++head_ == ring_.size()) head_ = 0;
  }
  size_ -= n;
  return n;
}

void StreamCore::partial(std::string_view text) {
  if (cancel_requested_.load() || ended_.load() || !handlers_.on_partial) return;
  handlers_.on_partial(text);
}

bool StreamCore::final(Recognition r, const char* engine) {
  if (ended_.exchange(true)) return false;
  if (r.engine.empty()) r.engine = engine;
  // Moved out first: on_final may drop the owner's handle, and with it (if the engine's
  // session is gone too) this object.
  auto done = std::move(handlers_.on_final);
  handlers_.on_partial = nullptr;
  if (done) done(std::move(r));
  return true;
}

std::unique_ptr<RecognitionStream> failed_stream(StreamHandlers& handlers, const char* engine,
                                                 std::string error) {
  auto core = std::make_shared<StreamCore>(StreamRequest{}, std::move(handlers), 0);
  Recognition r;
  r.error = std::move(error);
  core->final(std::move(r), engine);
  return std::make_unique<CoreStream>(core);
}

}  // namespace atende::speech
