#include "speech/streaming_recognizer.h"

#include <chrono>
#include <mutex>

namespace atende::speech {

namespace {
double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

void StreamingAsOneShot::recognize(RecognitionRequest request, RecognitionCallback done) {
  // The stream is kept alive by its own final: the holder is dropped from inside on_final
  // (allowed by the contract), or here if the stream ended while starting.
  struct Holder {
    std::mutex mu;
    std::unique_ptr<RecognitionStream> stream;
    bool ended = false;
  };
  auto holder = std::make_shared<Holder>();
  const double started = now_seconds();
  const double audio_seconds = request.pcm && request.sample_rate > 0
                                   ? static_cast<double>(request.pcm->size()) / request.sample_rate
                                   : 0;
  StreamHandlers handlers;
  handlers.on_final = [holder, done = std::move(done), started,
                       audio_seconds](Recognition r) mutable {
    r.processing_seconds = now_seconds() - started;
    if (r.audio_seconds == 0) r.audio_seconds = audio_seconds;
    std::unique_ptr<RecognitionStream> stream;
    {
      std::lock_guard lock(holder->mu);
      holder->ended = true;
      stream = std::move(holder->stream);
    }
    done(std::move(r));
    // `stream` is destroyed here, after done: its destructor's cancel() is a no-op now.
  };
  StreamRequest sr{.sample_rate = request.sample_rate,
                   .expected = std::move(request.expected),
                   .language = std::move(request.language),
                   .tag = std::move(request.tag),
                   .carriers = std::move(request.carriers),
                   .answer_of = std::move(request.answer_of)};
  auto stream = engine_->start(std::move(sr), std::move(handlers));
  if (request.pcm) stream->push(*request.pcm);
  stream->finish();
  std::lock_guard lock(holder->mu);
  if (!holder->ended) holder->stream = std::move(stream);
  // else: it ended already (failed to start, or a very fast engine): dropped here.
}

std::unique_ptr<Recognizer> make_openai_realtime_stt_oneshot(const RecognizerParams& params) {
  return std::make_unique<StreamingAsOneShot>(make_openai_realtime_stt(params));
}

std::unique_ptr<Recognizer> make_ws_stream_oneshot(const RecognizerParams& params) {
  return std::make_unique<StreamingAsOneShot>(make_ws_stream_stt(params));
}

}  // namespace atende::speech
