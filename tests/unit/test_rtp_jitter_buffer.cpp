// Jitter buffer: ordering, loss, duplicates, late packets, wraparound, restarts, bursts,
// and an hour of clock drift in both directions driven by a fake clock (no real time).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "rtp/jitter_buffer.h"

namespace atende::rtp {
namespace {

using Kind = JitterFrame::Kind;

MonoTime at_us(int64_t us) { return MonoTime(std::chrono::microseconds(us)); }

// Each payload carries its own sequence number so tests can check what comes out.
struct Packet {
  std::array<uint8_t, 160> bytes{};
  explicit Packet(uint16_t seq) {
    bytes[0] = static_cast<uint8_t>(seq >> 8);
    bytes[1] = static_cast<uint8_t>(seq);
    bytes[2] = 0xA5;
  }
};

uint16_t seq_in(std::span<const uint8_t> payload) {
  return static_cast<uint16_t>((payload[0] << 8) | payload[1]);
}

PutResult put(JitterBuffer& jb, uint16_t seq, int64_t now_us = 0) {
  Packet p(seq);
  return jb.put(seq, static_cast<uint32_t>(seq) * 160u, p.bytes, at_us(now_us));
}

JitterBufferConfig fixed_config(int target_ms = 60) {
  JitterBufferConfig c;
  c.target_ms = target_ms;
  c.adaptive = false;
  return c;
}

TEST(JitterBuffer, EmptyUntilTargetDepthThenInOrder) {
  JitterBuffer jb(fixed_config());
  EXPECT_EQ(jb.get().kind, Kind::kEmpty);  // nothing yet
  put(jb, 100);
  EXPECT_EQ(jb.get().kind, Kind::kEmpty);
  put(jb, 101);
  EXPECT_EQ(jb.get().kind, Kind::kEmpty);
  put(jb, 102);
  for (uint16_t s : {100, 101, 102}) {
    const JitterFrame f = jb.get();
    ASSERT_EQ(f.kind, Kind::kPayload);
    EXPECT_EQ(f.sequence, s);
    EXPECT_EQ(f.timestamp, s * 160u);
    ASSERT_EQ(f.payload.size(), 160u);
    EXPECT_EQ(seq_in(f.payload), s);
    EXPECT_EQ(f.payload[2], 0xA5);
  }
  EXPECT_EQ(jb.stats().received, 3u);
  EXPECT_EQ(jb.stats().lost, 0u);
}

TEST(JitterBuffer, EachFrameCarriesItsPacketsReceiveTime) {
  JitterBuffer jb(fixed_config());
  for (uint16_t seq = 10; seq < 13; ++seq) {
    Packet p(seq);
    // `received` is kept apart from `arrival` (which drives the jitter estimate).
    jb.put(seq, seq * 160u, p.bytes, at_us(seq * 20'000), false, at_us(seq * 20'000 + 7));
  }
  put(jb, 14);  // 13 is lost; 14 without a receive time
  for (uint16_t seq = 10; seq < 13; ++seq) {
    const JitterFrame f = jb.get();
    ASSERT_EQ(f.kind, Kind::kPayload);
    EXPECT_EQ(f.received, at_us(seq * 20'000 + 7));
  }
  const JitterFrame lost = jb.get();
  EXPECT_EQ(lost.kind, Kind::kMissing);
  EXPECT_EQ(lost.received, MonoTime{});
  const JitterFrame unknown = jb.get();
  ASSERT_EQ(unknown.kind, Kind::kPayload);
  EXPECT_EQ(unknown.received, MonoTime{}) << "no receive time given: none comes back";
}

TEST(JitterBuffer, ReordersBeforeAndDuringPlayout) {
  JitterBuffer jb(fixed_config());
  put(jb, 12);
  put(jb, 10);  // earlier than the first packet: becomes the start
  put(jb, 11);
  std::vector<uint16_t> out;
  for (int i = 0; i < 3; ++i) out.push_back(jb.get().sequence);
  put(jb, 14);
  put(jb, 13);
  put(jb, 15);
  for (int i = 0; i < 3; ++i) {
    const JitterFrame f = jb.get();
    ASSERT_EQ(f.kind, Kind::kPayload);
    out.push_back(seq_in(f.payload));
  }
  EXPECT_EQ(out, (std::vector<uint16_t>{10, 11, 12, 13, 14, 15}));
  EXPECT_EQ(jb.stats().late, 0u);
}

TEST(JitterBuffer, LossIsReportedAsMissingAndLatePacketIsDropped) {
  JitterBuffer jb(fixed_config());
  for (uint16_t s : {100, 101, 102, 104, 105}) put(jb, s);
  for (uint16_t s : {100, 101, 102}) EXPECT_EQ(jb.get().sequence, s);
  const JitterFrame missing = jb.get();
  EXPECT_EQ(missing.kind, Kind::kMissing);
  EXPECT_EQ(missing.sequence, 103);
  EXPECT_EQ(put(jb, 103), PutResult::kLate);  // its turn passed
  EXPECT_EQ(jb.get().sequence, 104);
  EXPECT_EQ(jb.get().sequence, 105);
  EXPECT_EQ(jb.stats().lost, 1u);
  EXPECT_EQ(jb.stats().late, 1u);
}

TEST(JitterBuffer, DuplicatesAreDroppedOnce) {
  JitterBuffer jb(fixed_config());
  EXPECT_EQ(put(jb, 7), PutResult::kStored);
  EXPECT_EQ(put(jb, 7), PutResult::kDuplicate);
  put(jb, 8);
  EXPECT_EQ(put(jb, 8), PutResult::kDuplicate);
  put(jb, 9);
  std::vector<uint16_t> out;
  for (int i = 0; i < 3; ++i) out.push_back(jb.get().sequence);
  EXPECT_EQ(out, (std::vector<uint16_t>{7, 8, 9}));
  EXPECT_EQ(jb.stats().duplicate, 2u);
  EXPECT_EQ(put(jb, 8), PutResult::kLate);  // a duplicate of an already played packet
}

TEST(JitterBuffer, SequenceWraparoundIsSeamless) {
  JitterBuffer jb(fixed_config());
  std::vector<uint16_t> sent = {65533, 65534, 65535, 0, 1, 2, 3};
  for (uint16_t s : sent) put(jb, s);
  std::vector<uint16_t> out;
  for (size_t i = 0; i < sent.size(); ++i) {
    const JitterFrame f = jb.get();
    ASSERT_EQ(f.kind, Kind::kPayload) << i;
    out.push_back(seq_in(f.payload));
  }
  EXPECT_EQ(out, sent);
  EXPECT_EQ(jb.stats().resyncs, 0u);
  EXPECT_EQ(jb.stats().lost, 0u);
}

TEST(JitterBuffer, WraparoundWithReorderAcrossZero) {
  JitterBuffer jb(fixed_config());
  for (uint16_t s : {65534, 65535, 0}) put(jb, s);
  ASSERT_EQ(jb.get().sequence, 65534);
  put(jb, 2);
  put(jb, 1);
  std::vector<uint16_t> out;
  for (int i = 0; i < 4; ++i) out.push_back(jb.get().sequence);
  EXPECT_EQ(out, (std::vector<uint16_t>{65535, 0, 1, 2}));
}

TEST(JitterBuffer, TooLargePayloadIsRefused) {
  JitterBuffer jb(fixed_config());
  std::vector<uint8_t> big(513, 1);
  EXPECT_EQ(jb.put(1, 0, big, at_us(0)), PutResult::kTooLarge);
  EXPECT_EQ(jb.stats().too_large, 1u);
  std::vector<uint8_t> fits(512, 1);
  EXPECT_EQ(jb.put(1, 0, fits, at_us(0)), PutResult::kStored);
}

TEST(JitterBuffer, ConfirmedSequenceJumpRestartsTheStream) {
  JitterBuffer jb(fixed_config());
  for (uint16_t s = 100; s < 106; ++s) put(jb, s);
  EXPECT_EQ(jb.get().sequence, 100);
  // One stray far ahead is not believed...
  EXPECT_NE(put(jb, 30000), PutResult::kStored);
  EXPECT_EQ(jb.get().sequence, 101);
  // ...but a second one following it is: the sender restarted.
  EXPECT_EQ(put(jb, 30001), PutResult::kResync);
  EXPECT_EQ(jb.stats().resyncs, 1u);
  put(jb, 30002);
  put(jb, 30003);
  std::vector<uint16_t> out;
  for (int i = 0; i < 3; ++i) {
    const JitterFrame f = jb.get();
    ASSERT_EQ(f.kind, Kind::kPayload);
    out.push_back(f.sequence);
  }
  EXPECT_EQ(out, (std::vector<uint16_t>{30001, 30002, 30003}));
}

TEST(JitterBuffer, LoneStrayFarBehindIsIgnored) {
  JitterBuffer jb(fixed_config());
  for (uint16_t s = 5000; s < 5006; ++s) put(jb, s);
  EXPECT_NE(put(jb, 1000), PutResult::kStored);
  EXPECT_NE(put(jb, 60000), PutResult::kStored);  // not the follower of the first stray
  std::vector<uint16_t> out;
  for (int i = 0; i < 6; ++i) out.push_back(jb.get().sequence);
  EXPECT_EQ(out, (std::vector<uint16_t>{5000, 5001, 5002, 5003, 5004, 5005}));
  EXPECT_EQ(jb.stats().resyncs, 0u);
}

TEST(JitterBuffer, UnderrunRebuffersToTarget) {
  JitterBuffer jb(fixed_config());
  for (uint16_t s = 1; s <= 3; ++s) put(jb, s);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(jb.get().kind, Kind::kPayload);
  EXPECT_EQ(jb.get().kind, Kind::kEmpty);  // ran dry: nothing was expected yet
  EXPECT_EQ(jb.stats().underruns, 1u);
  EXPECT_EQ(jb.stats().lost, 0u);
  put(jb, 4);
  EXPECT_EQ(jb.get().kind, Kind::kEmpty);  // buffering back up to 3 frames
  put(jb, 5);
  put(jb, 6);
  EXPECT_EQ(jb.get().sequence, 4);
}

TEST(JitterBuffer, ResetStartsANewStream) {
  JitterBuffer jb(fixed_config());
  for (uint16_t s = 100; s < 103; ++s) put(jb, s);
  EXPECT_EQ(jb.get().sequence, 100);
  jb.reset();  // e.g. the SSRC changed
  EXPECT_EQ(jb.depth_frames(), 0u);
  EXPECT_EQ(jb.get().kind, Kind::kEmpty);
  for (uint16_t s = 9; s < 12; ++s) EXPECT_EQ(put(jb, s), PutResult::kStored);
  EXPECT_EQ(jb.get().sequence, 9);
}

TEST(JitterBuffer, BurstBeyondCapacityPushesOldestOut) {
  JitterBufferConfig c = fixed_config();
  c.max_ms = 200;  // 10 frames
  JitterBuffer jb(c);
  for (uint16_t s = 0; s < 25; ++s) put(jb, s);
  EXPECT_LE(jb.depth_frames(), jb.capacity_frames());
  EXPECT_EQ(jb.stats().overflow, 15u);
  const JitterFrame f = jb.get();
  ASSERT_EQ(f.kind, Kind::kPayload);
  EXPECT_EQ(f.sequence, 15);  // the newest 10 survive
}

TEST(JitterBuffer, ConfigIsBounded) {
  JitterBufferConfig c;
  c.max_ms = 0;
  c.target_ms = 100000;
  c.max_payload = 0;
  JitterBuffer jb(c);
  EXPECT_GE(jb.capacity_frames(), 2u);
  EXPECT_LT(jb.target_frames(), jb.capacity_frames());
  std::vector<uint8_t> one(1, 7);
  EXPECT_EQ(jb.put(1, 0, one, at_us(0)), PutResult::kStored);
}

// Discrete-event simulation: the sender emits one packet per `sender_period_us`, the network
// delays each by `delay_us(i)`, and our clock ticks every 20 ms. Returns the played order.
struct DriftResult {
  size_t max_depth = 0;
  size_t min_depth_playing = SIZE_MAX;
  uint64_t played = 0;
  uint64_t missing = 0;
  uint64_t sent = 0;
  bool in_order = true;
};

template <typename Delay>
DriftResult simulate(JitterBuffer& jb, double sender_period_us, int64_t duration_us,
                     Delay delay_us) {
  DriftResult r;
  int64_t next_tick = 20'000;
  uint64_t i = 0;
  int32_t last_seq = -1;
  uint32_t last_ext = 0;
  std::vector<std::pair<int64_t, uint64_t>> in_flight;  // (arrival, index)
  while (next_tick <= duration_us) {
    // Emit every packet sent before this tick.
    while (static_cast<int64_t>(i * sender_period_us) < next_tick) {
      in_flight.push_back({static_cast<int64_t>(i * sender_period_us) + delay_us(i), i});
      ++i;
    }
    std::sort(in_flight.begin(), in_flight.end());
    size_t delivered = 0;
    for (; delivered < in_flight.size() && in_flight[delivered].first <= next_tick; ++delivered) {
      const uint64_t k = in_flight[delivered].second;
      Packet p(static_cast<uint16_t>(k));
      jb.put(static_cast<uint16_t>(k), static_cast<uint32_t>(k * 160), p.bytes,
             at_us(in_flight[delivered].first));
      ++r.sent;
    }
    in_flight.erase(in_flight.begin(), in_flight.begin() + static_cast<long>(delivered));

    r.max_depth = std::max(r.max_depth, jb.depth_frames());
    const JitterFrame f = jb.get();
    if (f.kind == Kind::kPayload) {
      ++r.played;
      r.min_depth_playing = std::min(r.min_depth_playing, jb.depth_frames());
      // Extended sequence so a 16-bit wrap during the hour does not look like disorder.
      const uint32_t ext =
          last_seq < 0 ? f.sequence : last_ext + static_cast<uint16_t>(f.sequence - last_seq);
      if (last_seq >= 0 && ext <= last_ext) r.in_order = false;
      last_seq = f.sequence;
      last_ext = ext;
    } else if (f.kind == Kind::kMissing) {
      ++r.missing;
    }
    next_tick += 20'000;
  }
  return r;
}

constexpr int64_t kHourUs = 3600LL * 1'000'000;

TEST(JitterBuffer, OneHourOfFastSenderStaysBounded) {
  JitterBuffer jb(fixed_config());
  // 0.1% fast: 180,180 packets in the hour against 180,000 ticks.
  const DriftResult r = simulate(jb, 20'000 / 1.001, kHourUs, [](uint64_t) { return 5'000; });
  EXPECT_LE(r.max_depth, jb.target_frames() + 3);
  EXPECT_TRUE(r.in_order);
  EXPECT_EQ(jb.stats().lost, 0u);
  EXPECT_EQ(jb.stats().late, 0u);
  // About one frame dropped per 1000: 180 over the hour.
  EXPECT_GE(jb.stats().drift_adjustments, 170u);
  EXPECT_LE(jb.stats().drift_adjustments, 190u);
  // Every packet is accounted for: played, dropped for drift, or still buffered.
  EXPECT_EQ(r.played + jb.stats().drift_adjustments + jb.depth_frames(), r.sent);
}

TEST(JitterBuffer, OneHourOfSlowSenderNeverStarves) {
  JitterBuffer jb(fixed_config());
  const DriftResult r = simulate(jb, 20'000 * 1.001, kHourUs, [](uint64_t) { return 5'000; });
  EXPECT_TRUE(r.in_order);
  EXPECT_EQ(jb.stats().underruns, 0u);
  EXPECT_EQ(jb.stats().lost, 0u);
  EXPECT_GE(r.min_depth_playing, 1u);
  EXPECT_LE(r.max_depth, jb.target_frames() + 2);
  // Concealment frames are inserted instead: about 180 over the hour.
  EXPECT_GE(jb.stats().drift_adjustments, 170u);
  EXPECT_LE(jb.stats().drift_adjustments, 190u);
  EXPECT_EQ(r.missing, jb.stats().drift_adjustments);
  EXPECT_EQ(r.played + jb.depth_frames(), r.sent);
}

TEST(JitterBuffer, NetworkJitterWithReorderingIsAbsorbed) {
  JitterBuffer jb;  // adaptive, default 60 ms target
  // Deterministic pseudo-random delay 0..50 ms: packets overtake each other.
  uint32_t state = 12345;
  auto delay = [&state](uint64_t) {
    state = state * 1664525u + 1013904223u;
    return static_cast<int64_t>((state >> 8) % 50'000);
  };
  const DriftResult r = simulate(jb, 20'000, 10LL * 60 * 1'000'000, delay);
  EXPECT_TRUE(r.in_order);
  EXPECT_LE(r.max_depth, jb.capacity_frames());
  EXPECT_GT(jb.target_frames(), 3u);  // adapted above the configured 60 ms
  const uint64_t bad = jb.stats().late + jb.stats().lost;
  EXPECT_LT(bad, r.sent / 100);  // under 1% after adaptation
  EXPECT_GT(jb.jitter_ms(), 5.0);
}

}  // namespace
}  // namespace atende::rtp
