#include "consensus/safety_rules.h"

#include <gtest/gtest.h>

#include "consensus_test_util.h"

namespace reel::consensus {
namespace {

using testing::MakeTc;

BlockHeader Header(uint64_t round, uint64_t qc_round) {
  BlockHeader h;
  h.epoch = 1;
  h.round = round;
  h.qc_round = qc_round;
  return h;
}

SafetyRules Fresh(bool weak = false) {
  return SafetyRules(SafetyState{}, weak);
}

TEST(SafetyRules, VotesForBlockWhoseQcIsOfThePreviousRound) {
  SafetyRules rules = Fresh();
  EXPECT_OK(rules.CheckVote(Header(1, 0), std::nullopt));
  EXPECT_EQ(rules.state().highest_voted_round, 1u);
  EXPECT_OK(rules.CheckVote(Header(2, 1), std::nullopt));
}

TEST(SafetyRules, RefusesAnOldRound) {
  SafetyRules rules = Fresh();
  ASSERT_OK(rules.CheckVote(Header(5, 4), std::nullopt));
  EXPECT_FALSE(rules.CheckVote(Header(4, 3), std::nullopt).ok());
  EXPECT_EQ(rules.state().highest_voted_round, 5u);
}

TEST(SafetyRules, RefusesTheSameRoundTwice) {
  SafetyRules rules = Fresh();
  ASSERT_OK(rules.CheckVote(Header(3, 2), std::nullopt));
  EXPECT_FALSE(rules.CheckVote(Header(3, 2), std::nullopt).ok());
}

TEST(SafetyRules, PlantedWeakRuleVotesTwiceInARound) {
  SafetyRules rules = Fresh(/*weak=*/true);
  ASSERT_OK(rules.CheckVote(Header(3, 2), std::nullopt));
  EXPECT_OK(rules.CheckVote(Header(3, 2), std::nullopt));
}

TEST(SafetyRules, RefusesATimedOutRound) {
  SafetyRules rules = Fresh();
  ASSERT_OK(rules.CheckTimeout(4));
  EXPECT_FALSE(rules.CheckVote(Header(4, 3), std::nullopt).ok());
  EXPECT_FALSE(rules.CheckVote(Header(3, 2), std::nullopt).ok());
  EXPECT_OK(rules.CheckVote(Header(5, 3), MakeTc(4, {{0, 3}, {1, 2}, {2, 3}})));
}

TEST(SafetyRules, RefusesQcNotOfPreviousRoundWithoutTc) {
  SafetyRules rules = Fresh();
  EXPECT_FALSE(rules.CheckVote(Header(5, 3), std::nullopt).ok());
  EXPECT_EQ(rules.state().highest_voted_round, 0u);  // a refusal changes nothing
}

TEST(SafetyRules, AcceptsTcOfPreviousRoundWhenBlockQcIsHighEnough) {
  SafetyRules rules = Fresh();
  EXPECT_OK(rules.CheckVote(Header(5, 3), MakeTc(4, {{0, 3}, {1, 2}, {2, 1}})));
}

TEST(SafetyRules, RefusesTcWithHigherHighQcThanTheBlocksQc) {
  SafetyRules rules = Fresh();
  EXPECT_FALSE(rules.CheckVote(Header(5, 2), MakeTc(4, {{0, 3}, {1, 2}, {2, 1}})).ok());
}

TEST(SafetyRules, PlantedWeakTcRuleVotesBelowTheTcsHighQc) {
  SafetyRules rules(SafetyState{}, /*weak_vote_rule=*/false, /*weak_tc_rule=*/true);
  EXPECT_OK(rules.CheckVote(Header(5, 2), MakeTc(4, {{0, 3}, {1, 2}, {2, 1}})));
  EXPECT_FALSE(rules.CheckVote(Header(7, 2), std::nullopt).ok());  // a TC is still needed
}

TEST(SafetyRules, RefusesTcOfAnotherRound) {
  SafetyRules rules = Fresh();
  EXPECT_FALSE(rules.CheckVote(Header(6, 3), MakeTc(4, {{0, 3}, {1, 2}, {2, 1}})).ok());
}

TEST(SafetyRules, TimeoutNeverBelowASignedRound) {
  SafetyRules rules = Fresh();
  ASSERT_OK(rules.CheckVote(Header(5, 4), std::nullopt));
  EXPECT_FALSE(rules.CheckTimeout(4).ok());
  EXPECT_OK(rules.CheckTimeout(5));  // may give up on the round it voted in
  EXPECT_OK(rules.CheckTimeout(5));  // and say so again
  EXPECT_FALSE(rules.CheckTimeout(4).ok());
}

TEST(SafetyRules, ProposesOncePerRound) {
  SafetyRules rules = Fresh();
  EXPECT_OK(rules.CheckProposal(2));
  EXPECT_FALSE(rules.CheckProposal(2).ok());
  EXPECT_FALSE(rules.CheckProposal(1).ok());
}

TEST(SafetyRules, HighQcOnlyRises) {
  SafetyRules rules = Fresh();
  QuorumCert qc;
  qc.round = 4;
  EXPECT_TRUE(rules.ObserveQc(qc));
  qc.round = 3;
  EXPECT_FALSE(rules.ObserveQc(qc));
  EXPECT_EQ(rules.state().high_qc.round, 4u);
}

}  // namespace
}  // namespace reel::consensus
