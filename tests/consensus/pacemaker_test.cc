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

TEST(Pacemaker, GrowsWithTheStreakOfRoundsThatCertifiedNothingNotWithTheCountOfTcs) {
  Pacemaker pm(100, 1000);
  pm.Start(1, 0);
  pm.AdvanceOnQc(1, 10);  // round 2, right after a certified round
  EXPECT_EQ(pm.duration_ms(), 100u);
  // Round 2's leader is dead: its TC takes us to round 3, one round short of a QC.
  pm.AdvanceOnTc(testing::MakeTc(2, {{0, 1}, {1, 1}, {2, 1}}), 110);
  EXPECT_EQ(pm.round(), 3u);
  EXPECT_EQ(pm.duration_ms(), 150u);
  // Round 3 certifies its block, but the TC of round 3 arrives first (its voters timed
  // out): two rounds short for now...
  pm.AdvanceOnTc(testing::MakeTc(3, {{0, 1}, {1, 1}, {2, 1}}), 260);
  EXPECT_EQ(pm.round(), 4u);
  EXPECT_EQ(pm.duration_ms(), 225u);
  EXPECT_EQ(pm.deadline_ms(), 485u);
  // ...and round 3's QC a moment later: round 4 follows a certified round.
  EXPECT_FALSE(pm.AdvanceOnQc(3, 265));
  EXPECT_EQ(pm.duration_ms(), 100u);
  EXPECT_EQ(pm.deadline_ms(), 360u);  // from when the round began
  // A partition: rounds that certify nothing, one after another, back off to the cap.
  uint64_t now = 360;
  uint64_t last = pm.duration_ms();
  for (uint64_t r = 4; r < 12; ++r) {
    pm.AdvanceOnTc(testing::MakeTc(r, {{0, 3}, {1, 3}, {2, 3}}), now);
    now += pm.duration_ms();
    EXPECT_GT(pm.duration_ms(), last) << "round " << pm.round();
    last = pm.duration_ms();
    if (last == 1000u) break;
  }
  EXPECT_EQ(pm.duration_ms(), 1000u);
  // A restart in round 20 holding a QC of round 12: seven rounds of streak.
  Pacemaker restarted(100, 1000);
  restarted.Start(20, 0, 12);
  EXPECT_EQ(restarted.duration_ms(), 1000u);  // 100 x 1.5^7, capped
  restarted.Start(13, 0, 12);
  EXPECT_EQ(restarted.duration_ms(), 100u);
}

TEST(Pacemaker, GrowsByTheBackoffTheChainSets) {
  Pacemaker doubling(100, 10'000, 0, 200);
  doubling.Start(1, 0);
  doubling.AdvanceOnQc(1, 10);
  EXPECT_EQ(doubling.duration_ms(), 100u);
  for (uint64_t r = 2, expected = 200; r < 6; ++r, expected *= 2) {
    doubling.AdvanceOnTc(testing::MakeTc(r, {{0, 1}, {1, 1}, {2, 1}}), 100 * r);
    EXPECT_EQ(doubling.duration_ms(), expected) << "round " << doubling.round();
  }
  // x1.01 still grows each round, by at least a millisecond.
  Pacemaker slow(50, 10'000, 0, 101);
  slow.Start(4, 0, 1);
  EXPECT_EQ(slow.duration_ms(), 52u);
}

TEST(Pacemaker, AdaptsToObservedRoundsWithinFloorAndInitialAndAllowsForAnIdleLeader) {
  Pacemaker pm(1000, 8000, 250);
  pm.Start(1, 0);
  uint64_t now = 0;
  // Until kSamplesMin rounds were seen: the initial value.
  for (uint64_t r = 1; r < Pacemaker::kSamplesMin; ++r) {
    now += 100;
    pm.AdvanceOnQc(r, now);
    EXPECT_EQ(pm.duration_ms(), 1000u) << "round " << r;
  }
  // Then three times the longest recent round: 3 x 100.
  now += 100;
  pm.AdvanceOnQc(Pacemaker::kSamplesMin, now);
  EXPECT_EQ(pm.duration_ms(), 300u);
  EXPECT_EQ(pm.deadline_ms(), now + 300);
  // Not below the floor, however fast the rounds.
  for (uint64_t r = Pacemaker::kSamplesMin + 1;
       r < Pacemaker::kSamplesMin + 1 + Pacemaker::kSamples; ++r) {
    now += 10;
    pm.AdvanceOnQc(r, now);
  }
  EXPECT_EQ(pm.duration_ms(), 250u);
  // An idle chain's leader waits on purpose: that wait is added.
  now += 10;
  pm.AdvanceOnQc(pm.round(), now, 500);
  EXPECT_EQ(pm.duration_ms(), 750u);
  // Not above the initial value: a slow network keeps what it had.
  for (int k = 0; k < 20; ++k) {
    now += 900;
    pm.AdvanceOnQc(pm.round(), now);
  }
  EXPECT_EQ(pm.duration_ms(), 1000u);
  // A TC backs off from there, as before.
  const uint64_t r = pm.round();
  pm.AdvanceOnTc(testing::MakeTc(r, {{0, 0}, {1, 0}, {2, 0}}), now + 1000);
  EXPECT_EQ(pm.duration_ms(), 1500u);
  // A QC that catches up from far behind is not a round this replica saw whole.
  pm.AdvanceOnQc(pm.round() + 5, now + 1001);
  EXPECT_EQ(pm.duration_ms(), 1000u);
}

}  // namespace
}  // namespace reel::consensus
