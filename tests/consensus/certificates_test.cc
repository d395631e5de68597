// QC and TC formation and verification: each validator counts once, bad
// signatures never count, and a quorum is exactly n - f.
#include <gtest/gtest.h>

#include "consensus/aggregator.h"
#include "consensus_test_util.h"

namespace reel::consensus {
namespace {

using namespace testing;

struct Fixture {
  explicit Fixture(uint32_t n) : validators(TestValidators(n)) {
    genesis = MakeGenesisBlock(kChain, 1);
    ctx.chain_id = kChain;
    ctx.epoch = 1;
    ctx.validators = &validators;
    ctx.epoch_root_id = genesis.id;
    block = MakeBlock(genesis, MakeGenesisQc(genesis), 1, n, app);
  }
  ValidatorSet validators;
  TestApp app;
  Block genesis;
  Block block;
  VerifyContext ctx;
};

TEST(Quorum, SizesForTheSupportedValidatorCounts) {
  EXPECT_EQ(TestValidators(1).quorum(), 1u);
  EXPECT_EQ(TestValidators(4).f(), 1u);
  EXPECT_EQ(TestValidators(4).quorum(), 3u);
  EXPECT_EQ(TestValidators(7).quorum(), 5u);
  EXPECT_EQ(TestValidators(10).f(), 3u);
  EXPECT_EQ(TestValidators(10).quorum(), 7u);
}

TEST(VoteAggregator, FormsAtExactlyAQuorum) {
  Fixture fx(4);
  VoteAggregator agg;
  ASSERT_TRUE(agg.Add(SignVote(0, fx.block), fx.ctx));
  ASSERT_TRUE(agg.Add(SignVote(1, fx.block), fx.ctx));
  EXPECT_FALSE(agg.TryForm(1, fx.block.id, 1, fx.ctx).has_value());
  ASSERT_TRUE(agg.Add(SignVote(2, fx.block), fx.ctx));
  auto qc = agg.TryForm(1, fx.block.id, 1, fx.ctx);
  ASSERT_TRUE(qc.has_value());
  EXPECT_EQ(qc->signers.size(), 3u);
  EXPECT_OK(VerifyQc(*qc, fx.ctx));
  EXPECT_FALSE(agg.TryForm(1, fx.block.id, 1, fx.ctx).has_value());  // once only
}

TEST(VoteAggregator, DuplicatesDoNotCountTwice) {
  Fixture fx(4);
  VoteAggregator agg;
  EXPECT_TRUE(agg.Add(SignVote(0, fx.block), fx.ctx));
  EXPECT_FALSE(agg.Add(SignVote(0, fx.block), fx.ctx));
  EXPECT_TRUE(agg.Add(SignVote(1, fx.block), fx.ctx));
  EXPECT_FALSE(agg.Add(SignVote(1, fx.block), fx.ctx));
  EXPECT_FALSE(agg.TryForm(1, fx.block.id, 1, fx.ctx).has_value());
}

TEST(VoteAggregator, OnlyASignersFirstVoteOfARoundCounts) {
  Fixture fx(4);
  Block other = MakeBlock(fx.genesis, MakeGenesisQc(fx.genesis), 1, 4, fx.app, "other");
  VoteAggregator agg;
  EXPECT_TRUE(agg.Add(SignVote(0, fx.block), fx.ctx));
  EXPECT_FALSE(agg.Add(SignVote(0, other), fx.ctx));
  EXPECT_TRUE(agg.Add(SignVote(1, other), fx.ctx));
  EXPECT_TRUE(agg.Add(SignVote(2, other), fx.ctx));
  EXPECT_FALSE(agg.TryForm(1, other.id, 1, fx.ctx).has_value());  // 0's vote is for fx.block
}

TEST(VoteAggregator, PlantedDoubleCountFormsFromTwoValidators) {
  Fixture fx(4);
  fx.ctx.count_duplicate_signers = true;
  VoteAggregator agg;
  agg.Add(SignVote(0, fx.block), fx.ctx);
  agg.Add(SignVote(0, fx.block), fx.ctx);
  agg.Add(SignVote(1, fx.block), fx.ctx);
  EXPECT_TRUE(agg.TryForm(1, fx.block.id, 1, fx.ctx).has_value());
}

TEST(VerifyVote, RefusesBadSignatureAndWrongEpoch) {
  Fixture fx(4);
  Vote v = SignVote(1, fx.block);
  EXPECT_OK(VerifyVote(v, fx.ctx));
  Vote bad = v;
  bad.signature[5] ^= 1;
  EXPECT_FALSE(VerifyVote(bad, fx.ctx).ok());
  Vote other_signer = v;
  other_signer.signer = 2;
  EXPECT_FALSE(VerifyVote(other_signer, fx.ctx).ok());
  Vote other_epoch = v;
  other_epoch.epoch = 2;
  EXPECT_FALSE(VerifyVote(other_epoch, fx.ctx).ok());
  Vote out_of_range = v;
  out_of_range.signer = 9;
  EXPECT_FALSE(VerifyVote(out_of_range, fx.ctx).ok());
}

TEST(VerifyQc, AcceptsQuorumAndGenesis) {
  Fixture fx(4);
  EXPECT_OK(VerifyQc(MakeQc(fx.block, {0, 1, 2}), fx.ctx));
  EXPECT_OK(VerifyQc(MakeQc(fx.block, {3, 1, 2, 0}), fx.ctx));
  EXPECT_OK(VerifyQc(MakeGenesisQc(fx.genesis), fx.ctx));
}

TEST(VerifyQc, RefusesBelowQuorumDuplicatesBadSignaturesAndFakeGenesis) {
  Fixture fx(4);
  EXPECT_FALSE(VerifyQc(MakeQc(fx.block, {0, 1}), fx.ctx).ok());
  EXPECT_FALSE(VerifyQc(MakeQc(fx.block, {0, 1, 1}), fx.ctx).ok());
  QuorumCert bad = MakeQc(fx.block, {0, 1, 2});
  bad.signers[2].signature[0] ^= 1;
  EXPECT_EQ(VerifyQc(bad, fx.ctx).code(), Code::kUnauthenticated);
  QuorumCert moved = MakeQc(fx.block, {0, 1, 2});
  moved.round = 2;  // signatures were for round 1
  EXPECT_FALSE(VerifyQc(moved, fx.ctx).ok());
  QuorumCert other_epoch = MakeQc(fx.block, {0, 1, 2});
  other_epoch.epoch = 2;
  EXPECT_FALSE(VerifyQc(other_epoch, fx.ctx).ok());
  QuorumCert fake_genesis;
  fake_genesis.epoch = 1;
  fake_genesis.block_id = fx.block.id;
  EXPECT_FALSE(VerifyQc(fake_genesis, fx.ctx).ok());
}

TEST(TimeoutAggregator, FormsVerifiableTcAtQuorumCountingEachOnce) {
  Fixture fx(7);
  TimeoutAggregator agg;
  auto timeout = [&](uint32_t signer, uint64_t high_qc_round) {
    Timeout t;
    t.epoch = 1;
    t.round = 9;
    t.high_qc.round = high_qc_round;
    t.signer = signer;
    t.signature = TestKey(signer).SignDigest(TimeoutDigest(kChain, 1, 9, high_qc_round));
    return t;
  };
  for (uint32_t i = 0; i < 4; ++i) {
    EXPECT_TRUE(agg.Add(timeout(i, i), fx.ctx));
    EXPECT_FALSE(agg.Add(timeout(i, i), fx.ctx));
  }
  EXPECT_EQ(agg.Count(9), 4u);
  EXPECT_FALSE(agg.TryForm(9, fx.ctx).has_value());
  agg.Add(timeout(6, 2), fx.ctx);
  auto tc = agg.TryForm(9, fx.ctx);
  ASSERT_TRUE(tc.has_value());
  EXPECT_EQ(tc->MaxHighQcRound(), 3u);
  EXPECT_OK(VerifyTc(*tc, fx.ctx));
}

TEST(VerifyTc, RefusesBadSignaturesDuplicatesAndHighQcAtOrAboveRound) {
  Fixture fx(4);
  EXPECT_OK(VerifyTc(MakeTc(5, {{0, 1}, {1, 4}, {2, 0}}), fx.ctx));
  EXPECT_FALSE(VerifyTc(MakeTc(5, {{0, 1}, {1, 4}}), fx.ctx).ok());
  EXPECT_FALSE(VerifyTc(MakeTc(5, {{0, 1}, {1, 4}, {1, 4}}), fx.ctx).ok());
  EXPECT_FALSE(VerifyTc(MakeTc(5, {{0, 1}, {1, 5}, {2, 0}}), fx.ctx).ok());
  TimeoutCert lied = MakeTc(5, {{0, 1}, {1, 4}, {2, 0}});
  lied.signers[0].high_qc_round = 3;  // signed 1, claims 3
  EXPECT_FALSE(VerifyTc(lied, fx.ctx).ok());
}

}  // namespace
}  // namespace reel::consensus
