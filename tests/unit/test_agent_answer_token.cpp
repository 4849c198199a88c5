// AnswerToken: a bound callback posts its work through the host and the work runs on the
// "media thread" (the test's run_posted), unless the token was cancelled before the post
// or while the work waited; a new token is not affected by the old one's cancellation.
#include <gtest/gtest.h>

#include <thread>

#include "agent/answer_token.h"
#include "test_flow_fakes.h"

namespace atende::agent {
namespace {

using flow::testing::FakeHost;
using flow::testing::FakeLeg;
using flow::testing::FakePhrases;

struct TokenTest : ::testing::Test {
  FakeLeg leg;
  FakePhrases phrases;
  FakeHost host{leg, phrases};
};

TEST_F(TokenTest, BoundWorkRunsThroughTheHost) {
  AnswerToken token(host);
  int got = 0;
  auto cb = token.bind<int>([&](int v) { got = v; });
  std::thread([&] { cb(7); }).join();  // another thread reports
  EXPECT_EQ(got, 0);                   // not run there
  host.run_posted();
  EXPECT_EQ(got, 7);
}

TEST_F(TokenTest, CancelledBeforeThePostNothingIsPosted) {
  AnswerToken token(host);
  int runs = 0;
  auto cb = token.bind<int>([&](int) { ++runs; });
  token.cancel();
  cb(1);
  EXPECT_TRUE(host.posted.empty());
  EXPECT_TRUE(token.cancelled());
}

TEST_F(TokenTest, CancelledWhileQueuedTheWorkIsDropped) {
  AnswerToken token(host);
  int runs = 0;
  auto cb = token.bind<int>([&](int) { ++runs; });
  cb(1);
  token.cancel();
  host.run_posted();
  EXPECT_EQ(runs, 0);
}

TEST_F(TokenTest, ANewAnswerIsNotCancelledWithTheOld) {
  AnswerToken token(host);
  int old_runs = 0, new_runs = 0;
  auto old_cb = token.bind<int>([&](int) { ++old_runs; });
  token.cancel();
  token = AnswerToken(host);
  auto new_cb = token.bind<int>([&](int) { ++new_runs; });
  old_cb(1);
  new_cb(1);
  host.run_posted();
  EXPECT_EQ(old_runs, 0);
  EXPECT_EQ(new_runs, 1);
}

}  // namespace
}  // namespace atende::agent
