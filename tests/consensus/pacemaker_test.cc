#include "consensus/pacemaker.h"

#include <gtest/gtest.h>

#include "consensus_test_util.h"

namespace reel::consensus {
namespace {

TEST(Pacemaker, EntersNextRoundOnQcOrTcAndNeverGoesBack) {
  Pacemaker pm(100, 1000);
  pm.Start(1, 0);
  EXPECT_TRUE(pm.AdvanceOnQc(1, 10));
  EXPECT_EQ(pm.round(), 2u);
  EXPECT_FALSE(pm.AdvanceOnQc(0, 10));
  EXPECT_EQ(pm.round(), 2u);
  TimeoutCert tc = testing::MakeTc(5, {{0, 1}, {1, 1}, {2, 1}});
  EXPECT_TRUE(pm.AdvanceOnTc(tc, 20));
  EXPECT_EQ(pm.round(), 6u);
  EXPECT_EQ(pm.high_tc()->round, 5u);
  EXPECT_FALSE(pm.AdvanceOnTc(testing::MakeTc(3, {{0, 1}, {1, 1}, {2, 1}}), 30));
  EXPECT_EQ(pm.high_tc()->round, 5u);
}

TEST(Pacemaker, BacksOffByHalfAfterTimeoutsCappedAndResetsAfterQc) {
  Pacemaker pm(100, 300);
  pm.Start(1, 0);
  EXPECT_EQ(pm.deadline_ms(), 100u);
  EXPECT_FALSE(pm.Expired(99));
  EXPECT_TRUE(pm.Expired(100));
  pm.AdvanceOnTc(testing::MakeTc(1, {{0, 0}, {1, 0}, {2, 0}}), 100);
  EXPECT_EQ(pm.duration_ms(), 150u);
  EXPECT_EQ(pm.deadline_ms(), 250u);
  pm.AdvanceOnTc(testing::MakeTc(2, {{0, 0}, {1, 0}, {2, 0}}), 250);
  EXPECT_EQ(pm.duration_ms(), 225u);
  pm.AdvanceOnTc(testing::MakeTc(3, {{0, 0}, {1, 0}, {2, 0}}), 500);
  EXPECT_EQ(pm.duration_ms(), 300u);  // capped
  pm.AdvanceOnQc(4, 600);
  EXPECT_EQ(pm.duration_ms(), 100u);
  EXPECT_EQ(pm.deadline_ms(), 700u);
  pm.Rearm(650);
  EXPECT_EQ(pm.deadline_ms(), 750u);
}

}  // namespace
}  // namespace reel::consensus
