#include "agent/caller_words.h"

#include <spdlog/spdlog.h>

namespace atende::agent {

CallerWords::CallerWords(flow::FlowHost& host, speech::StreamingRecognizer& engine,
                         speech::StreamRequest request, Events events)
    : engine_(engine), request_(std::move(request)), events_(std::move(events)), token_(host) {}

CallerWords::~CallerWords() {
  token_.cancel();  // first: the streams' last callbacks find nothing to post to
  if (live_) live_->cancel();
  if (ending_) ending_->cancel();
}

void CallerWords::open(std::span<const int16_t> so_far) {
  cancel();
  const uint64_t serial = ++serial_;
  speech::StreamHandlers h;
  auto partial = token_.bind<std::string>(
      [this, serial](std::string text) { on_partial(serial, std::move(text)); });
  h.on_partial = [partial](std::string_view text) { partial(std::string(text)); };
  h.on_final = token_.bind<speech::Recognition>(
      [this, serial](speech::Recognition r) { on_final(serial, std::move(r)); });
  // May end at once (on this thread) with an error: on_final marks it failed.
  live_ = engine_.start(request_, std::move(h));
  if (live_ && !so_far.empty()) live_->push(so_far);
}

void CallerWords::push(std::span<const int16_t> pcm) {
  if (live_ && !failed_) live_->push(pcm);
}

bool CallerWords::finish() {
  if (!live_ || failed_) {
    cancel();
    return false;
  }
  if (ending_) ending_->cancel();  // an older final nobody waits for any more
  ending_ = std::move(live_);
  ending_serial_ = serial_;
  partial_.clear();
  ending_->finish();
  return true;
}

void CallerWords::cancel() {
  if (live_) live_->cancel();
  live_.reset();
  failed_ = false;
  partial_.clear();
}

void CallerWords::on_partial(uint64_t serial, std::string text) {
  if (serial != serial_ || !live_ || failed_) return;  // of an older utterance
  partial_ = std::move(text);
  if (events_.on_partial) events_.on_partial(partial_);
}

void CallerWords::on_final(uint64_t serial, speech::Recognition r) {
  if (ending_ && serial == ending_serial_) {
    ending_.reset();
    if (events_.on_final) events_.on_final(std::move(r));
    return;
  }
  if (serial != serial_ || !live_ || r.cancelled) return;
  // Before finish(): the stream broke (or the server ended it on its own). The turn is
  // recognised the one-shot way instead.
  spdlog::info("call={} streaming stt ({}) ended before the end of the turn: {}", request_.tag,
               engine_.name(), r.ok ? "early final" : r.error);
  failed_ = true;
}

}  // namespace atende::agent
