// Four replicas of the real consensus core, ledger, mempool and LevelDB stores, each
// on its own Asio loop thread, joined by an in-process transport (test_network.h):
// transactions commit on all, every node holds the same blocks and state roots, and a
// replica that is stopped and restarted from its store catches up and agrees.
#include "node/replica/replica.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>

#include "node/replica/block_sync.h"
#include "node/replica/chain_store.h"
#include "node/replica/commit_proof.h"
#include "node/storage/keys.h"
#include "node/storage/leveldb_store.h"
#include "tests/replica/test_network.h"
#include "tests/test_util.h"

namespace reel::replica {
namespace {

using testing::kChain;
using testing::Network;
using testing::World;
namespace keys = storage::keys;

// Stopped node `i`'s store: every height has a commit proof that verifies, and
// proofs with a changed round, signature or header are refused.
void ExpectEveryBlockProvablyCommitted(Network& net, uint32_t i) {
  auto store = storage::OpenLevelDb(net.dir(i));
  ASSERT_OK(store);
  const uint64_t top = *CommittedHeight(**store);
  ASSERT_GT(top, 2u);
  const consensus::VerifyContext ctx = net.VerifyContext();
  for (uint64_t h = 1; h <= top; ++h) {
    Result<std::optional<v1::CommitProof>> proof = ReadCommitProof(**store, kChain, h, top);
    ASSERT_OK(proof);
    ASSERT_TRUE(proof->has_value()) << "no commit proof at height " << h << " of " << top;
    Result<v1::Block> block = ReadCommittedBlock(**store, h);
    ASSERT_OK(block);
    Result<crypto::Hash32> id = HeaderId(block->header(), kChain);
    ASSERT_OK(id);
    const v1::CommitProof& good = **proof;
    const Status verified = VerifyCommitProof(*id, good, ctx);
    EXPECT_OK(verified) << "height " << h << ": " << verified.ToString();

    Result<crypto::Hash32> other = HeaderId(ReadCommittedBlock(**store, h - 1)->header(), kChain);
    EXPECT_FALSE(VerifyCommitProof(*other, good, ctx).ok()) << "proof of " << h << " for " << h - 1;
    v1::CommitProof bad = good;
    bad.mutable_child_qc()->set_round(bad.child_qc().round() + 1);
    EXPECT_FALSE(VerifyCommitProof(*id, bad, ctx).ok());
    bad = good;
    (*bad.mutable_block_qc()->mutable_signatures(0)->mutable_signature())[5] ^= 1;
    EXPECT_FALSE(VerifyCommitProof(*id, bad, ctx).ok());
    bad = good;
    bad.mutable_descendants(0)->set_timestamp_ms(bad.descendants(0).timestamp_ms() + 1);
    EXPECT_FALSE(VerifyCommitProof(*id, bad, ctx).ok());
  }
}

void ExpectRangesSyncIntoAFreshStore(Network& net, uint32_t i) {
  std::unique_ptr<storage::KvStore> source = net.OpenStopped(i);
  const uint64_t top = *CommittedHeight(*source);
  std::unique_ptr<testing::Replay> fresh = net.OpenReplay("fresh");
  const consensus::VerifyContext ctx = net.VerifyContext();

  bool tampered_once = false;
  for (;;) {
    Result<ChainPoint> here = CommittedPoint(*fresh->store, kChain);
    ASSERT_OK(here);
    if (here->height == top) break;
    Result<v1::GetBlocksResponse> response =
        ReadRange(*source, kChain, here->height + 1, here->height + 16);
    ASSERT_OK(response);
    ASSERT_GT(response->blocks_size(), 0);
    const v1::GetBlocksResponse& good = *response;
    int with_txs = -1;  // a block of the range that holds transactions
    for (int k = 0; k < good.blocks_size() && with_txs < 0; ++k) {
      if (good.blocks(k).txs_size() > 0) with_txs = k;
    }
    if (!tampered_once && good.blocks_size() >= 3 && with_txs >= 0) {
      tampered_once = true;
      const int k = with_txs;
      auto refused = [&](const v1::GetBlocksResponse& bad, const char* what) {
        EXPECT_FALSE(VerifyRange(ctx, *here, bad).ok()) << what << " was accepted";
      };
      v1::GetBlocksResponse bad = good;
      bad.mutable_blocks(k)->mutable_txs(0)->set_body(bad.blocks(k).txs(0).body() + "x");
      refused(bad, "a changed transaction");
      bad = good;
      *bad.mutable_blocks(k)->add_txs() = bad.blocks(k).txs(0);
      refused(bad, "an added transaction");
      bad = good;
      bad.mutable_blocks()->DeleteSubrange(1, 1);
      refused(bad, "a range with a gap");
      bad = good;
      bad.mutable_blocks(0)->mutable_header()->set_timestamp_ms(
          good.blocks(0).header().timestamp_ms() + 1);
      refused(bad, "a changed header");
      bad = good;
      (*bad.mutable_blocks(2)->mutable_qc()->mutable_signatures(0)->mutable_signature())[3] ^= 1;
      refused(bad, "a forged QC");
      bad = good;
      bad.clear_last_qc();
      refused(bad, "a range without the QC on its last block");
      bad = good;
      bad.clear_commit_proof();
      refused(bad, "a range without a commit proof");
      bad = good;
      bad.mutable_blocks()->RemoveLast();
      refused(bad, "a range whose proof is of another block");
      EXPECT_FALSE(VerifyRange(ctx, ChainPoint{here->height, crypto::Hash32{}}, good).ok())
          << "a range above another block was accepted";
    }
    Result<SyncedRange> range = VerifyRange(ctx, *here, good);
    ASSERT_OK(range);
    ASSERT_OK(ApplyRange(*fresh->app, *fresh->store, *range));
  }
  EXPECT_TRUE(tampered_once) << "no range had the blocks the tampering cases need";
  for (uint64_t h : {uint64_t{1}, top}) {
    EXPECT_EQ(ReadCommittedBlock(*fresh->store, h)->SerializeAsString(),
              ReadCommittedBlock(*source, h)->SerializeAsString());
    EXPECT_EQ(*fresh->store->Get(keys::StateRootKey(h)), *source->Get(keys::StateRootKey(h)));
  }
  // And its newest block has a commit proof, from the range it came with.
  Result<std::optional<v1::CommitProof>> proof = ReadCommitProof(*fresh->store, kChain, top, top);
  ASSERT_TRUE(proof.ok() && proof->has_value());
}

// What a peer answers to a block fetch (serve_fetch.h), from stopped node `i`'s
// store: the committed ancestry above the asked height, oldest first, then what the
// loop gave from its tree; nothing for a block it does not have.
void ExpectFetchAnswers(Network& net, uint32_t i) {
  auto store = storage::OpenLevelDb(net.dir(i));
  ASSERT_OK(store);
  const uint64_t top = *CommittedHeight(**store);
  ASSERT_GT(top, 4u);
  Result<crypto::Hash32> tip = HeaderId(ReadCommittedBlock(**store, top)->header(), kChain);
  ASSERT_OK(tip);
  auto heights = [](const std::vector<v1::Block>& blocks) {
    std::vector<uint64_t> out;
    for (const v1::Block& b : blocks) out.push_back(b.header().height());
    return out;
  };
  EXPECT_EQ(heights(FetchAnswer(**store, *tip, top - 3, {})),
            (std::vector<uint64_t>{top - 2, top - 1, top}));
  const std::vector<v1::Block> from_genesis = FetchAnswer(**store, *tip, 0, {});
  ASSERT_FALSE(from_genesis.empty());
  EXPECT_EQ(from_genesis.front().header().height(), 1u) << "a long gap from its oldest end";
  EXPECT_LE(from_genesis.size(), limits::consensus_fetch_blocks_max);
  EXPECT_TRUE(FetchAnswer(**store, crypto::Blake2b256("no such block"), 0, {}).empty());
  // A block of the loop's tree: the committed part up to the tree's root, then it.
  TreeAncestry tree;
  tree.found = true;
  tree.committed_height = top - 1;
  tree.blocks.push_back(*ReadCommittedBlock(**store, top));  // stands for a tree block
  EXPECT_EQ(heights(FetchAnswer(**store, crypto::Blake2b256("tree block"), top - 3, tree)),
            (std::vector<uint64_t>{top - 2, top - 1, top}));
  EXPECT_EQ(FetchRoomAbove(top - 3, top - 1), limits::consensus_fetch_blocks_max - 2);
  EXPECT_EQ(FetchRoomAbove(0, 1000), 0u);
}

// Finding 2 of issue 10: node `i`'s chain, served by two peers over the real
// BlockSync: peer 1 claims the same height but alters one signature in every range
// (the header, QCs and proof untouched), peer 2 is honest. A fresh node refuses
// peer 1's ranges, counts them against it, and syncs everything from peer 2.
void ExpectSyncPastAPeerThatAltersSignatures(Network& net, uint32_t i) {
  std::unique_ptr<storage::KvStore> source = net.OpenStopped(i);
  const uint64_t top = *CommittedHeight(*source);
  std::unique_ptr<testing::Replay> fresh = net.OpenReplay("fresh-from-two-peers");
  std::atomic<int> altered{0};
  testing::ServingPeers peers(source.get(), {1, 2},
                              [&](uint32_t peer, v1::GetBlocksResponse& range) {
                                if (peer != 1) return;
                                for (v1::Block& block : *range.mutable_blocks()) {
                                  for (v1::Transaction& tx : *block.mutable_txs()) {
                                    (*tx.mutable_signatures(0)->mutable_signature())[9] ^= 1;
                                    ++altered;
                                    return;
                                  }
                                }
                              });

  BlockSync::Options options;
  options.poll_interval_ms = 20;
  LedgerApplication& app = *fresh->app;
  BlockSync sync(
      kChain, &peers, fresh->store.get(),
      [&](SyncedRange range) { return ApplyRange(app, *fresh->store, range); }, options);
  sync.Start();
  ASSERT_TRUE(net.WaitFor([&] { return app.committed_height() == top; }))
      << "synced to " << app.committed_height() << " of " << top;
  sync.Stop();
  EXPECT_GT(altered.load(), 0) << "no range held a transaction to alter";
  EXPECT_GT(sync.refused_by_peer()[1], 0u) << "the altered ranges were not counted against peer 1";
  EXPECT_EQ(sync.refused_by_peer().count(2), 0u) << "an honest peer was blamed";
  for (uint64_t h = 1; h <= top; ++h) {
    ASSERT_EQ(ReadCommittedBlock(*fresh->store, h)->SerializeAsString(),
              ReadCommittedBlock(*source, h)->SerializeAsString())
        << "height " << h;
  }
  EXPECT_EQ(*fresh->store->Get(keys::StateRootKey(top)), *source->Get(keys::StateRootKey(top)));
}

TEST(ReplicaTest, FourReplicasCommitTheSameBlocksAndSurviveARestart) {
  World world;
  Network net(&world);
  for (uint32_t i = 0; i < Network::kValidators; ++i) net.StartNode(i);

  std::vector<crypto::Hash32> ids = net.SubmitQuotas(20, 1000);
  auto all_committed = [&](const std::vector<uint32_t>& which) {
    return [&, which] { return net.AllCommitted(which, ids); };
  };
  ASSERT_TRUE(net.WaitFor(all_committed({0, 1, 2, 3}))) << "transactions did not commit on all";
  net.ExpectAgreement({0, 1, 2, 3});

  // Stop one replica; the other three (a quorum) keep committing.
  net.StopNode(3);
  const uint64_t stopped_at = net.Height(0);
  for (const crypto::Hash32& id : net.SubmitQuotas(10, 5000)) ids.push_back(id);
  ASSERT_TRUE(net.WaitFor(all_committed({0, 1, 2}))) << "three of four did not commit";
  EXPECT_GT(net.Height(0), stopped_at);

  // Restarted from its own store, it catches up and agrees.
  net.StartNode(3);
  ASSERT_TRUE(net.WaitFor(all_committed({0, 1, 2, 3}))) << "restarted replica did not catch up";
  net.ExpectAgreement({0, 1, 2, 3});

  // Every committed block, the newest included, has a commit proof that checks with
  // the validator keys alone; an altered one does not.
  net.StopNode(0);
  ExpectFetchAnswers(net, 0);
  ExpectEveryBlockProvablyCommitted(net, 0);
  // Block sync: the chain, read in ranges as a peer serves them, verifies and
  // replays into a fresh store to the same state; altered ranges are refused.
  ExpectRangesSyncIntoAFreshStore(net, 0);
  ExpectSyncPastAPeerThatAltersSignatures(net, 0);
}

// Replicas execute the block the next QC commits while they wait for it
// (LedgerApplication::Prepare); what they commit must be what a node that executes
// each block only at its commit reaches: block sync from genesis, which never prepares.
TEST(ReplicaTest, BlocksExecutedAheadOfTheirCommitMatchAReplayFromGenesis) {
  World world;
  Network net(&world);
  for (uint32_t i = 0; i < Network::kValidators; ++i) net.StartNode(i);
  std::vector<crypto::Hash32> ids;
  for (int batch = 0; batch < 4; ++batch) {
    for (const crypto::Hash32& id : net.SubmitQuotas(6, 1000 * (batch + 1))) ids.push_back(id);
    ASSERT_TRUE(net.WaitFor([&] { return net.AllCommitted({0, 1, 2, 3}, ids); }));
  }
  for (uint32_t i = 0; i < Network::kValidators; ++i) {
    EXPECT_GT(net.node(i).app->commits_prepared(), 0u)
        << "node " << i << " executed every block at its commit";
  }
  net.ExpectAgreement({0, 1, 2, 3});
  net.StopNode(0);
  std::unique_ptr<storage::KvStore> source = net.OpenStopped(0);
  const uint64_t top = *CommittedHeight(*source);
  std::unique_ptr<testing::Replay> fresh = net.OpenReplay("fresh-unprepared");
  testing::ServingPeers peers(source.get(), {1});
  std::unique_ptr<BlockSync> sync = fresh->SyncFrom(&peers);
  sync->Start();
  ASSERT_TRUE(net.WaitFor([&] { return fresh->app->committed_height() == top; }));
  sync->Stop();
  EXPECT_EQ(fresh->app->commits_prepared(), 0u);
  for (uint64_t h = 1; h <= top; ++h) {
    EXPECT_EQ(*fresh->store->Get(keys::StateRootKey(h)), *source->Get(keys::StateRootKey(h)))
        << "height " << h;
  }
}

TEST(ReplicaTest, EveryConsensusParameterOfTheEpochReachesTheCore) {
  v1::ConsensusParams params;
  params.set_round_timeout_ms(700);
  params.set_round_timeout_max_ms(9000);
  params.set_round_timeout_backoff_percent(200);
  params.set_clock_drift_max_ms(2500);
  params.set_block_txs_max(40);
  params.set_block_bytes_max(limits::block_bytes_min);
  params.set_block_interval_min_ms(30);
  params.set_idle_block_interval_ms(300);
  consensus::Config config;
  ApplyConsensusParams(params, &config);
  EXPECT_EQ(config.round_timeout_ms_initial, 700u);
  EXPECT_EQ(config.round_timeout_ms_max, 9000u);
  EXPECT_EQ(config.round_timeout_backoff_percent, 200u);
  EXPECT_EQ(config.timestamp_drift_ms_max, 2500u);
  EXPECT_EQ(config.block_txs_max, 40u);
  EXPECT_EQ(config.block_bytes_max, limits::block_bytes_min);
  EXPECT_EQ(config.block_interval_ms_min, 30u);
  EXPECT_EQ(config.idle_block_interval_ms, 300u);
  // Zero keeps what the node had: base/limits.h's defaults.
  consensus::Config defaults;
  const consensus::Config before = defaults;
  ApplyConsensusParams(v1::ConsensusParams(), &defaults);
  EXPECT_EQ(defaults.round_timeout_backoff_percent, before.round_timeout_backoff_percent);
  EXPECT_EQ(defaults.timestamp_drift_ms_max, before.timestamp_drift_ms_max);
  EXPECT_EQ(defaults.block_txs_max, limits::block_txs_max);
  EXPECT_EQ(defaults.block_bytes_max, limits::block_bytes_max);
}

// The ministries shrink blocks on a running network: from the block after the change,
// no block carries more than the new limit, though a leader has more waiting.
TEST(ReplicaTest, AChangeOfBlockLimitsHoldsFromTheNextEpoch) {
  World world;
  Network net(&world);
  for (uint32_t i = 0; i < Network::kValidators; ++i) net.StartNode(i);
  v1::ConsensusParams params;
  params.set_block_txs_max(2);
  params.set_block_interval_min_ms(300);  // so that every leader finds more than 2 waiting
  const v1::Transaction change = net.ConsensusChangeTx("small-blocks", params);
  net.Submit(change);
  std::vector<crypto::Hash32> ids = {net.IdOf(change)};
  ASSERT_TRUE(net.WaitFor([&] { return net.AllCommitted({0, 1, 2, 3}, ids); }));
  ids = net.SubmitQuotas(12, 1000);
  ASSERT_TRUE(net.WaitFor([&] {
    return net.AllCommitted({0, 1, 2, 3}, ids);
  })) << "the quotas did not commit in the new epoch";
  net.StopNode(0);
  std::unique_ptr<storage::KvStore> store = net.OpenStopped(0);
  Result<EpochState> epoch = ReadEpoch(*store, kChain);
  ASSERT_OK(epoch);
  ASSERT_EQ(epoch->epoch, 1u);
  const uint64_t top = *CommittedHeight(*store);
  int quotas = 0;
  for (uint64_t h = epoch->root_height + 1; h <= top; ++h) {
    Result<v1::Block> block = ReadCommittedBlock(*store, h);
    ASSERT_OK(block);
    EXPECT_LE(block->txs_size(), 2) << "height " << h;
    quotas += block->txs_size();
  }
  EXPECT_EQ(quotas, 12);
}

// An epoch change with real replicas: the approving block ends epoch 0 on every node,
// every replica signs that end and keeps the epoch-change proof their votes make,
// commits go on in epoch 1 on the same four, a restarted replica resumes in epoch 1, each
// block's proof checks with its own epoch's keys, and a fresh node block-syncs across the
// boundary (the ranges end at it) to the same state, with the proof the range carries.
// A node that crossed without the proof asks for it again once idle, and a forged proof
// is refused with the range that carries it.
TEST(ReplicaTest, AnEpochChangeKeepsCommittingAndBlockSyncCrossesIt) {
  World world;
  Network net(&world);
  for (uint32_t i = 0; i < Network::kValidators; ++i) net.StartNode(i);
  std::vector<crypto::Hash32> ids = net.SubmitQuotas(5, 1000);
  const v1::Transaction change = net.TimingsChangeTx("timings-1", 600);
  net.Submit(change);
  ids.push_back(net.IdOf(change));
  auto all_committed = [&](const std::vector<uint32_t>& which) {
    return [&, which] { return net.AllCommitted(which, ids); };
  };
  ASSERT_TRUE(net.WaitFor(all_committed({0, 1, 2, 3}))) << "the change did not commit on all";
  for (const crypto::Hash32& id : net.SubmitQuotas(10, 5000)) ids.push_back(id);
  ASSERT_TRUE(net.WaitFor(all_committed({0, 1, 2, 3}))) << "no commits in the new epoch";
  // Every replica holds the proof of epoch 0's end, which epoch 0's keys verify.
  auto proof_on = [](const storage::ReadView& store) {
    Result<std::optional<v1::EpochChangeProof>> proof = ReadEpochProof(store, 0);
    return proof.ok() ? *proof : std::nullopt;
  };
  ASSERT_TRUE(net.WaitFor([&] {
    for (uint32_t i = 0; i < Network::kValidators; ++i) {
      if (!proof_on(*net.node(i).store)) return false;
    }
    return true;
  })) << "a replica holds no epoch-change proof of epoch 0";
  for (uint32_t i = 0; i < Network::kValidators; ++i) {
    Result<v1::ValidatorSet> next =
        VerifyEpochChangeProof(net.VerifyContext(), *proof_on(*net.node(i).store));
    ASSERT_OK(next) << "node " << i;
    EXPECT_EQ(next->epoch(), 1u);
    EXPECT_EQ(next->consensus().round_timeout_ms(), 600u);
  }

  // Restarted, a replica resumes in epoch 1 and goes on committing with the others.
  net.StopNode(3);
  net.StartNode(3);
  for (const crypto::Hash32& id : net.SubmitQuotas(5, 9000)) ids.push_back(id);
  ASSERT_TRUE(net.WaitFor(all_committed({0, 1, 2, 3}))) << "the restarted replica fell behind";
  net.ExpectAgreement({0, 1, 2, 3});

  net.StopNode(0);
  std::unique_ptr<storage::KvStore> source = net.OpenStopped(0);
  const uint64_t top = *CommittedHeight(*source);
  Result<EpochState> epoch = ReadEpoch(*source, kChain);
  ASSERT_OK(epoch);
  EXPECT_EQ(epoch->epoch, 1u);
  EXPECT_EQ(epoch->set.consensus().round_timeout_ms(), 600u);
  Result<std::optional<v1::EpochEnd>> end = ReadEpochEnd(*source, 0);
  ASSERT_OK(end);
  ASSERT_TRUE(end->has_value()) << "no record of epoch 0's end";
  EXPECT_EQ((*end)->height(), epoch->root_height);
  ASSERT_GT(top, epoch->root_height + 2);
  // Every block is of the epoch its height says, and proved with that epoch's keys.
  const consensus::VerifyContext first = net.VerifyContext();
  const consensus::VerifyContext second = epoch->Context(kChain);
  for (uint64_t h = 1; h <= top; ++h) {
    Result<v1::Block> block = ReadCommittedBlock(*source, h);
    ASSERT_OK(block);
    const bool in_first = h <= epoch->root_height;
    EXPECT_EQ(block->header().epoch(), in_first ? 0u : 1u) << "height " << h;
    Result<std::optional<v1::CommitProof>> proof = ReadCommitProof(*source, kChain, h, top);
    ASSERT_OK(proof);
    ASSERT_TRUE(proof->has_value()) << "no commit proof at height " << h;
    Result<crypto::Hash32> id = HeaderId(block->header(), kChain);
    ASSERT_OK(id);
    EXPECT_OK(VerifyCommitProof(*id, **proof, in_first ? first : second)) << "height " << h;
    EXPECT_FALSE(VerifyCommitProof(*id, **proof, in_first ? second : first).ok())
        << "height " << h << " proved with the other epoch's keys";
  }
  // A range never crosses the end of an epoch.
  Result<v1::GetBlocksResponse> range = ReadRange(*source, kChain, 1, top);
  ASSERT_OK(range);
  EXPECT_LE(range->blocks(range->blocks_size() - 1).header().height(), epoch->root_height);

  // A fresh node syncs the whole chain over the real BlockSync, across the epoch.
  std::unique_ptr<testing::Replay> fresh = net.OpenReplay("fresh-across-epochs");
  testing::ServingPeers peers(source.get(), {1});
  std::unique_ptr<BlockSync> sync = fresh->SyncFrom(&peers);
  sync->Start();
  ASSERT_TRUE(net.WaitFor([&] { return fresh->app->committed_height() == top; }))
      << "synced to " << fresh->app->committed_height() << " of " << top;
  sync->Stop();
  EXPECT_EQ(sync->ranges_refused(), 0u);
  EXPECT_EQ(ReadEpoch(*fresh->store, kChain)->epoch, 1u);
  ASSERT_TRUE(ReadEpochEnd(*fresh->store, 0)->has_value());
  EXPECT_EQ(*fresh->store->Get(keys::StateRootKey(top)), *source->Get(keys::StateRootKey(top)));
  // The range that ended epoch 0 carried its proof, verified before it was kept.
  ASSERT_TRUE(proof_on(*fresh->store).has_value()) << "the synced node holds no proof";
  EXPECT_OK(VerifyEpochChangeProof(net.VerifyContext(), *proof_on(*fresh->store)));
  Result<std::vector<v1::EpochChangeProof>> chain = ReadEpochProofs(*fresh->store, 0, 1, 16);
  ASSERT_OK(chain);
  Result<EpochState> reached = VerifyEpochChain(net.genesis(), *chain);
  ASSERT_OK(reached);
  EXPECT_EQ(reached->epoch, 1u);
  EXPECT_EQ(reached->root_id, epoch->root_id);

  // A peer that withholds the proof: the node crosses without it, then, idle, asks again
  // for the range that ended the epoch and gets it once the peer serves it.
  std::atomic<bool> withhold{true};
  testing::ServingPeers late_peers(source.get(), {1}, [&](uint32_t, v1::GetBlocksResponse& r) {
    if (withhold) r.clear_epoch_change_proof();
  });
  std::unique_ptr<testing::Replay> late = net.OpenReplay("late-proof");
  std::unique_ptr<BlockSync> late_sync = late->SyncFrom(&late_peers);
  late_sync->Start();
  ASSERT_TRUE(net.WaitFor([&] { return late->app->committed_height() == top; }));
  EXPECT_FALSE(proof_on(*late->store).has_value()) << "the proof was withheld";
  withhold = false;
  ASSERT_TRUE(net.WaitFor([&] { return proof_on(*late->store).has_value(); }))
      << "the idle node did not ask for the missing proof again";
  late_sync->Stop();
  EXPECT_OK(VerifyEpochChangeProof(net.VerifyContext(), *proof_on(*late->store)));

  // A peer that forges the proof (one signature changed): the range that carries it is
  // refused and counted against that peer; an honest peer serves the node instead.
  testing::ServingPeers forging(source.get(), {1, 2}, [&](uint32_t peer, v1::GetBlocksResponse& r) {
    if (peer != 1 || !r.has_epoch_change_proof()) return;
    std::string* sig = r.mutable_epoch_change_proof()->mutable_signatures(0)->mutable_signature();
    (*sig)[0] = static_cast<char>((*sig)[0] ^ 1);
  });
  std::unique_ptr<testing::Replay> wary = net.OpenReplay("forged-proof");
  std::unique_ptr<BlockSync> wary_sync = wary->SyncFrom(&forging);
  wary_sync->Start();
  ASSERT_TRUE(net.WaitFor([&] { return wary->app->committed_height() == top; }));
  wary_sync->Stop();
  EXPECT_GE(wary_sync->refused_by_peer()[1], 1u) << "the forged proof was not refused";
  EXPECT_EQ(wary_sync->refused_by_peer().count(2), 0u);
  ASSERT_TRUE(proof_on(*wary->store).has_value());
  EXPECT_OK(VerifyEpochChangeProof(net.VerifyContext(), *proof_on(*wary->store)));

  // VerifyRange alone: the range that ends epoch 0 with a forged proof is refused, with it
  // intact it verifies and carries the proof.
  const uint64_t end_height = (*end)->height();
  Result<v1::GetBlocksResponse> ending = ReadRange(*source, kChain, end_height, end_height);
  ASSERT_OK(ending);
  ASSERT_TRUE(ending->has_epoch_change_proof()) << "the server did not attach its proof";
  Result<v1::Block> parent = ReadCommittedBlock(*source, end_height - 1);
  ASSERT_OK(parent);
  const ChainPoint below{end_height - 1, *HeaderId(parent->header(), kChain)};
  Result<SyncedRange> honest = VerifyRange(first, below, *ending);
  ASSERT_OK(honest);
  EXPECT_TRUE(honest->epoch_proof.has_value());
  v1::GetBlocksResponse forged = *ending;
  forged.mutable_epoch_change_proof()->mutable_next()->mutable_validators(0)->set_name("mallory");
  EXPECT_FALSE(VerifyRange(first, below, forged).ok()) << "a changed next set was accepted";
  forged = *ending;
  forged.mutable_epoch_change_proof()->mutable_signatures()->RemoveLast();
  forged.mutable_epoch_change_proof()->mutable_signatures()->RemoveLast();
  EXPECT_FALSE(VerifyRange(first, below, forged).ok()) << "a proof short of a quorum was accepted";
  // Not served with a range that does not end the epoch.
  Result<v1::GetBlocksResponse> inner = ReadRange(*source, kChain, 1, end_height - 1);
  ASSERT_OK(inner);
  EXPECT_FALSE(inner->has_epoch_change_proof());
}

}  // namespace
}  // namespace reel::replica
