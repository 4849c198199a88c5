// ReadPhase: how much earlier a leg's tick should come, from how long its packets waited in
// the socket. Pure arithmetic on given waits: no sockets, no clock.
#include <gtest/gtest.h>

#include "media/read_phase.h"

namespace atende::media {
namespace {

constexpr int64_t kMs = 1'000'000;

// A ReadPhase and whether its last window moved: after a move it ignores the first
// packets (they arrived before it), which window() then feeds as `others`.
struct Phase {
  ReadPhase phase;
  bool moved = false;
  int on_read(int64_t wait_ns) { return phase.on_read(wait_ns); }
};

// Feeds a whole window of waits (the last one `last`, the others `others`); the verdict.
int window(Phase& p, int64_t others, int64_t last) {
  const int skip = p.moved ? ReadPhase::kSkipAfterMove : 0;
  for (int i = 0; i < ReadPhase::kWindow - 1 + skip; ++i) EXPECT_EQ(p.on_read(others), 0);
  const int verdict = p.on_read(last);
  p.moved = verdict > 0;
  return verdict;
}

TEST(ReadPhase, SaysNothingBeforeAWholeWindow) {
  Phase p;
  for (int i = 0; i < ReadPhase::kWindow - 1; ++i) EXPECT_EQ(p.on_read(15 * kMs), 0);
}

TEST(ReadPhase, MovesByTheShortestWaitLessTheMargin) {
  Phase p;
  EXPECT_EQ(window(p, 12 * kMs, 12 * kMs), 11);
  // One packet of the window came later (waited less): it decides.
  EXPECT_EQ(window(p, 12 * kMs, 6'500'000), 5);
  // Packets read just before the next one arrives: most of a period (i.e. slightly later).
  EXPECT_EQ(window(p, 19'700'000, 19'900'000), 18);
}

TEST(ReadPhase, StaysWhenAlreadyCloseOrBackedUp) {
  Phase p;
  EXPECT_EQ(window(p, 10 * kMs, 2 * kMs), 0);     // one packet already read 2 ms after arrival
  EXPECT_EQ(window(p, 1'200'000, 1'200'000), 0);  // aligned
  EXPECT_EQ(window(p, 25 * kMs, 30 * kMs), 0);    // every packet waited a period: a backlog
  EXPECT_EQ(window(p, -5 * kMs, -1), 0);          // clock steps: no usable wait at all
}

TEST(ReadPhase, EachWindowStartsAfresh) {
  Phase p;
  EXPECT_EQ(window(p, 10 * kMs, 1 * kMs), 0);
  EXPECT_EQ(window(p, 10 * kMs, 10 * kMs), 9);  // the 1 ms of the last window is forgotten
}

// A far end that loops our packets back sends on our clock: a move shifts its packets too,
// so the wait never shrinks. The leg stops chasing it (a few moves a minute, not 120).
TEST(ReadPhase, RestsWhenMovesShortenNothing) {
  Phase p;
  int moves = 0;
  for (int w = 0; w < 120; ++w) moves += window(p, 19'800'000, 19'800'000) > 0;  // one minute
  EXPECT_GE(moves, ReadPhase::kFutileMoves);
  EXPECT_LE(moves, 10);
}

// The same, where the packet read first after each move is one that arrived before it
// and so waited only what the move left (it says nothing of the sender's phase).
TEST(ReadPhase, IgnoresThePacketsAMoveShortened) {
  Phase p;
  int moves = 0;
  for (int w = 0; w < 120; ++w) {
    int verdict = 0;
    for (int i = 0; i < ReadPhase::kWindow && verdict == 0; ++i) {
      verdict = p.on_read(i == 0 ? 1'500'000 : 19'800'000);
    }
    moves += verdict > 0;
  }
  EXPECT_LE(moves, 10);
}

// A useful move (the next window's packets wait less) never counts against the leg, so a
// real sender whose clock drifts keeps being followed.
TEST(ReadPhase, KeepsFollowingASenderThatDrifts) {
  Phase p;
  int moves = 0;
  for (int w = 0; w < 60; ++w) {
    moves += window(p, 12 * kMs, 12 * kMs) > 0;  // drifted: move
    EXPECT_EQ(window(p, 1 * kMs, 1 * kMs), 0);   // the move worked
  }
  EXPECT_EQ(moves, 60);
}

}  // namespace
}  // namespace atende::media
