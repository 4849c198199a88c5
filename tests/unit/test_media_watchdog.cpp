// The RTP inactivity timeout's rule (media/media_watchdog.h).
#include <gtest/gtest.h>

#include "media/media_watchdog.h"

namespace atende::media {
namespace {

const MonoTime t0 = MonoTime{} + std::chrono::hours(1);
MonoTime at(int ms) { return t0 + Millis(ms); }

TEST(MediaWatchdog, NotArmedNeverExpires) {
  MediaWatchdog w(Millis{3000});
  EXPECT_FALSE(w.expired(at(100000)));  // no ACK yet: that is "no_ack"'s business
}

TEST(MediaWatchdog, ZeroTimeoutNeverExpires) {
  MediaWatchdog w(Millis{0});
  w.arm(at(0));
  EXPECT_FALSE(w.expired(at(10'000'000)));
}

TEST(MediaWatchdog, SilenceAfterArmingExpires) {
  MediaWatchdog w(Millis{3000});
  w.arm(at(0));
  EXPECT_FALSE(w.expired(at(3000)));
  EXPECT_TRUE(w.expired(at(3001)));
}

TEST(MediaWatchdog, PacketsKeepItAlive) {
  MediaWatchdog w(Millis{3000});
  w.arm(at(0));
  for (int t = 0; t <= 10000; t += 20) w.heard_rtp(at(t));
  EXPECT_FALSE(w.expired(at(12000)));
  EXPECT_TRUE(w.expired(at(13001)));
  w.heard_rtcp(at(13002));  // RTCP counts as a sign of life too
  EXPECT_FALSE(w.expired(at(16000)));
}

TEST(MediaWatchdog, ArmTwiceDoesNotMoveTheDeadline) {
  MediaWatchdog w(Millis{3000});
  w.arm(at(0));
  w.arm(at(2000));
  EXPECT_TRUE(w.expired(at(3001)));
}

TEST(MediaWatchdog, OnHoldWithoutRtcpIsSuspended) {
  MediaWatchdog w(Millis{3000});
  w.arm(at(0));
  w.set_hold(true, at(1000));
  EXPECT_FALSE(w.expired(at(1'000'000)));
  // Off hold: a full timeout from then on.
  w.set_hold(false, at(1'000'000));
  EXPECT_FALSE(w.expired(at(1'003'000)));
  EXPECT_TRUE(w.expired(at(1'003'001)));
}

TEST(MediaWatchdog, OnHoldAPeerThatSendsRtcpMustKeepSendingIt) {
  MediaWatchdog w(Millis{3000});
  w.arm(at(0));
  w.heard_rtcp(at(500));
  w.set_hold(true, at(1000));
  // Never sooner than the hold floor: RTCP comes every ~5 s.
  EXPECT_FALSE(w.expired(at(1000 + 20000)));
  w.heard_rtcp(at(21000));
  EXPECT_FALSE(w.expired(at(21000 + MediaWatchdog::kHoldFloor.count())));
  EXPECT_TRUE(w.expired(at(21001 + MediaWatchdog::kHoldFloor.count())));
}

TEST(MediaWatchdog, StartsOnHoldWhenTheOfferSaysSo) {
  MediaWatchdog w(Millis{3000});
  w.set_hold(true, at(0));
  w.arm(at(0));
  EXPECT_FALSE(w.expired(at(60000)));
}

}  // namespace
}  // namespace atende::media
