// What a replica does when its store fails (ledger_app.h and block_sync.h, "Failure";
// kv.h, "Failure"), on LevelDB stores wrapped in the fault-injecting FaultyStore:
//   - a committed block whose batch cannot be written, or whose execution cannot read
//     the state, stops the node (Fatal) at its last committed height; reopened, the
//     store holds that height whole, with the roots a fault-free twin computed, and the
//     block then executes to the twin's root;
//   - a live replica that cannot write a commit or its safety state stops, the others
//     go on, and restarted from its disk it catches up and agrees;
//   - block sync: a read that fails refuses the range, not the peer, and the next round
//     retries; a write that fails stops the node;
//   - a proposal never drops a pooled transaction because a read failed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "node/replica/block_sync.h"
#include "node/replica/codec.h"
#include "node/replica/commit_proof.h"
#include "node/replica/ledger_app.h"
#include "tests/replica/test_network.h"
#include "tests/test_util.h"

namespace reel::replica {
namespace {

using storage::testing::FaultyStore;
using testing::FatalThrows;
using ::testing::HasSubstr;
using testing::kChain;
using testing::Network;
using testing::StoppedByFatal;
using testing::World;
using Fault = FaultyStore::Fault;
using Op = FaultyStore::Op;
namespace keys = storage::keys;

// The largest block a chain may set (base/limits.h).
const consensus::PayloadLimits kBlockLimits{limits::block_txs_max, limits::block_bytes_max};

// The value under `key`, or "<none>".
std::string Value(const storage::ReadView& view, const std::string& key) {
  Result<std::optional<std::string>> got = view.Get(key);
  EXPECT_OK(got);
  return got.ok() && got->has_value() ? **got : "<none>";
}

// Runs `f`, which must stop the node through Fatal; returns what Fatal said.
template <typename F>
std::string FatalOf(F f) {
  try {
    f();
  } catch (const StoppedByFatal& stop) {
    return stop.what;
  }
  ADD_FAILURE() << "the node did not stop";
  return "";
}

// --- LedgerApplication: one block at a time, beside a fault-free twin ------------------------

// Two stores that start from one genesis: `twin_` on plain LevelDB, `faulty_` on a
// FaultyStore over LevelDB, each with its LedgerApplication. Blocks are made here (the
// application executes whatever block it is handed; consensus checked them before).
class LedgerAppFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    twin_ = net_.OpenReplay("twin");
    RestartFaulty();
  }

  // Closes the faulty side and opens it again from its folder, as a restarted node.
  void RestartFaulty() {
    faulty_.reset();
    faulty_ = net_.OpenReplay("faulty", /*faulty=*/true);
  }

  // The next block above `side`'s committed height, holding `txs`.
  consensus::Block NextBlock(testing::Replay& side, const std::vector<v1::Transaction>& txs) {
    const uint64_t height = side.app->committed_height() + 1;
    Result<v1::Block> parent = ReadCommittedBlock(*side.store, height - 1);
    REEL_ASSERT(parent.ok());
    consensus::Block block;
    block.header.height = height;
    block.header.round = height;
    block.header.parent_id = *HeaderId(parent->header(), kChain);
    block.header.qc_block_id = block.header.parent_id;
    block.header.qc_round = height - 1;
    block.header.timestamp_ms = net_.genesis().genesis_time_ms() + 1000 * height;
    block.header.tx_count = static_cast<uint32_t>(txs.size());
    for (const v1::Transaction& tx : txs) block.payload.push_back(tx.SerializeAsString());
    block.qc.block_id = block.header.parent_id;
    block.qc.round = height - 1;
    block.Seal(kChain);
    return block;
  }

  // Block 2, which the twin has committed and the faulty side (at height 1) has not.
  struct Block2 {
    v1::Transaction tx;
    consensus::Block block;
    consensus::QuorumCert qc;
    crypto::Hash32 twin_root;  // the state root after it
  };
  Block2 CommitOneAndTwinOnlyTwo() {
    CommitOnBoth({net_.QuotaTx(100)});
    Block2 two{net_.QuotaTx(200), {}, {}, {}};
    two.block = NextBlock(*twin_, {two.tx});
    two.qc = QcOn(two.block);
    two.twin_root = twin_->app->ExecuteCommitted(two.block, two.qc);
    return two;
  }

  // Executes the same block on both sides; returns the twin's root.
  crypto::Hash32 CommitOnBoth(const std::vector<v1::Transaction>& txs) {
    const consensus::Block block = NextBlock(*twin_, txs);
    const crypto::Hash32 root = twin_->app->ExecuteCommitted(block, QcOn(block));
    EXPECT_EQ(faulty_->app->ExecuteCommitted(block, QcOn(block)), root);
    return root;
  }

  static consensus::QuorumCert QcOn(const consensus::Block& block) {
    consensus::QuorumCert qc;
    qc.block_id = block.id;
    qc.round = block.header.round;
    qc.height = block.header.height;
    return qc;
  }

  // Every record of committed block `height` is in `view` (present) or none is.
  void ExpectBlockWholeOrAbsent(const storage::ReadView& view, uint64_t height,
                                const v1::Transaction& tx, bool present) {
    const std::string tx_key = keys::TxKey(crypto::AsBytes(net_.IdOf(tx)));
    for (const std::string& key :
         {keys::BlockKey(height), keys::CommitQcKey(height), keys::StateRootKey(height), tx_key}) {
      EXPECT_EQ(Value(view, key) != "<none>", present)
          << "block " << height << (present ? " lacks " : " left ") << "a record";
    }
  }

  World world_;
  Network net_{&world_};
  FatalThrows fatal_throws_;
  std::unique_ptr<testing::Replay> twin_;
  std::unique_ptr<testing::Replay> faulty_;
};

// Deferred commit writes (ledger_app.h): the application counts a committed block at
// once, the store and the listener only at the flush, or when the next block commits.
TEST_F(LedgerAppFaultTest, ADeferredCommitCountsAtOnceAndReachesTheStoreAtTheFlush) {
  const Block2 two = CommitOneAndTwinOnlyTwo();
  std::vector<uint64_t> announced;
  faulty_->app->set_commit_listener(
      [&announced](uint64_t height, const std::vector<crypto::Hash32>&) {
        announced.push_back(height);
      });
  faulty_->app->set_defer_commit_writes(true);

  EXPECT_EQ(faulty_->app->ExecuteCommitted(two.block, two.qc), two.twin_root);
  EXPECT_EQ(faulty_->app->committed_height(), 2u);
  EXPECT_EQ(faulty_->app->StateRootAt(2), std::optional<crypto::Hash32>(two.twin_root));
  EXPECT_EQ(*CommittedHeight(*faulty_->store), 1u) << "the write was not deferred";
  ExpectBlockWholeOrAbsent(*faulty_->store, 2, two.tx, /*present=*/false);
  EXPECT_TRUE(announced.empty());

  faulty_->app->FlushCommitted();
  EXPECT_EQ(*CommittedHeight(*faulty_->store), 2u);
  ExpectBlockWholeOrAbsent(*faulty_->store, 2, two.tx, /*present=*/true);
  EXPECT_EQ(announced, std::vector<uint64_t>{2});
  faulty_->app->FlushCommitted();  // nothing staged: nothing written or told again
  EXPECT_EQ(announced, std::vector<uint64_t>{2});

  // Block 3 staged, then block 4 committed over it: 3 is written first, 4 stays staged.
  const crypto::Hash32 root3 = CommitOnBoth({net_.QuotaTx(300)});
  EXPECT_EQ(*CommittedHeight(*faulty_->store), 2u);
  const crypto::Hash32 root4 = CommitOnBoth({net_.QuotaTx(400)});
  EXPECT_EQ(*CommittedHeight(*faulty_->store), 3u);
  EXPECT_EQ(Value(*faulty_->store, keys::StateRootKey(3)), std::string(crypto::AsBytes(root3)));
  EXPECT_EQ(faulty_->app->StateRootAt(4), std::optional<crypto::Hash32>(root4));
  EXPECT_EQ(announced, (std::vector<uint64_t>{2, 3}));
}

// Prepare in turns (ledger_app.h): a block executed a few transactions per call gives
// the root a whole execution gives, whether the turns finish before its commit, the
// commit finishes them, or a sibling commits instead.
TEST_F(LedgerAppFaultTest, APrepareInTurnsGivesTheRootOfAWholeExecution) {
  CommitOnBoth({net_.QuotaTx(100)});
  auto txs = [this](int64_t first) {
    std::vector<v1::Transaction> out;
    for (int64_t k = 0; k < 5; ++k) out.push_back(net_.QuotaTx(first + k));
    return out;
  };
  LedgerApplication& app = *faulty_->app;

  // Turns of two: false until the fifth transaction is done; the commit then only writes.
  const consensus::Block two = NextBlock(*faulty_, txs(200));
  EXPECT_FALSE(app.Prepare(two, 2));
  EXPECT_FALSE(app.Prepare(two, 2));
  EXPECT_EQ(*CommittedHeight(*faulty_->store), 1u) << "a turn wrote to the store";
  EXPECT_TRUE(app.Prepare(two, 2));
  EXPECT_TRUE(app.Prepare(two, 2)) << "a prepared block has nothing left to do";
  const uint64_t prepared = app.commits_prepared();
  const crypto::Hash32 root2 = twin_->app->ExecuteCommitted(two, QcOn(two));
  EXPECT_EQ(app.ExecuteCommitted(two, QcOn(two)), root2);
  EXPECT_EQ(app.commits_prepared(), prepared + 1);

  // One turn of one, then the commit: it executes the other four over the same state.
  const consensus::Block three = NextBlock(*faulty_, txs(300));
  EXPECT_FALSE(app.Prepare(three, 1));
  const crypto::Hash32 root3 = twin_->app->ExecuteCommitted(three, QcOn(three));
  EXPECT_EQ(app.ExecuteCommitted(three, QcOn(three)), root3);
  EXPECT_EQ(app.commits_prepared(), prepared + 1) << "a block half prepared counted as prepared";

  // A sibling half prepared, then another block of the height commits: the half run is
  // dropped, and the next height prepares over the committed block.
  const consensus::Block sibling = NextBlock(*faulty_, txs(400));
  EXPECT_FALSE(app.Prepare(sibling, 3));
  const consensus::Block four = NextBlock(*faulty_, txs(500));
  const crypto::Hash32 root4 = twin_->app->ExecuteCommitted(four, QcOn(four));
  EXPECT_EQ(app.ExecuteCommitted(four, QcOn(four)), root4);
  EXPECT_TRUE(app.Prepare(sibling, 3)) << "a block that is no child of the tip is not run";
  const consensus::Block five = NextBlock(*faulty_, txs(600));
  EXPECT_FALSE(app.Prepare(five, 4));
  EXPECT_TRUE(app.Prepare(five, 4));
  const crypto::Hash32 root5 = twin_->app->ExecuteCommitted(five, QcOn(five));
  EXPECT_EQ(app.ExecuteCommitted(five, QcOn(five)), root5);
  EXPECT_EQ(app.commits_prepared(), prepared + 2);

  // A run stopped between turns holds a snapshot: dropped, the store can close (its
  // destructor asserts that no snapshot is left).
  EXPECT_FALSE(app.Prepare(NextBlock(*faulty_, txs(700)), 2));
  app.DropPrepare();
  faulty_->store.reset();
}

TEST_F(LedgerAppFaultTest, ACommitThatCannotBeWrittenStopsTheNodeAtItsLastHeight) {
  const Block2 two = CommitOneAndTwinOnlyTwo();
  const std::string root1 = Value(*twin_->store, keys::StateRootKey(1));

  faulty_->faults->Arm(Fault(Op::kWrite).Prefix(keys::CommitHeightKey()));
  const std::string what = FatalOf([&] { faulty_->app->ExecuteCommitted(two.block, two.qc); });
  EXPECT_THAT(what, HasSubstr("cannot write committed block 2"));
  EXPECT_EQ(faulty_->app->committed_height(), 1u);

  // Restarted from disk: at height 1, whole, with the twin's root; nothing of block 2.
  RestartFaulty();
  EXPECT_EQ(*CommittedHeight(*faulty_->store), 1u);
  EXPECT_EQ(Value(*faulty_->store, keys::StateRootKey(1)), root1);
  ExpectBlockWholeOrAbsent(*faulty_->store, 2, two.tx, /*present=*/false);
  // And block 2 then executes to the twin's root.
  EXPECT_EQ(faulty_->app->ExecuteCommitted(two.block, two.qc), two.twin_root);
  ExpectBlockWholeOrAbsent(*faulty_->store, 2, two.tx, /*present=*/true);
}

TEST_F(LedgerAppFaultTest, ACommitWhoseSyncFailsStopsTheNodeAndLeavesTheBlockWholeOrAbsent) {
  const Block2 two = CommitOneAndTwinOnlyTwo();

  faulty_->faults->Arm(Fault(Op::kSync).Prefix(keys::CommitHeightKey()));
  EXPECT_THAT(FatalOf([&] { faulty_->app->ExecuteCommitted(two.block, two.qc); }),
              HasSubstr("cannot write committed block 2"));

  // The batch reached LevelDB's log before the sync failed: reopened (no machine
  // crash), the store holds block 2 whole, with the twin's root. Either height is
  // allowed (ledger_app.h); half a block never is.
  RestartFaulty();
  const uint64_t height = *CommittedHeight(*faulty_->store);
  ASSERT_TRUE(height == 1 || height == 2) << height;
  ExpectBlockWholeOrAbsent(*faulty_->store, 2, two.tx, /*present=*/height == 2);
  if (height == 2) {
    EXPECT_EQ(Value(*faulty_->store, keys::StateRootKey(2)),
              std::string(crypto::AsBytes(two.twin_root)));
  }
  EXPECT_EQ(faulty_->app->committed_height(), height);
}

TEST_F(LedgerAppFaultTest, ABlockWhoseExecutionCannotReadTheStateStopsTheNode) {
  const Block2 two = CommitOneAndTwinOnlyTwo();

  // The ledger's state records (node/storage/KEYS.md, 0x05): a read the block needs.
  faulty_->faults->Arm(Fault(Op::kRead).Prefix(keys::StateKey("")));
  EXPECT_THAT(FatalOf([&] { faulty_->app->ExecuteCommitted(two.block, two.qc); }),
              HasSubstr("cannot execute committed block 2"));
  EXPECT_EQ(*CommittedHeight(*faulty_->store), 1u);
  ExpectBlockWholeOrAbsent(*faulty_->store, 2, two.tx, /*present=*/false);
  // The read fault was a passing one: the same block then executes to the twin's root.
  EXPECT_EQ(faulty_->app->ExecuteCommitted(two.block, two.qc), two.twin_root);
}

TEST_F(LedgerAppFaultTest, AReadFailureWhileProposingKeepsTheTransactionInThePool) {
  const v1::Transaction tx = net_.QuotaTx(100);
  mempool::Admission admission(kChain, &faulty_->pool, 1);
  ASSERT_OK(admission.Admit({tx}, *faulty_->store, 1)[0]);

  faulty_->faults->Arm(Fault(Op::kRead).Prefix(keys::StateKey("")));
  EXPECT_TRUE(faulty_->app->PayloadForProposal({}, kBlockLimits).empty());
  EXPECT_EQ(faulty_->faults->failures(), 1u);
  EXPECT_TRUE(faulty_->pool.Contains(net_.IdOf(tx))) << "a read error dropped a pooled transaction";
  // The next proposal, with the store healed, takes it.
  EXPECT_EQ(faulty_->app->PayloadForProposal({}, kBlockLimits).size(), 1u);
}

// A proposal leaves out, and drops from the pool, what the pool holds though it is
// committed (admitted over a snapshot from before its block, as an admission racing the
// block's write does) or expired at the proposal's height: either would only fail.
TEST_F(LedgerAppFaultTest, APooledTransactionAlreadyCommittedOrExpiredIsNotProposed) {
  mempool::Admission admission(kChain, &faulty_->pool, 1);
  const v1::Transaction committed = net_.QuotaTx(100);
  std::unique_ptr<storage::Snapshot> before = faulty_->store->GetSnapshot();
  CommitOnBoth({committed});  // height 1
  ASSERT_OK(admission.Admit({committed}, *before, 1)[0]);
  v1::TxBody body = world_.Body("miit");
  v1::SetQuota* quota = body.mutable_set_quota();
  quota->set_org_id("mineco");
  quota->set_year(2026);
  quota->set_category(v1::QUOTA_CATEGORY_MINING_LIGHT);
  quota->set_amount_g(200);
  body.set_expiry_height(1);  // valid up to block 1; a proposal now is block 2
  const v1::Transaction expired = world_.Sign(body);
  ASSERT_OK(admission.Admit({expired}, *before, 1)[0]);
  ASSERT_TRUE(faulty_->pool.Contains(net_.IdOf(committed)));
  ASSERT_TRUE(faulty_->pool.Contains(net_.IdOf(expired)));

  EXPECT_TRUE(faulty_->app->PayloadForProposal({}, kBlockLimits).empty());
  EXPECT_FALSE(faulty_->pool.Contains(net_.IdOf(committed)));
  EXPECT_FALSE(faulty_->pool.Contains(net_.IdOf(expired)));
  // A transaction that can still commit is proposed.
  ASSERT_OK(admission.Admit({net_.QuotaTx(300)}, *faulty_->store, 2)[0]);
  EXPECT_EQ(faulty_->app->PayloadForProposal({}, kBlockLimits).size(), 1u);
}

TEST_F(LedgerAppFaultTest, AStateRootThatCannotBeReadIsAnErrorNotAGuess) {
  const crypto::Hash32 root1 = CommitOnBoth({net_.QuotaTx(100)});
  CommitOnBoth({net_.QuotaTx(200)});
  // Restarted: only the newest root is cached, older ones come from disk.
  faulty_->RestartApp();
  faulty_->faults->Arm(Fault(Op::kRead).Prefix(keys::StateRootKey(1)));
  const Result<crypto::Hash32> read = faulty_->app->CommittedStateRoot(1);
  EXPECT_EQ(read.status().code(), Code::kIoError);
  EXPECT_EQ(faulty_->app->CommittedStateRoot(1).value(), root1);
  EXPECT_EQ(faulty_->app->CommittedStateRoot(3).status().code(), Code::kNotFound);
}

// --- Live replicas -----------------------------------------------------------------------------

// Node 3 runs on a FaultyStore. A commit it cannot write, then a safety state it
// cannot persist, each stop it (and only it) where it was; each time, restarted from
// its disk, it catches up and agrees with the others block for block and root for root.
TEST(ReplicaStorageFaultTest, AReplicaThatCannotWriteStopsAndRestartsFromItsDisk) {
  World world;
  Network net(&world);
  FatalThrows fatal_throws;
  for (uint32_t i = 0; i < 3; ++i) net.StartNode(i);
  net.StartNode(3, /*faulty=*/true);

  int64_t amount = 1000;
  std::vector<crypto::Hash32> ids;
  auto submit = [&](int count) {
    for (const crypto::Hash32& id : net.SubmitQuotas(count, amount)) ids.push_back(id);
    amount += count;
  };
  auto all_committed = [&](const std::vector<uint32_t>& which) {
    return [&, which] { return net.AllCommitted(which, ids); };
  };
  submit(5);
  ASSERT_TRUE(net.WaitFor(all_committed({0, 1, 2, 3}))) << "transactions did not commit on all";

  struct Case {
    const char* name;
    std::string key_prefix;
    const char* fatal;
  };
  for (const Case& c :
       {Case{"commit", keys::CommitHeightKey(), "cannot write committed block "},
        Case{"safety state", keys::SafetyStateKey(), "cannot persist the safety state"}}) {
    SCOPED_TRACE(c.name);
    net.node(3).faults->Arm(Fault(Op::kWrite).Prefix(c.key_prefix));
    submit(5);
    ASSERT_TRUE(net.WaitFor([&] { return net.node(3).halted.load(); })) << "node 3 did not stop";
    EXPECT_THAT(net.node(3).fatal, HasSubstr(c.fatal));
    const uint64_t stopped_at = net.Height(3);
    if (c.key_prefix == keys::CommitHeightKey()) {
      EXPECT_THAT(net.node(3).fatal, HasSubstr("block " + std::to_string(stopped_at + 1) + ":"));
    }
    // The other three, a quorum, go on.
    ASSERT_TRUE(net.WaitFor(all_committed({0, 1, 2}))) << "three of four did not commit";
    net.StopNode(3);
    {
      // On disk: its last committed height, whole, with the state root the others have.
      std::unique_ptr<storage::KvStore> disk = net.OpenStopped(3);
      EXPECT_EQ(*CommittedHeight(*disk), stopped_at);
      EXPECT_EQ(Value(*disk, keys::StateRootKey(stopped_at)),
                Value(*net.node(0).store, keys::StateRootKey(stopped_at)));
      EXPECT_EQ(Value(*disk, keys::BlockKey(stopped_at + 1)), "<none>");
    }
    net.StartNode(3, /*faulty=*/true);
    ASSERT_TRUE(net.WaitFor(all_committed({0, 1, 2, 3}))) << "restarted node 3 did not catch up";
    net.ExpectAgreement({0, 1, 2, 3});
  }
}

// --- Block sync ----------------------------------------------------------------------------------

// A chain of a dozen blocks or more, committed by four live replicas, then read from
// node 0's stopped store as a peer would serve it, and synced into a fresh store on a
// FaultyStore.
class BlockSyncFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (uint32_t i = 0; i < Network::kValidators; ++i) net_.StartNode(i);
    const std::vector<crypto::Hash32> ids = net_.SubmitQuotas(12, 1000);
    ASSERT_TRUE(net_.WaitFor([&] { return net_.AllCommitted({0}, ids) && net_.Height(0) >= 10; }))
        << "the chain did not grow";
    for (uint32_t i = 0; i < Network::kValidators; ++i) net_.StopNode(i);
    source_ = net_.OpenStopped(0);
    top_ = *CommittedHeight(*source_);
    fresh_ = net_.OpenReplay("fresh", /*faulty=*/true);
  }

  // The next range the fresh store needs, verified as block sync verifies it.
  SyncedRange NextRange(uint64_t blocks_max) {
    Result<ChainPoint> here = CommittedPoint(*fresh_->store, kChain);
    REEL_ASSERT(here.ok());
    Result<v1::GetBlocksResponse> response =
        ReadRange(*source_, kChain, here->height + 1, here->height + blocks_max);
    REEL_ASSERT(response.ok());
    Result<SyncedRange> range = VerifyRange(net_.VerifyContext(), *here, *response);
    REEL_ASSERT(range.ok());
    return std::move(range).value();
  }

  Status Apply(const SyncedRange& range) { return ApplyRange(*fresh_->app, *fresh_->store, range); }
  uint64_t Height() { return *CommittedHeight(*fresh_->store); }

  void ExpectSameChainUpTo(uint64_t height) {
    for (uint64_t h = 1; h <= height; ++h) {
      for (const std::string& key : {keys::BlockKey(h), keys::StateRootKey(h)}) {
        ASSERT_EQ(Value(*fresh_->store, key), Value(*source_, key)) << "height " << h;
      }
    }
  }

  World world_;
  Network net_{&world_};
  FatalThrows fatal_throws_;
  std::unique_ptr<storage::KvStore> source_;
  uint64_t top_ = 0;
  std::unique_ptr<testing::Replay> fresh_;
};

// The node's own store failing is not the peer's fault: the range is refused with the
// store's error, nobody is blamed, and the next round syncs it.
TEST_F(BlockSyncFaultTest, AReadFailureRefusesTheRangeAndTheNextRoundRetriesIt) {
  testing::ServingPeers peer(source_.get(), {1});
  // ApplyRange reads the block id record (KEYS.md, 0x03) to check that a range
  // continues this node's chain.
  fresh_->faults->Arm(
      Fault(Op::kRead).Prefix(keys::PrefixKey(keys::Prefix::kBlockHeightById)).Times(2));
  std::mutex mu;
  std::vector<Status> errors;
  BlockSync::Options options;
  options.poll_interval_ms = 20;
  auto on_error = [&](uint32_t, const Status& status) {
    std::lock_guard<std::mutex> lock(mu);
    errors.push_back(status);
  };
  BlockSync sync(
      kChain, &peer, fresh_->store.get(), [&](SyncedRange range) { return Apply(range); }, options,
      on_error);
  sync.Start();
  LedgerApplication& app = *fresh_->app;
  ASSERT_TRUE(net_.WaitFor([&] { return app.committed_height() == top_; }))
      << "synced to " << app.committed_height() << " of " << top_;
  sync.Stop();
  {
    std::lock_guard<std::mutex> lock(mu);
    ASSERT_EQ(errors.size(), 2u);
    for (const Status& s : errors) EXPECT_EQ(s.code(), Code::kIoError) << s.ToString();
  }
  EXPECT_EQ(sync.ranges_refused(), 0u) << "the peer was blamed for this node's store";
  ExpectSameChainUpTo(top_);
}

// After a restart only the newest state root is cached: a header's root is read from
// disk, and a read that fails refuses the range rather than skip the check.
TEST_F(BlockSyncFaultTest, AStateRootThatCannotBeReadRefusesTheRange) {
  ASSERT_OK(Apply(NextRange(3)));
  const uint64_t before = Height();
  fresh_->RestartApp();
  const std::string any_root = keys::StateRootKey(0);
  fresh_->faults->Arm(
      Fault(Op::kRead).Prefix(any_root.substr(0, any_root.size() - keys::kHeightBytes)));
  const SyncedRange range = NextRange(4);
  const Status refused = Apply(range);
  EXPECT_EQ(refused.code(), Code::kIoError) << refused.ToString();
  EXPECT_THAT(refused.message(), HasSubstr("cannot check the state root"));
  EXPECT_EQ(fresh_->app->committed_height(), before) << "a block was applied unchecked";
  EXPECT_EQ(Height(), before);
  ASSERT_OK(Apply(range));
  ExpectSameChainUpTo(Height());
}

// A write that fails while applying a range stops the node, at the last block it wrote,
// as a commit by consensus would; the commit proof that ends a range too.
TEST_F(BlockSyncFaultTest, AWriteFailureWhileApplyingARangeStopsTheNode) {
  ASSERT_OK(Apply(NextRange(2)));
  const SyncedRange range = NextRange(3);
  const uint64_t first = range.blocks.front().header.height;
  fresh_->faults->Arm(Fault(Op::kWrite).Prefix(keys::CommitHeightKey()).After(1));
  EXPECT_THAT(FatalOf([&] { (void)Apply(range); }),
              HasSubstr("cannot write committed block " + std::to_string(first + 1)));
  EXPECT_EQ(Height(), first);
  ExpectSameChainUpTo(first);

  fresh_->faults->Heal();
  fresh_->RestartApp();
  const SyncedRange rest = NextRange(3);
  fresh_->faults->Arm(Fault(Op::kWrite).Prefix(keys::CommitTipKey()));
  EXPECT_THAT(FatalOf([&] { (void)Apply(rest); }), HasSubstr("cannot store the commit proof"));
  // The blocks themselves were written, each in its own synced batch.
  EXPECT_EQ(Height(), rest.blocks.back().header.height);
  ExpectSameChainUpTo(Height());
}

}  // namespace
}  // namespace reel::replica
