// RFC 3550 A.1/A.3/A.8 receiver statistics: probation, wraparound, loss, duplicates,
// restarts and the jitter estimator, with arrival times from a fake clock.
#include <gtest/gtest.h>

#include "rtp/reception_stats.h"

namespace atende::rtp {
namespace {

MonoTime at_us(int64_t us) { return MonoTime(std::chrono::microseconds(us)); }

// Feeds packets seq .. seq+count-1 arriving exactly on time (20 ms, 160 units apart).
void feed(ReceptionStats& s, uint16_t first, int count, int64_t& now_us, uint32_t& ts) {
  for (int i = 0; i < count; ++i) {
    s.on_packet(static_cast<uint16_t>(first + i), ts, at_us(now_us));
    ts += 160;
    now_us += 20'000;
  }
}

TEST(ReceptionStats, NewSourceIsOnProbationUntilTwoInOrder) {
  ReceptionStats s(8000);
  EXPECT_FALSE(s.on_packet(100, 0, at_us(0)));
  EXPECT_FALSE(s.valid());
  EXPECT_TRUE(s.on_packet(101, 160, at_us(20'000)));
  EXPECT_TRUE(s.valid());
  EXPECT_EQ(s.extended_highest_seq(), 101u);
  EXPECT_EQ(s.received(), 1u);
  EXPECT_EQ(s.cumulative_lost(), 0);
}

TEST(ReceptionStats, ProbationRestartsOnOutOfOrder) {
  ReceptionStats s(8000);
  EXPECT_FALSE(s.on_packet(100, 0, at_us(0)));
  EXPECT_FALSE(s.on_packet(500, 0, at_us(0)));  // not the follower: probation again
  EXPECT_TRUE(s.on_packet(501, 0, at_us(0)));
  EXPECT_EQ(s.extended_highest_seq(), 501u);
}

TEST(ReceptionStats, WraparoundCountsCycles) {
  ReceptionStats s(8000);
  int64_t now = 0;
  uint32_t ts = 0;
  feed(s, 65530, 10, now, ts);  // 65530..65535, 0..3
  EXPECT_EQ(s.extended_highest_seq(), 65536u + 3);
  EXPECT_EQ(s.cumulative_lost(), 0);
  EXPECT_EQ(s.expected(), 9u);  // first packet was spent on probation
}

TEST(ReceptionStats, LossAndFractionPerInterval) {
  ReceptionStats s(8000);
  int64_t now = 0;
  uint32_t ts = 0;
  feed(s, 0, 2, now, ts);
  // 100 packets expected, 25 of them lost.
  for (uint16_t q = 2; q < 102; ++q)
    if (q % 4 != 0) s.on_packet(q, q * 160u, at_us(q * 20'000));
  EXPECT_EQ(s.cumulative_lost(), 25);
  const ReportBlock b = s.make_report_block(0xABCD, 7, 9);
  EXPECT_EQ(b.ssrc, 0xABCDu);
  EXPECT_EQ(b.cumulative_lost, 25);
  EXPECT_EQ(b.extended_highest_seq, 101u);
  EXPECT_EQ(b.fraction_lost, 25 * 256 / 101);  // 25 of the 101 expected since start
  EXPECT_EQ(b.last_sr, 7u);
  EXPECT_EQ(b.delay_since_last_sr, 9u);

  // Next interval without loss: fraction 0, cumulative unchanged.
  for (uint16_t q = 102; q < 152; ++q) s.on_packet(q, q * 160u, at_us(q * 20'000));
  const ReportBlock b2 = s.make_report_block(0xABCD, 0, 0);
  EXPECT_EQ(b2.fraction_lost, 0);
  EXPECT_EQ(b2.cumulative_lost, 25);
}

TEST(ReceptionStats, DuplicatesMakeLossNegativeAndFractionZero) {
  ReceptionStats s(8000);
  int64_t now = 0;
  uint32_t ts = 0;
  feed(s, 10, 5, now, ts);
  s.on_packet(13, 0, at_us(now));
  s.on_packet(14, 0, at_us(now));
  EXPECT_EQ(s.cumulative_lost(), -2);
  const ReportBlock b = s.make_report_block(1, 0, 0);
  EXPECT_EQ(b.cumulative_lost, -2);
  EXPECT_EQ(b.fraction_lost, 0);
}

TEST(ReceptionStats, BigJumpIsBelievedOnlyWhenConfirmed) {
  ReceptionStats s(8000);
  int64_t now = 0;
  uint32_t ts = 0;
  feed(s, 1000, 10, now, ts);
  EXPECT_FALSE(s.on_packet(40000, 0, at_us(now)));  // a stray
  EXPECT_EQ(s.extended_highest_seq(), 1009u);
  EXPECT_TRUE(s.on_packet(40001, 0, at_us(now)));  // confirmed: the sender restarted
  EXPECT_EQ(s.extended_highest_seq(), 40001u);
  EXPECT_EQ(s.cumulative_lost(), 0);
}

TEST(ReceptionStats, JitterIsZeroForSteadyArrivalAndTracksVariation) {
  ReceptionStats steady(8000);
  int64_t now = 0;
  uint32_t ts = 0;
  feed(steady, 0, 200, now, ts);
  EXPECT_EQ(steady.jitter(), 0u);

  // Every other packet arrives 10 ms late: |D| = 80 units each time, J converges to 80.
  ReceptionStats s(8000);
  for (uint16_t q = 0; q < 500; ++q) {
    const int64_t arrival = q * 20'000LL + (q % 2 ? 10'000 : 0);
    s.on_packet(q, q * 160u, at_us(arrival));
  }
  EXPECT_NEAR(static_cast<double>(s.jitter()), 80.0, 2.0);
  EXPECT_NEAR(static_cast<double>(s.make_report_block(1, 0, 0).jitter), 80.0, 2.0);
}

TEST(ReceptionStats, ResetForgetsTheSource) {
  ReceptionStats s(8000);
  int64_t now = 0;
  uint32_t ts = 0;
  feed(s, 0, 20, now, ts);
  s.reset();
  EXPECT_FALSE(s.valid());
  EXPECT_EQ(s.received(), 0u);
  EXPECT_FALSE(s.on_packet(7000, 0, at_us(now)));  // probation again
}

}  // namespace
}  // namespace atende::rtp
