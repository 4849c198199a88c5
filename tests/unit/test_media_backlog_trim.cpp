// BacklogTrim (media/backlog_trim.h): a stream leg's inbound queue keeps no standing backlog
// (a stall's leftovers are dropped one window later), while bursts and jitter cost nothing.
#include <gtest/gtest.h>

#include "media/backlog_trim.h"

namespace atende::media {
namespace {

// Feeds `ticks` ticks that each leave `queued` frames; returns the frames dropped.
size_t run(BacklogTrim& trim, size_t queued, int ticks) {
  size_t dropped = 0;
  for (int i = 0; i < ticks; ++i) dropped += trim.on_tick(queued);
  return dropped;
}

TEST(BacklogTrim, AnEmptyOrNearEmptyQueueIsLeftAlone) {
  BacklogTrim trim;
  EXPECT_EQ(run(trim, 0, 100), 0u);
  EXPECT_EQ(run(trim, BacklogTrim::kKeepFrames, 100), 0u);
}

TEST(BacklogTrim, AStandingBacklogIsDroppedDownToTheKeptFramesAfterOneWindow) {
  BacklogTrim trim;
  // After a stall the queue holds 11 frames from then on (one in, one out per tick).
  for (int i = 0; i < BacklogTrim::kWindowTicks - 1; ++i) EXPECT_EQ(trim.on_tick(11), 0u);
  EXPECT_EQ(trim.on_tick(11), 11 - BacklogTrim::kKeepFrames);
  // Drained: what is left is within the bound, nothing more goes.
  EXPECT_EQ(run(trim, BacklogTrim::kKeepFrames, 5 * BacklogTrim::kWindowTicks), 0u);
}

TEST(BacklogTrim, BurstsThatDrainWithinTheWindowAreNotABacklog) {
  BacklogTrim trim;
  // Frames that come three at a time every three ticks: the queue goes 2, 1, 0 again and
  // again; the window always sees it empty.
  size_t dropped = 0;
  for (int i = 0; i < 30 * BacklogTrim::kWindowTicks; ++i) dropped += trim.on_tick(2 - i % 3);
  EXPECT_EQ(dropped, 0u);
}

TEST(BacklogTrim, OnlyTheSmallestDepthOfTheWindowCounts) {
  BacklogTrim trim;
  // A backlog of 6 with jitter on top (6..9): the 6 frames are the standing part.
  size_t dropped = 0;
  for (int i = 0; i < BacklogTrim::kWindowTicks; ++i) dropped += trim.on_tick(6 + i % 4);
  EXPECT_EQ(dropped, 6 - BacklogTrim::kKeepFrames);
}

TEST(BacklogTrim, ResetStartsTheWindowAgain) {
  BacklogTrim trim;
  run(trim, 0, BacklogTrim::kWindowTicks - 1);  // the window saw an empty queue ...
  trim.reset();                                 // ... then the queue was cut by other means
  EXPECT_EQ(run(trim, 5, BacklogTrim::kWindowTicks), 5 - BacklogTrim::kKeepFrames);
}

}  // namespace
}  // namespace atende::media
