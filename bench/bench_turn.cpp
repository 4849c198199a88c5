// The agent's ears per 20 ms frame at 8 kHz: the turn detector alone (decisions
// precomputed), WebRTC VAD + turn detector together (what runs on the media thread for
// every call), and the barge-in policy. Input: real speech (goforward.raw) then silence,
// looped, so every path (idle, candidate, speaking, end of turn) is exercised.
#include <benchmark/benchmark.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "audio/resampler.h"
#include "audio/vad_webrtc.h"
#include "turn/barge_in.h"
#include "turn/turn_detector.h"

namespace {

using namespace atende;

const std::vector<AudioFrame>& frames() {
  static std::vector<AudioFrame> out;
  if (out.empty()) {
    std::ifstream f("/usr/share/pocketsphinx/test/data/goforward.raw", std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(f)), {});
    std::vector<int16_t> wide(bytes.size() / 2);
    std::memcpy(wide.data(), bytes.data(), wide.size() * 2);
    auto pcm = audio::Resampler::convert(wide, 16000, 8000);
    if (pcm.empty()) pcm.assign(24000, 0);
    pcm.resize(pcm.size() + 8000, 0);  // a second of silence ends the turn
    for (size_t i = 0; i + 160 <= pcm.size(); i += 160) {
      AudioFrame fr = AudioFrame::silence(8000);
      std::memcpy(fr.pcm.data(), &pcm[i], 160 * 2);
      out.push_back(fr);
    }
  }
  return out;
}

const std::vector<audio::VadDecision>& decisions() {
  static std::vector<audio::VadDecision> out;
  if (out.empty()) {
    audio::WebRtcVad vad;
    for (const auto& f : frames()) out.push_back(vad.process(f));
  }
  return out;
}

void BM_TurnDetector(benchmark::State& state) {
  const auto& fr = frames();
  const auto& d = decisions();
  turn::TurnDetector det;
  MonoTime now{};
  size_t i = 0, turns = 0;
  for (auto _ : state) {
    const size_t k = i % fr.size();
    turns += det.on_frame(fr[k], d[k], now).kind == turn::TurnEventKind::kEndOfTurn;
    if (auto at = det.end_deadline(); at && *at <= now) {  // the owner's timer, inline
      turns += det.end_turn(now).kind == turn::TurnEventKind::kEndOfTurn;
    }
    now += Millis{20};
    ++i;
  }
  state.counters["turns"] = double(turns);
}
BENCHMARK(BM_TurnDetector);

void BM_VadAndTurnDetector(benchmark::State& state) {
  const auto& fr = frames();
  audio::WebRtcVad vad;
  turn::TurnDetector det;
  MonoTime now{};
  size_t i = 0, turns = 0;
  for (auto _ : state) {
    const AudioFrame& f = fr[i % fr.size()];
    turns += det.on_frame(f, vad.process(f), now).kind == turn::TurnEventKind::kEndOfTurn;
    if (auto at = det.end_deadline(); at && *at <= now) {  // the owner's timer, inline
      turns += det.end_turn(now).kind == turn::TurnEventKind::kEndOfTurn;
    }
    now += Millis{20};
    ++i;
  }
  state.counters["turns"] = double(turns);
}
BENCHMARK(BM_VadAndTurnDetector);

void BM_BargeInPolicy(benchmark::State& state) {
  const auto& d = decisions();
  turn::BargeInPolicy policy;
  MonoTime now{};
  policy.playback_started(now);
  size_t i = 0, interrupts = 0;
  for (auto _ : state) {
    if (policy.on_frame(d[i % d.size()], now) == turn::BargeInAction::kInterrupt) {
      ++interrupts;
      policy.playback_started(now);
    }
    now += Millis{20};
    ++i;
  }
  state.counters["interrupts"] = double(interrupts);
}
BENCHMARK(BM_BargeInPolicy);

}  // namespace

BENCHMARK_MAIN();
