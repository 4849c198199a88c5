// What call recording adds to a media worker's 20 ms tick: CallRecording::on_media (copy
// the heard and the sent frame into the ring, interleaved), against the baseline of what a
// tick already does with a frame: copy one AudioFrame (the playout's next()). The writer's
// side (draining the ring) runs in the same loop, as it would on its own thread, so the
// ring never fills; BM_TapFull measures the drop path (ring full: count and return).
//   ./bench_recording_tap --benchmark_out=../bench/results/recording_tap.json
//     --benchmark_out_format=json   (one line)
#include <benchmark/benchmark.h>

#include <chrono>

#include "recording/recorder.h"

namespace {

using namespace atende;

AudioFrame speech(int rate) {
  AudioFrame f = AudioFrame::silence(rate);
  for (int i = 0; i < f.samples; ++i) f.pcm[size_t(i)] = int16_t((i * 37) % 2000 - 1000);
  return f;
}

void BM_BaselineFrameCopy(benchmark::State& state) {
  const AudioFrame in = speech(int(state.range(0)));
  AudioFrame out;
  for (auto _ : state) {
    out = in;
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_BaselineFrameCopy)->Arg(8000)->Arg(16000);

void BM_TapTick(benchmark::State& state) {
  const int rate = int(state.range(0));
  const AudioFrame heard = speech(rate), sent = speech(rate);
  recording::CallRecording rec("bench", rate, std::chrono::system_clock::now(), 50, nullptr);
  recording::StereoRing& ring = rec.ring_for_bench();
  for (auto _ : state) {
    rec.on_media(heard, &sent);
    size_t n = 0;
    benchmark::DoNotOptimize(ring.front(n));
    ring.pop();  // the writer's part, so the ring never fills
  }
}
BENCHMARK(BM_TapTick)->Arg(8000)->Arg(16000);

void BM_TapFull(benchmark::State& state) {
  const int rate = int(state.range(0));
  const AudioFrame heard = speech(rate), sent = speech(rate);
  Counter dropped;
  recording::CallRecording rec("bench", rate, std::chrono::system_clock::now(), 2, &dropped);
  for (auto _ : state) rec.on_media(heard, &sent);
  state.counters["dropped"] = double(dropped.value());
}
BENCHMARK(BM_TapFull)->Arg(8000);

}  // namespace

BENCHMARK_MAIN();
