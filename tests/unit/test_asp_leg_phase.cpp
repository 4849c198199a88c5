// AspLeg follows its peer's phase as RTP and AudioSocket legs do (media/read_phase.h): when
// the peer's audio keeps arriving well before the leg's tick, the leg moves its tick earlier
// (atende_asp_phase_moves_total). A real MediaWorker ticks the leg; the "peer" stamps each
// message as arriving 5 ms after a tick's slot, so it waits 15 ms for the next one whatever
// the box's scheduling (waits are measured against the slots the worker hands out). A peer
// that stamps its audio just before the slot gives no reason to move.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "asp/asp_leg.h"
#include "asp/asp_metrics.h"
#include "core/metrics.h"
#include "media/media_worker.h"

namespace atende::asp {
namespace {

using namespace std::chrono_literals;

template <typename Fn>
void on_worker(media::MediaWorker& w, Fn fn) {
  std::promise<void> done;
  auto result = done.get_future();
  w.post([&] {
    fn();
    done.set_value();
  });
  result.get();
}

// The flow's side: on every frame (inside the leg's tick) the next 20 ms of the peer's audio
// arrives, stamped `offset` after this tick's slot.
struct Peer : LegListener {
  std::shared_ptr<Channel> channel;
  MonoClock::duration offset{};
  std::atomic<int> frames{0};
  std::array<int16_t, 160> pcm{};
  void on_frame(const AudioFrame&, MonoTime now) override {
    channel->push_audio(pcm.data(), pcm.size(), now + offset);
    ++frames;
  }
  void on_dtmf(char, MonoTime) override {}
  void on_hangup(std::string_view) override {}
};

// Runs a server-role leg whose peer's audio arrives `offset` after each slot for `ticks`
// ticks; returns the phase moves counted.
uint64_t phase_moves_with(MonoClock::duration offset, int ticks) {
  MetricsRegistry registry;
  AspMetrics metrics(registry);
  media::MediaWorker worker(0);
  worker.start();
  Peer peer;
  peer.channel = std::make_shared<Channel>(8000);
  peer.offset = offset;
  for (int i = 0; i < 3; ++i) {  // the leg's prebuffer
    peer.channel->push_audio(peer.pcm.data(), peer.pcm.size(), MonoClock::now());
  }
  AspLegParams params;
  params.info.id = "phase-test";
  params.info.kind = "asp";
  auto leg = std::make_shared<AspLeg>(worker, peer.channel, params, metrics);
  on_worker(worker, [&] {
    leg->set_listener(&peer);
    leg->start();
  });
  while (peer.frames.load() < ticks) std::this_thread::sleep_for(5ms);
  on_worker(worker, [&] { leg->hangup("test over"); });
  worker.stop();
  return metrics.phase_moves.value();
}

TEST(AspLegPhase, MovesItsTickToJustAfterThePeersAudioArrives) {
  // Two windows of ReadPhase (25 messages each) and some: the first window calls for a move.
  EXPECT_GE(phase_moves_with(5ms, 60), 1u);
}

TEST(AspLegPhase, StaysWhenThePeersAudioArrivesJustBeforeTheTick) {
  // Each message waits 1 ms for the slot: less than ReadPhase::kWorthMovingNs.
  EXPECT_EQ(phase_moves_with(19ms, 60), 0u);
}

}  // namespace
}  // namespace atende::asp
