// Cost of the VAD engines per 20 ms frame, on real speech (pocketsphinx-testdata's
// goforward.raw, downsampled to 8 kHz for telephone frames) followed by as much silence.
// The turn detector's own cost is in bench_agent_turn.cpp.
//   ./bench_audio_vad --benchmark_out=../bench/results/vad.json --benchmark_out_format=json
#include <benchmark/benchmark.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "audio/resampler.h"
#include "audio/vad_energy.h"
#include "audio/vad_webrtc.h"

namespace {

using namespace atende::audio;

// Speech then silence of the same length, at `rate`.
const std::vector<int16_t>& signal(int rate) {
  static std::vector<int16_t> narrow, wide;
  auto& out = rate == 8000 ? narrow : wide;
  if (out.empty()) {
    std::ifstream f("/usr/share/pocketsphinx/test/data/goforward.raw", std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(f)), {});
    std::vector<int16_t> pcm(bytes.size() / 2);
    std::memcpy(pcm.data(), bytes.data(), pcm.size() * 2);
    out = rate == 16000 ? pcm : Resampler::convert(pcm, 16000, rate);
    if (out.empty()) out.assign(size_t(rate) * 3, 0);  // no testdata: still measure
    out.resize(out.size() * 2, 0);
  }
  return out;
}

void run(benchmark::State& state, Vad& vad) {
  const auto& pcm = signal(vad.sample_rate());
  const size_t n = size_t(vad.sample_rate() / 50);
  const size_t frames = pcm.size() / n;
  size_t i = 0;
  int speech = 0;
  for (auto _ : state) {
    speech += vad.process({pcm.data() + (i % frames) * n, n}).speech;
    ++i;
  }
  benchmark::DoNotOptimize(speech);
  state.counters["speech_share"] = double(speech) / double(i);
}

void BM_WebRtcVad(benchmark::State& state) {
  WebRtcVad vad({.sample_rate = int(state.range(0))});
  run(state, vad);
}
BENCHMARK(BM_WebRtcVad)->Arg(8000)->Arg(16000);

void BM_WebRtcVadNoiseSuppression(benchmark::State& state) {
  WebRtcVad vad(
      {.sample_rate = int(state.range(0)), .noise_suppression = NoiseSuppressionLevel::kModerate});
  run(state, vad);
}
BENCHMARK(BM_WebRtcVadNoiseSuppression)->Arg(8000)->Arg(16000);

void BM_EnergyVad(benchmark::State& state) {
  EnergyVad vad({.sample_rate = int(state.range(0))});
  run(state, vad);
}
BENCHMARK(BM_EnergyVad)->Arg(8000)->Arg(16000);

}  // namespace

BENCHMARK_MAIN();
