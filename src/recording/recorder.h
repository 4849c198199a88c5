// Call recording (docs/recording.md): both directions of a call's first leg into a WAV
// file, written off the media path.
//
// The media thread's part is a CallRecording, a MediaTap on the leg: every 20 ms it copies
// the tick (caller, atende) into the recording's StereoRing, preallocated when the call's
// recording began, and returns; nothing locks, allocates or touches the disk there. When
// the ring is full (the writer fell behind) the tick is dropped and counted
// (atende_recording_dropped_frames_total).
//
// The Recorder owns one writer thread that drains every ring every 50 ms into
// `<dir>/partial/<YYYY-MM-DD>_<call id>.wav` (stereo: caller left, atende right; or mixed
// mono) and, once the call's recording ended, writes the header's sizes and moves the file
// to `<dir>/YYYY/MM/DD/<call id>.wav` (the call's start date, UTC). A crash (kill -9)
// leaves files in partial/: start() repairs their headers and moves them, so only the ticks
// still in a ring are lost. The same thread sweeps the day directories older than
// retention_days at start and every hour.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/media_tap.h"
#include "core/metrics.h"
#include "recording/stereo_ring.h"
#include "recording/wav_file.h"

namespace atende::recording {

using WallTime = std::chrono::system_clock::time_point;

struct RecorderOptions {
  std::string dir;         // <data dir>/recordings
  bool stereo = true;      // false: caller and atende mixed into one channel
  int retention_days = 0;  // 0: never deleted
  std::chrono::milliseconds poll{50};
  size_t ring_ticks = 50;  // 1 s of 20 ms ticks per call
  std::chrono::minutes sweep_every{60};
};

// A finished (or repaired) recording, for the call record.
struct FinishedRecording {
  std::string call_id;
  std::string path;    // relative to RecorderOptions::dir, e.g. "2026/12/05/<id>.wav"
  uint64_t bytes = 0;  // the whole file
  WallTime started;
};

class CallRecording final : public MediaTap {
 public:
  CallRecording(std::string call_id, int sample_rate, WallTime started, size_t ring_ticks,
                Counter* dropped);
  // Media thread.
  void on_media(const AudioFrame& heard, const AudioFrame* sent) override;
  // The session's thread, once the tap is off the leg: the writer finishes the file.
  void end() { ended_.store(true, std::memory_order_release); }

  const std::string& call_id() const { return call_id_; }
  int sample_rate() const { return rate_; }
  StereoRing& ring_for_bench() { return ring_; }  // bench/bench_recording_tap.cpp only

 private:
  friend class Recorder;
  const std::string call_id_;
  const int rate_;
  const WallTime started_;
  StereoRing ring_;
  Counter* dropped_;
  std::atomic<bool> ended_{false};
  // The writer thread's own.
  WavFile file_;
  bool failed_ = false;
  std::string partial_;
};

class Recorder {
 public:
  using OnFinished = std::function<void(const FinishedRecording&)>;
  // `on_swept(before)`: recordings of calls started before `before` were deleted.
  Recorder(RecorderOptions options, MetricsRegistry* metrics, OnFinished on_finished,
           std::function<void(WallTime before)> on_swept = {});
  ~Recorder();  // stop()
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Repairs what a crash left in partial/ (on_finished for each), sweeps, starts the thread.
  void start();
  // Finishes every recording in progress and joins the thread. Idempotent.
  void stop();

  // Any thread (the session's, when its first leg is answered): a recording for the call.
  // nullptr when the call id cannot be a file name. Put it on the leg with set_media_tap,
  // and call end() once it is off.
  std::shared_ptr<CallRecording> begin(const std::string& call_id, int sample_rate,
                                       WallTime started);

  // Deletes the day directories whose every recording is older than retention_days;
  // returns how many. The writer thread calls it; public for tests.
  size_t sweep(WallTime now);
  // Repairs and moves the files in partial/; returns how many. start() calls it.
  size_t repair_partials();
  const RecorderOptions& options() const { return options_; }

 private:
  void run();
  void drain(CallRecording& r);
  bool finish(CallRecording& r);  // true when done with it

  RecorderOptions options_;
  OnFinished on_finished_;
  std::function<void(WallTime)> on_swept_;
  Counter* dropped_ = nullptr;
  Counter* finished_ = nullptr;
  Counter* failed_ = nullptr;
  std::mutex mu_;
  std::condition_variable wake_;
  std::vector<std::shared_ptr<CallRecording>> active_;
  bool stopping_ = false;
  std::thread thread_;
  std::vector<int16_t> buffer_;  // the writer's: a drained ring, ready for the file
};

// "<dir>/YYYY/MM/DD" parts of `t` (UTC), e.g. "2026/12/05".
std::string day_path(WallTime t);
// Call ids are ours or a UUID, but a file name takes no chances: [A-Za-z0-9._-], 1..128.
bool safe_file_stem(const std::string& id);

}  // namespace atende::recording
