// The core driven by hand: which proposals it votes for, what it commits, and
// that a restart with its persisted safety state never signs twice.
#include "consensus/core.h"

#include <gtest/gtest.h>

#include "consensus_test_util.h"

namespace reel::consensus {
namespace {

using namespace testing;

constexpr uint32_t kN = 4;
constexpr uint32_t kSelf = 2;  // leads round 2, votes in round 1
constexpr uint64_t kNow = 1000;

class CoreTest : public ::testing::Test {
 protected:
  CoreTest() : genesis_(MakeGenesisBlock(kChain, 1)) { Restart(std::nullopt); }

  void Restart(std::optional<SafetyState> safety, PlantedBug bug = PlantedBug::kNone) {
    core_ = std::make_unique<Core>(TestConfig(kN, kSelf, bug), TestKey(kSelf), &app_);
    StartState start = FreshStart();
    start.safety = std::move(safety);
    core_->OnStart(start, kNow);
  }
  // Block of `round` on `parent`, certified by all four.
  Block On(const Block& parent, uint64_t round, const std::string& tx = "tx") {
    QuorumCert qc =
        parent.header.height == 0 ? MakeGenesisQc(parent) : MakeQc(parent, {0, 1, 2, 3});
    return MakeBlock(parent, qc, round, kN, ref_, tx);
  }
  // Executes `b` on the reference application, whose roots On() writes into
  // headers, the way every honest replica executes it once committed.
  void RefCommit(const Block& b) {
    QuorumCert qc;
    qc.block_id = b.id;
    ref_.ExecuteCommitted(b, qc);
  }
  std::optional<SafetyState> LastPersisted(const Step& step) {
    auto p = ActionsOf<Persist>(step);
    if (p.empty()) return std::nullopt;
    return p.back().state;
  }

  TestApp app_;
  TestApp ref_;
  Block genesis_;
  std::unique_ptr<Core> core_;
};

TEST_F(CoreTest, VotesForAValidProposalAndPersistsBeforeSending) {
  Block b1 = On(genesis_, 1);
  Step step = core_->OnProposal(1, SignProposal(b1));
  ASSERT_OK(step.status);
  auto votes = VotesIn(step);
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0].block_id, b1.id);
  // The block is stored, then the safety state persisted, then the vote sent.
  ASSERT_EQ(step.actions.size(), 3u);
  EXPECT_EQ(std::get<StoreBlock>(step.actions[0]).block.id, b1.id);
  EXPECT_EQ(std::get<Persist>(step.actions[1]).state.highest_voted_round, 1u);
  EXPECT_EQ(std::get<Send>(step.actions[2]).to, 2u);  // leader of round 2
}

TEST_F(CoreTest, PlantedVoteBeforePersistSendsFirst) {
  Restart(std::nullopt, PlantedBug::kVoteBeforePersist);
  Step step = core_->OnProposal(1, SignProposal(On(genesis_, 1)));
  ASSERT_EQ(step.actions.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<Send>(step.actions[1]));
  EXPECT_TRUE(std::holds_alternative<Persist>(step.actions[2]));
}

TEST_F(CoreTest, RefusesBadSignature) {
  Proposal p = SignProposal(On(genesis_, 1));
  p.signature[10] ^= 1;
  Step step = core_->OnProposal(1, p);
  EXPECT_EQ(step.status.code(), Code::kUnauthenticated);
  EXPECT_TRUE(VotesIn(step).empty());
}

TEST_F(CoreTest, RefusesAlteredBlockUnderAValidSignature) {
  Proposal p = SignProposal(On(genesis_, 1));
  p.block.header.timestamp_ms += 1;  // the id is recomputed: the signature no longer fits
  EXPECT_TRUE(VotesIn(core_->OnProposal(1, p)).empty());
}

TEST_F(CoreTest, RefusesWrongEpoch) {
  Block b1 = On(genesis_, 1);
  b1.header.epoch = 2;
  b1.Seal(kChain);
  Step step = core_->OnProposal(1, SignProposal(b1));
  EXPECT_FALSE(step.status.ok());
  EXPECT_TRUE(VotesIn(step).empty());
}

TEST_F(CoreTest, RefusesWrongProposer) {
  Block b1 = On(genesis_, 1);
  b1.header.proposer_index = 3;
  b1.Seal(kChain);
  Step step = core_->OnProposal(3, SignProposal(b1));
  EXPECT_EQ(step.status.code(), Code::kPermissionDenied);
  EXPECT_TRUE(VotesIn(step).empty());
}

TEST_F(CoreTest, RefusesTheSameRoundTwice) {
  ASSERT_EQ(VotesIn(core_->OnProposal(1, SignProposal(On(genesis_, 1, "a")))).size(), 1u);
  Step second = core_->OnProposal(1, SignProposal(On(genesis_, 1, "b")));
  EXPECT_TRUE(VotesIn(second).empty());
  EXPECT_FALSE(second.status.ok());
}

TEST_F(CoreTest, RefusesAnOldRound) {
  Block b1 = On(genesis_, 1);
  Block b2 = On(b1, 2);
  RefCommit(b1);
  Block b3 = On(b2, 3);
  ASSERT_EQ(VotesIn(core_->OnProposal(3, SignProposal(b3))).size(), 0u);  // parent unknown yet
  core_->OnBlocksFetched(3, {b1, b2});  // b3 resumes: round 3 now current
  EXPECT_EQ(core_->round(), 3u);
  EXPECT_EQ(core_->safety_state().highest_voted_round, 3u);
  Step late = core_->OnProposal(1, SignProposal(On(genesis_, 1, "late")));
  EXPECT_TRUE(VotesIn(late).empty());
}

TEST_F(CoreTest, RefusesATimedOutRound) {
  Step tick = core_->OnTick(kNow + 1000);
  auto broadcasts = ActionsOf<Broadcast>(tick);
  ASSERT_EQ(broadcasts.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<Timeout>(broadcasts[0].message));
  EXPECT_TRUE(std::holds_alternative<Persist>(tick.actions[0]));
  EXPECT_TRUE(VotesIn(core_->OnProposal(1, SignProposal(On(genesis_, 1)))).empty());
}

TEST_F(CoreTest, ItsVoteIsBroadcastBeforeTheTimeoutWhenTheRoundTimesOut) {
  ASSERT_EQ(VotesIn(core_->OnProposal(1, SignProposal(On(genesis_, 1)))).size(), 1u);
  Step tick = core_->OnTick(kNow + 1000);
  auto broadcasts = ActionsOf<Broadcast>(tick);
  ASSERT_EQ(broadcasts.size(), 2u);
  ASSERT_TRUE(std::holds_alternative<Vote>(broadcasts[0].message));
  EXPECT_EQ(std::get<Vote>(broadcasts[0].message).round, 1u);
  EXPECT_TRUE(std::holds_alternative<Timeout>(broadcasts[1].message));
  // Re-sent with the timeout while the round lasts.
  EXPECT_EQ(ActionsOf<Broadcast>(core_->OnTick(kNow + 2500)).size(), 2u);
}

TEST_F(CoreTest, AReplicaThatDoesNotLeadNextFormsTheQcFromBroadcastVotes) {
  Block b1 = On(genesis_, 1);
  ASSERT_OK(core_->OnProposal(1, SignProposal(b1)).status);
  Block b2 = On(b1, 2);
  ASSERT_EQ(b2.header.proposer_index, kSelf);
  Step voted = core_->OnProposal(kSelf, SignProposal(b2));
  ASSERT_EQ(VotesIn(voted).size(), 1u);
  ASSERT_EQ(VotesIn(voted)[0].round, 2u);
  ASSERT_EQ(ActionsOf<Send>(voted).size(), 1u);
  EXPECT_EQ(ActionsOf<Send>(voted)[0].to, 3u);  // round 3's leader, not us
  core_->OnVote(kSelf, VotesIn(voted)[0]);
  // Validator 3, the next leader, is down: the others broadcast their votes at their timeout.
  ASSERT_OK(core_->OnVote(0, SignVote(0, b2)).status);
  EXPECT_EQ(core_->round(), 2u);
  Step formed = core_->OnVote(1, SignVote(1, b2));
  ASSERT_OK(formed.status);
  EXPECT_EQ(core_->round(), 3u);
  // Rounds 1 and 2 are consecutive: b1 is committed here too.
  auto commits = ActionsOf<Commit>(formed);
  ASSERT_EQ(commits.size(), 1u);
  EXPECT_EQ(commits[0].blocks.back().block.id, b1.id);
}

TEST_F(CoreTest, VotesToEveryoneWhenTheNextLeaderWasSilentSinceTheNewestTc) {
  // Round 3 timed out; validator 1, who leads round 5, signed none of the TC.
  Block b4 = On(genesis_, 4);
  ASSERT_EQ(b4.header.proposer_index, 0u);
  Step step = core_->OnProposal(0, SignProposal(b4, MakeTc(3, {{0, 0}, {2, 0}, {3, 0}})));
  ASSERT_OK(step.status);
  EXPECT_TRUE(VotesIn(step).empty());
  auto broadcasts = ActionsOf<Broadcast>(step);
  ASSERT_EQ(broadcasts.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<Vote>(broadcasts[0].message));
  EXPECT_EQ(std::get<Vote>(broadcasts[0].message).round, 4u);
  EXPECT_EQ(core_->votes_broadcast(), 1u);

  // The same with validator 1 in the TC: to validator 1 alone.
  Restart(std::nullopt);
  step = core_->OnProposal(0, SignProposal(b4, MakeTc(3, {{0, 0}, {1, 0}, {2, 0}})));
  ASSERT_OK(step.status);
  ASSERT_EQ(VotesIn(step).size(), 1u);
  EXPECT_EQ(ActionsOf<Send>(step)[0].to, 1u);
  EXPECT_TRUE(ActionsOf<Broadcast>(step).empty());
}

TEST_F(CoreTest, RefusesQcNotOfPreviousRoundWithoutTc) {
  Block b2 = On(genesis_, 2);  // QC of round 0 in round 2
  Step step = core_->OnProposal(2, SignProposal(b2));
  EXPECT_TRUE(VotesIn(step).empty());
  // The same block justified by a TC of round 1 is fine.
  Step with_tc = core_->OnProposal(2, SignProposal(b2, MakeTc(1, {{0, 0}, {1, 0}, {3, 0}})));
  EXPECT_EQ(VotesIn(with_tc).size(), 1u) << with_tc.status.ToString();
}

TEST_F(CoreTest, RefusesTcWithHigherHighQcThanTheBlocksQc) {
  Block b1 = On(genesis_, 1);
  core_->OnProposal(1, SignProposal(b1));
  // Round 2 timed out; one replica reported a QC of round 1, yet the block
  // of round 3 extends genesis (QC round 0).
  Block b3 = On(genesis_, 3);
  Step step = core_->OnProposal(3, SignProposal(b3, MakeTc(2, {{0, 1}, {1, 0}, {3, 0}})));
  EXPECT_TRUE(VotesIn(step).empty());
}

TEST_F(CoreTest, RefusesHeaderWithAnotherStateRoot) {
  Block b1 = On(genesis_, 1);
  Block b2 = On(b1, 2);
  RefCommit(b1);
  Block b3 = On(b2, 3);
  RefCommit(b2);
  Block b4 = On(b3, 4);  // QC(b3) commits b2 (b3.round == b2.round + 1)
  EXPECT_EQ(b4.header.committed_height, 2u);
  core_->OnBlocksFetched(1, {b1, b2, b3});
  ASSERT_EQ(core_->committed_height(), 1u);  // QC(b2) committed b1
  Block forged = b4;
  forged.header.committed_state_root[0] ^= 1;
  forged.Seal(kChain);
  Step step = core_->OnProposal(0, SignProposal(forged));
  EXPECT_EQ(step.status.code(), Code::kFailedPrecondition) << step.status.ToString();
  EXPECT_TRUE(VotesIn(step).empty());
  EXPECT_EQ(core_->committed_height(), 2u);  // executed up to b2 before judging the root
  Step honest = core_->OnProposal(0, SignProposal(b4));
  EXPECT_EQ(VotesIn(honest).size(), 1u) << honest.status.ToString();
}

TEST_F(CoreTest, RefusesWrongCommittedHeight) {
  Block b1 = On(genesis_, 1);
  core_->OnBlocksFetched(1, {b1});
  Block b2 = On(b1, 2);
  b2.header.committed_height = 1;  // nothing beyond genesis is committed in b2's chain
  b2.Seal(kChain);
  EXPECT_TRUE(VotesIn(core_->OnProposal(2, SignProposal(b2))).empty());
}

TEST_F(CoreTest, RefusesTimestampNotAfterParentOrFarAhead) {
  Block b1 = On(genesis_, 1);
  b1.header.timestamp_ms = kNow + 1'000'000;
  b1.Seal(kChain);
  EXPECT_TRUE(VotesIn(core_->OnProposal(1, SignProposal(b1))).empty());
  Block b0 = On(genesis_, 1);
  b0.header.timestamp_ms = 0;  // genesis is at 0
  b0.Seal(kChain);
  EXPECT_TRUE(VotesIn(core_->OnProposal(1, SignProposal(b0))).empty());
}

TEST_F(CoreTest, TwoConsecutiveRoundsCommit) {
  Block b1 = On(genesis_, 1);
  Block b2 = On(b1, 2);
  RefCommit(b1);
  Block b3 = On(b2, 3);
  core_->OnBlocksFetched(1, {b1, b2});
  EXPECT_EQ(core_->committed_height(), 0u);  // QC(b1) alone commits nothing
  Step step = core_->OnBlocksFetched(1, {b3});
  EXPECT_OK(step.status);  // QC(b2), b2.round = b1.round + 1
  EXPECT_EQ(core_->committed_height(), 1u);
  auto commits = ActionsOf<Commit>(step);
  ASSERT_EQ(commits.size(), 1u);
  ASSERT_EQ(commits[0].blocks.size(), 1u);
  EXPECT_EQ(commits[0].blocks[0].block.id, b1.id);
  EXPECT_EQ(commits[0].blocks[0].qc.block_id, b1.id);
  // The commit proof of b1: its child b2, one round above, and QC(b2) from b3.
  ASSERT_EQ(commits[0].descendants.size(), 1u);
  EXPECT_EQ(commits[0].descendants[0].parent_id, b1.id);
  EXPECT_EQ(commits[0].descendants[0].round, b1.header.round + 1);
  EXPECT_EQ(commits[0].block_qc.block_id, b1.id);
  EXPECT_EQ(commits[0].child_qc.block_id, b2.id);
  EXPECT_EQ(commits[0].child_qc.round, b2.header.round);
  ASSERT_EQ(app_.executed.size(), 1u);
  EXPECT_EQ(app_.executed[0].id, b1.id);
}

TEST_F(CoreTest, BlocksExecutedBySyncReRootTheCore) {
  Block b1 = On(genesis_, 1);
  Block b2 = On(b1, 2);
  RefCommit(b1);
  Block b3 = On(b2, 3);
  // Block sync executed b1 and b2 through the application, behind the core's back.
  app_.ExecuteCommitted(b1, MakeQc(b1, {0, 1, 2, 3}));
  app_.ExecuteCommitted(b2, MakeQc(b2, {0, 1, 2, 3}));
  const uint64_t round_before = core_->round();
  StartState synced;
  synced.committed_block = b2;
  synced.committed_qc = MakeQc(b2, {0, 1, 2, 3});
  Step step = core_->OnSynced(synced, kNow + 10);
  ASSERT_OK(step.status);
  EXPECT_EQ(core_->committed_height(), 2u);
  EXPECT_GE(core_->round(), round_before);
  EXPECT_EQ(core_->round(), 3u);        // the QC on b2 ends round 2
  EXPECT_EQ(app_.executed.size(), 2u);  // nothing executed twice
  // It votes on the chain above the synced block at once.
  auto votes = VotesIn(core_->OnProposal(3, SignProposal(b3)));
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0].block_id, b3.id);
}

TEST_F(CoreTest, NonConsecutiveRoundsDoNotCommit) {
  Block b1 = On(genesis_, 1);
  Block b3 = On(b1, 3);  // round 2 timed out
  Block b4 = On(b3, 4);  // QC(b3): b3.round != b1.round + 1: no commit
  Step first = core_->OnBlocksFetched(1, {b1, b3, b4});
  EXPECT_OK(first.status);
  EXPECT_EQ(core_->committed_height(), 0u);
  RefCommit(b1);
  RefCommit(b3);
  Block b5 = On(b4, 5);  // QC(b4): b4.round == b3.round + 1: commits b1 and b3
  Step step = core_->OnBlocksFetched(1, {b5});
  EXPECT_OK(step.status);
  EXPECT_EQ(core_->committed_height(), 2u);
  ASSERT_EQ(app_.executed.size(), 2u);
  EXPECT_EQ(app_.executed[0].id, b1.id);
  EXPECT_EQ(app_.executed[1].id, b3.id);
}

TEST_F(CoreTest, PlantedWeakCommitRuleCommitsAcrossASkippedRound) {
  Restart(std::nullopt, PlantedBug::kWeakCommitRule);
  Block b1 = On(genesis_, 1);
  Block b3 = On(b1, 3);  // round 2 timed out
  Block b4 = On(b3, 4);  // QC(b3) commits b1 although round 2 lies between them
  EXPECT_OK(core_->OnBlocksFetched(1, {b1, b3, b4}).status);
  EXPECT_EQ(core_->committed_height(), 1u);
  ASSERT_EQ(app_.executed.size(), 1u);
  EXPECT_EQ(app_.executed[0].id, b1.id);
}

TEST_F(CoreTest, FetchedBlocksWithBadQcAreRefused) {
  Block b1 = On(genesis_, 1);
  Block b2 = On(b1, 2);
  b2.qc.signers[0].signature[3] ^= 1;
  core_->OnBlocksFetched(1, {b1});
  Step step = core_->OnBlocksFetched(1, {b2});
  EXPECT_FALSE(step.status.ok());
  EXPECT_EQ(core_->tree().Find(b2.id), nullptr);
}

TEST_F(CoreTest, MissingParentIsFetchedThenVotedOn) {
  Block b1 = On(genesis_, 1);
  Block b2 = On(b1, 2);
  Step step = core_->OnProposal(2, SignProposal(b2));
  auto fetches = ActionsOf<FetchBlocks>(step);
  ASSERT_EQ(fetches.size(), 1u);
  EXPECT_EQ(fetches[0].block_id, b1.id);
  EXPECT_EQ(fetches[0].from_peer, 2u == kSelf ? 3u : 2u);
  Step fetched = core_->OnBlocksFetched(fetches[0].from_peer, {b1});
  auto votes = VotesIn(fetched);
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0].block_id, b2.id);
}

TEST_F(CoreTest, RestartWithPersistedStateNeverSignsTwiceInARound) {
  Step voted = core_->OnProposal(1, SignProposal(On(genesis_, 1, "a")));
  ASSERT_EQ(VotesIn(voted).size(), 1u);
  std::optional<SafetyState> persisted = LastPersisted(voted);
  ASSERT_TRUE(persisted.has_value());
  Restart(persisted);
  EXPECT_TRUE(VotesIn(core_->OnProposal(1, SignProposal(On(genesis_, 1, "b")))).empty());
  EXPECT_TRUE(VotesIn(core_->OnProposal(1, SignProposal(On(genesis_, 1, "a")))).empty());
  // Time out in round 1 too, crash, restart: still no vote in round 1.
  Step tick = core_->OnTick(kNow + 5000);
  persisted = LastPersisted(tick);
  ASSERT_TRUE(persisted.has_value());
  EXPECT_EQ(persisted->highest_timeout_round, 1u);
  Restart(persisted);
  EXPECT_TRUE(VotesIn(core_->OnProposal(1, SignProposal(On(genesis_, 1, "c")))).empty());
}

TEST_F(CoreTest, FarFutureVotesAndTimeoutsAreDropped) {
  Block b1 = On(genesis_, 1);
  Vote far = SignVote(0, b1);
  far.round = 1 + limits::consensus_future_rounds_max * 4;  // kSelf leads round far.round+1
  far.signature = TestKey(0).SignDigest(VoteDigest(kChain, 1, b1.id, far.round));
  EXPECT_EQ(core_->OnVote(0, far).status.code(), Code::kResourceExhausted);
  Timeout t;
  t.epoch = 1;
  t.round = 1000;
  t.high_qc = MakeGenesisQc(genesis_);
  t.signer = 0;
  t.signature = TestKey(0).SignDigest(TimeoutDigest(kChain, 1, 1000, 0));
  EXPECT_EQ(core_->OnTimeout(0, t).status.code(), Code::kResourceExhausted);
}

TEST_F(CoreTest, JoinsALaterRoundOnFPlusOneTimeouts) {
  auto timeout = [&](uint32_t signer, uint64_t round) {
    Timeout t;
    t.epoch = 1;
    t.round = round;
    t.high_qc = MakeGenesisQc(genesis_);
    t.signer = signer;
    t.signature = TestKey(signer).SignDigest(TimeoutDigest(kChain, 1, round, 0));
    return t;
  };
  // Two replicas restarted into round 5 with no TC to show for it.
  EXPECT_TRUE(ActionsOf<Broadcast>(core_->OnTimeout(0, timeout(0, 5))).empty());
  Step joined = core_->OnTimeout(1, timeout(1, 5));
  EXPECT_EQ(core_->round(), 5u);
  auto sent = ActionsOf<Broadcast>(joined);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(std::get<Timeout>(sent[0].message).round, 5u);
  // With our own timeout the round has a TC: on to round 6.
  core_->OnTimeout(kSelf, std::get<Timeout>(sent[0].message));
  EXPECT_EQ(core_->round(), 6u);
}

TEST_F(CoreTest, LeaderProposesOncePerRoundAcrossRestarts) {
  Block b1 = On(genesis_, 1);
  ASSERT_EQ(VotesIn(core_->OnProposal(1, SignProposal(b1))).size(), 1u);
  Step formed;  // replica 2 leads round 2: a QC for b1 makes it propose
  for (uint32_t v : {0u, 1u, 3u}) formed = core_->OnVote(v, SignVote(v, b1));
  ASSERT_EQ(ActionsOf<Broadcast>(formed).size(), 1u);
  EXPECT_TRUE(std::holds_alternative<Persist>(formed.actions[0]));
  std::optional<SafetyState> persisted = LastPersisted(formed);
  ASSERT_TRUE(persisted.has_value());
  EXPECT_EQ(persisted->highest_proposed_round, 2u);
  Restart(persisted);
  core_->OnProposal(1, SignProposal(b1));
  Step again;
  for (uint32_t v : {0u, 1u, 3u}) again = core_->OnVote(v, SignVote(v, b1));
  EXPECT_EQ(core_->round(), 2u);
  EXPECT_TRUE(ActionsOf<Broadcast>(again).empty());
}

// An application whose mempool holds `txs`.
class MempoolApp : public TestApp {
 public:
  std::vector<std::string> PayloadForProposal(const std::vector<const Block*>&,
                                              const PayloadLimits& block_limits) override {
    asked = block_limits;
    return txs;
  }
  std::vector<std::string> txs;
  PayloadLimits asked;
};

// Block `b` with `txs` as its payload, header and seal to match.
Block WithPayload(Block b, std::vector<std::string> txs) {
  std::vector<Hash32> leaves;
  for (const std::string& tx : txs) leaves.push_back(crypto::Blake2b256(tx));
  b.payload = std::move(txs);
  b.header.tx_root = crypto::MerkleRoot(leaves);
  b.header.tx_count = static_cast<uint32_t>(b.payload.size());
  b.Seal(kChain);
  return b;
}

TEST(CoreLimits, VotersHoldBlocksToTheEpochsLimitsAndALeaderAsksForNoMore) {
  const Block genesis = MakeGenesisBlock(kChain, 1);
  TestApp ref;
  const Block b1 = MakeBlock(genesis, MakeGenesisQc(genesis), 1, kN, ref);
  const Block three = WithPayload(b1, {"tx-a", "tx-b", "tx-c"});
  const Block large = WithPayload(b1, {std::string(limits::block_bytes_min + 1, 'x')});
  auto votes_for = [&](const Block& block, size_t txs_max, size_t bytes_max) {
    TestApp app;
    Config config = TestConfig(kN, kSelf);
    config.block_txs_max = txs_max;
    config.block_bytes_max = bytes_max;
    Core core(config, TestKey(kSelf), &app);
    core.OnStart(FreshStart(), kNow);
    return VotesIn(core.OnProposal(1, SignProposal(block))).size();
  };
  EXPECT_EQ(votes_for(three, 3, limits::block_bytes_max), 1u);
  EXPECT_EQ(votes_for(three, 2, limits::block_bytes_max), 0u) << "three transactions, limit two";
  EXPECT_EQ(votes_for(large, 2, limits::block_bytes_max), 1u);
  EXPECT_EQ(votes_for(large, 2, limits::block_bytes_min), 0u) << "bytes over the limit";

  MempoolApp app;
  app.txs = {"tx"};
  Config config = TestConfig(1, 0);
  config.block_txs_max = 7;
  config.block_bytes_max = limits::block_bytes_min;
  Core leader(config, TestKey(0), &app);
  ASSERT_EQ(ActionsOf<Broadcast>(leader.OnStart(FreshStart(), 10)).size(), 1u);
  EXPECT_EQ(app.asked.txs_max, 7u);
  EXPECT_EQ(app.asked.bytes_max, limits::block_bytes_min);
}

Config PacedConfig() {
  Config config = TestConfig(1, 0);
  config.block_interval_ms_min = 50;
  config.idle_block_interval_ms = 500;
  return config;
}

TEST(CorePacing, LeaderWaitsForTheMinimumIntervalThenProposesWhatItHas) {
  MempoolApp app;
  Core core(PacedConfig(), TestKey(0), &app);
  EXPECT_TRUE(ActionsOf<Broadcast>(core.OnStart(FreshStart(), 10)).empty());  // genesis at 0
  EXPECT_TRUE(ActionsOf<Broadcast>(core.OnTick(60)).empty());  // nothing to order yet
  app.txs = {"tx"};
  auto proposals = ActionsOf<Broadcast>(core.OnTick(70));
  ASSERT_EQ(proposals.size(), 1u);
  EXPECT_EQ(std::get<Proposal>(proposals[0].message).block.header.timestamp_ms, 70u);
}

TEST(CorePacing, IdleLeaderStillProposesAfterTheIdleInterval) {
  MempoolApp app;
  Core core(PacedConfig(), TestKey(0), &app);
  EXPECT_TRUE(ActionsOf<Broadcast>(core.OnStart(FreshStart(), 10)).empty());
  EXPECT_TRUE(ActionsOf<Broadcast>(core.OnTick(499)).empty());
  EXPECT_EQ(ActionsOf<Broadcast>(core.OnTick(500)).size(), 1u);
}

TEST(CoreNet, SingleValidatorCommitsAlone) {
  TestNet net(1);
  net.Start();
  net.Run(300);
  EXPECT_GE(net.apps[0]->executed.size(), 20u);
}

void ExpectSameChain(const TestNet& net, size_t min_height) {
  const auto& first = net.apps[0]->executed;
  EXPECT_GE(first.size(), min_height);
  for (const auto& app : net.apps) {
    size_t common = std::min(first.size(), app->executed.size());
    for (size_t h = 0; h < common; ++h) EXPECT_EQ(app->executed[h].id, first[h].id);
    EXPECT_GE(app->executed.size(), min_height);
  }
}

class CoreNetSizes : public ::testing::TestWithParam<uint32_t> {};

TEST_P(CoreNetSizes, HappyPathCommitsTheSameChain) {
  TestNet net(GetParam());
  net.Start();
  net.Run(40 * GetParam() * GetParam());
  ExpectSameChain(net, 5);
}

TEST_P(CoreNetSizes, SilentLeaderIsSkippedByTimeoutCertificate) {
  const uint32_t n = GetParam();
  TestNet net(n);
  net.Start();
  // Drop everything replica 1 (leader of round 1, n+1, ...) says.
  for (int i = 0; i < 40; ++i) {
    std::erase_if(net.queue, [](const TestNet::Envelope& e) { return e.from == 1; });
    net.Run(50 * n);
    std::erase_if(net.queue, [](const TestNet::Envelope& e) { return e.from == 1; });
    net.Tick(1000);
  }
  std::erase_if(net.queue, [](const TestNet::Envelope& e) { return e.from == 1; });
  net.Run(2000);
  ExpectSameChain(net, 3);
}

INSTANTIATE_TEST_SUITE_P(Sizes, CoreNetSizes, ::testing::Values(4u, 7u, 10u));

}  // namespace
}  // namespace reel::consensus
