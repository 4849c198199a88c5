// The state one RecognitionStream shares between its owner (the media thread) and its
// engine (an I/O or decoder thread): a ring of PCM allocated once, the finish/cancel
// requests, and the exactly-once final. One mutex, held only to copy in or out, so push()
// never waits on the network and never allocates.
//
// The owner's handle (CoreStream) and the engine's session each hold a shared_ptr to it:
// whichever goes first, the other stays valid, and the handle may be dropped from inside
// on_final.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "speech/streaming_recognizer.h"

namespace atende::speech {

class StreamCore {
 public:
  StreamCore(StreamRequest request, StreamHandlers handlers, size_t capacity_samples)
      : request_(std::move(request)), handlers_(std::move(handlers)), ring_(capacity_samples) {}
  StreamCore(const StreamCore&) = delete;
  StreamCore& operator=(const StreamCore&) = delete;

  const StreamRequest& request() const { return request_; }

  // ---- owner (media thread) ----
  void push(std::span<const int16_t> pcm);
  void finish() {
    std::lock_guard lock(mu_);
    finish_requested_ = true;
  }
  void cancel() { cancel_requested_.store(true); }
  uint64_t dropped_samples() const { return dropped_.load(); }

  // ---- engine thread ----
  // Up to `max` of the oldest queued samples.
  size_t pop(int16_t* out, size_t max);
  size_t queued() {
    std::lock_guard lock(mu_);
    return size_;
  }
  bool finish_requested() {
    std::lock_guard lock(mu_);
    return finish_requested_;
  }
  bool cancel_requested() const { return cancel_requested_.load(); }
  bool ended() const { return ended_.load(); }
  // on_partial(text), unless the stream was cancelled or has ended.
  void partial(std::string_view text);
  // on_final(r), the first time only; `r.engine` is filled in if empty. False if it had
  // already ended.
  bool final(Recognition r, const char* engine);
  // The final of a cancelled stream.
  bool final_cancelled(const char* engine) {
    Recognition r;
    r.cancelled = true;
    r.error = std::string(engine) + ": cancelled";
    return final(std::move(r), engine);
  }

 private:
  const StreamRequest request_;
  StreamHandlers handlers_;
  std::mutex mu_;
  std::vector<int16_t> ring_;
  size_t head_ = 0, size_ = 0;
  bool finish_requested_ = false;
  std::atomic<bool> cancel_requested_{false};
  std::atomic<bool> ended_{false};
  std::atomic<uint64_t> dropped_{0};
};

// The owner's handle on a StreamCore.
class CoreStream : public RecognitionStream {
 public:
  explicit CoreStream(std::shared_ptr<StreamCore> core) : core_(std::move(core)) {}
  ~CoreStream() override { core_->cancel(); }
  void push(std::span<const int16_t> pcm) override { core_->push(pcm); }
  void finish() override { core_->finish(); }
  void cancel() override { core_->cancel(); }
  uint64_t dropped_samples() const override { return core_->dropped_samples(); }

 private:
  std::shared_ptr<StreamCore> core_;
};

// A stream that failed to start: on_final(error) has run on the calling thread.
std::unique_ptr<RecognitionStream> failed_stream(StreamHandlers& handlers, const char* engine,
                                                 std::string error);

}  // namespace atende::speech
