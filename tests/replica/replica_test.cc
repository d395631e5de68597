// Four replicas of the real consensus core, ledger, mempool and LevelDB stores, each
// on its own Asio loop thread, joined by an in-process transport: transactions commit
// on all, every node holds the same blocks and state roots, and a replica that is
// stopped and restarted from its store catches up and agrees.
#include "node/replica/replica.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>

#include "node/mempool/admission.h"
#include "node/replica/block_sync.h"
#include "node/replica/chain_store.h"
#include "node/replica/commit_proof.h"
#include "node/storage/keys.h"
#include "node/storage/leveldb_store.h"
#include "tests/ledger/ledger_test_util.h"
#include "tests/test_util.h"

namespace reel::replica {
namespace {

using ledger::testing::kChain;
using ledger::testing::World;
namespace keys = storage::keys;

class Network;

// One validator: its store, mempool, application, loop thread and replica.
struct Node {
  std::string dir;
  std::unique_ptr<storage::KvStore> store;
  std::unique_ptr<mempool::Mempool> pool;
  std::unique_ptr<mempool::Admission> admission;
  std::unique_ptr<LedgerApplication> app;
  std::unique_ptr<asio::io_context> io;
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::unique_ptr<Replica> replica;
  std::thread thread;
};

class LoopbackTransport : public Transport {
 public:
  LoopbackTransport(Network* net, uint32_t self) : net_(net), self_(self) {}
  void Send(uint32_t to, const v1::ConsensusMessage& message) override;
  void Broadcast(const v1::ConsensusMessage& message) override;
  void FetchBlocks(uint32_t peer, const crypto::Hash32& block_id, uint64_t above) override;

 private:
  Network* net_;
  uint32_t self_;
};

class Network {
 public:
  static constexpr uint32_t kValidators = 4;

  explicit Network(World* world) : world_(world) {
    for (uint32_t i = 0; i < kValidators; ++i) {
      validators_.keys.push_back(world_->Key("validator", static_cast<int>(i)).public_key());
    }
    world_->Genesis({});
    genesis_.set_chain_id(kChain);
    genesis_.set_genesis_time_ms(world_->time_ms() - 1000);
    *genesis_.add_orgs() = World::Org("miit", v1::ORG_KIND_MINISTRY, {v1::ROLE_REGULATOR}, *world_);
    *genesis_.add_orgs() = World::Org("mineco", v1::ORG_KIND_STATE_ENTERPRISE, {v1::ROLE_MINER}, *world_);
    for (uint32_t i = 0; i < kValidators; ++i) {
      transports_.push_back(std::make_unique<LoopbackTransport>(this, i));
      nodes_.push_back(std::make_unique<Node>());
      nodes_[i]->dir = dirs_.Sub("node" + std::to_string(i));
    }
  }
  ~Network() {
    for (uint32_t i = 0; i < kValidators; ++i) StopNode(i);
  }

  void StartNode(uint32_t i) {
    Node& n = *nodes_[i];
    auto store = storage::OpenLevelDb(n.dir);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    n.store = std::move(store).value();
    ASSERT_TRUE(Initialize(*n.store, genesis_, 0).ok());
    n.pool = std::make_unique<mempool::Mempool>();
    n.admission = std::make_unique<mempool::Admission>(kChain, n.pool.get(), 1);
    n.app = std::make_unique<LedgerApplication>(kChain, n.store.get(), n.pool.get());
    ASSERT_TRUE(n.app->Open().ok());
    n.io = std::make_unique<asio::io_context>();
    n.work = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
        n.io->get_executor());
    ReplicaConfig config;
    config.consensus.chain_id = kChain;
    config.consensus.validators = validators_;
    config.consensus.self_index = i;
    config.consensus.round_timeout_ms_initial = 400;
    config.tick_ms = 20;
    crypto::KeyPair key =
        crypto::KeyPair::FromSeed(crypto::AsBytes(crypto::Blake2b256("validator#" + std::to_string(i))))
            .value();
    {
      std::lock_guard<std::mutex> lock(mu_);
      n.replica = std::make_unique<Replica>(config, std::move(key), n.io.get(), n.store.get(),
                                            n.app.get(), transports_[i].get());
    }
    std::promise<Status> started;
    asio::post(*n.io, [&] { started.set_value(n.replica->Start()); });
    n.thread = std::thread([io = n.io.get()] { io->run(); });
    Status s = started.get_future().get();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  void StopNode(uint32_t i) {
    Node& n = *nodes_[i];
    if (!n.thread.joinable()) return;
    std::promise<void> stopped;
    asio::post(*n.io, [&] {
      n.replica->Stop();
      stopped.set_value();
    });
    stopped.get_future().wait();
    n.work.reset();
    n.io->stop();
    n.thread.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      n.replica.reset();
    }
    n.admission.reset();
    n.app.reset();
    n.pool.reset();
    n.io.reset();
    n.store.reset();
  }

  // Gives a message to replica `to` if it is running.
  template <typename F>
  void WithReplica(uint32_t to, F f) {
    std::lock_guard<std::mutex> lock(mu_);
    if (to < nodes_.size() && nodes_[to]->replica != nullptr) f(*nodes_[to]->replica);
  }

  // Admits a transaction to every running node, as gossip would.
  void Submit(const v1::Transaction& tx) {
    for (auto& n : nodes_) {
      if (n->store == nullptr) continue;
      auto r = n->admission->Admit({tx}, *n->store, Height(*n) + 1);
      EXPECT_TRUE(r[0].ok()) << r[0].status().ToString();
    }
  }

  uint64_t Height(Node& n) {
    Result<uint64_t> h = CommittedHeight(*n.store);
    return h.ok() ? *h : 0;
  }
  uint64_t Height(uint32_t i) { return Height(*nodes_[i]); }

  bool HasTx(uint32_t i, const crypto::Hash32& id) {
    auto got = nodes_[i]->store->Get(keys::TxKey(crypto::AsBytes(id)));
    return got.ok() && got->has_value();
  }

  // Waits until `done` holds, up to `seconds`.
  template <typename F>
  bool WaitFor(F done, int seconds = 60) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return done();
  }

  // Every running node holds the same committed blocks and state root at each
  // height they share.
  void ExpectAgreement(const std::vector<uint32_t>& which) {
    uint64_t common = UINT64_MAX;
    for (uint32_t i : which) common = std::min(common, Height(i));
    ASSERT_GT(common, 0u);
    for (uint64_t h = 1; h <= common; ++h) {
      std::string first;
      for (uint32_t i : which) {
        auto block = ReadCommittedBlock(*nodes_[i]->store, h);
        ASSERT_TRUE(block.ok()) << block.status().ToString();
        std::string bytes = block->header().SerializeAsString();
        if (first.empty()) {
          first = bytes;
        } else {
          EXPECT_EQ(bytes, first) << "node " << i << " differs at height " << h;
        }
      }
    }
  }

  // Stopped node `i`'s store: every height has a commit proof that verifies, and
  // proofs with a changed round, signature or header are refused.
  void ExpectEveryBlockProvablyCommitted(uint32_t i) {
    auto store = storage::OpenLevelDb(nodes_[i]->dir);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    const uint64_t top = *CommittedHeight(**store);
    ASSERT_GT(top, 2u);
    consensus::VerifyContext ctx;
    ctx.chain_id = kChain;
    ctx.validators = &validators_;
    ctx.genesis_id = consensus::MakeGenesisBlock(kChain, 0).id;
    for (uint64_t h = 1; h <= top; ++h) {
      Result<std::optional<v1::CommitProof>> proof = ReadCommitProof(**store, kChain, h, top);
      ASSERT_TRUE(proof.ok()) << proof.status().ToString();
      ASSERT_TRUE(proof->has_value()) << "no commit proof at height " << h << " of " << top;
      Result<v1::Block> block = ReadCommittedBlock(**store, h);
      ASSERT_TRUE(block.ok());
      Result<crypto::Hash32> id = HeaderId(block->header(), kChain);
      ASSERT_TRUE(id.ok());
      const v1::CommitProof& good = **proof;
      const Status verified = VerifyCommitProof(*id, good, ctx);
      EXPECT_TRUE(verified.ok()) << "height " << h << ": " << verified.ToString();

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

  void ExpectRangesSyncIntoAFreshStore(uint32_t i) {
    auto source = storage::OpenLevelDb(nodes_[i]->dir);
    ASSERT_TRUE(source.ok()) << source.status().ToString();
    const uint64_t top = *CommittedHeight(**source);
    auto fresh = storage::OpenLevelDb(dirs_.Sub("fresh"));
    ASSERT_TRUE(fresh.ok());
    ASSERT_OK(Initialize(**fresh, genesis_, 0));
    mempool::Mempool pool;
    LedgerApplication app(kChain, fresh->get(), &pool);
    ASSERT_OK(app.Open());
    consensus::VerifyContext ctx;
    ctx.chain_id = kChain;
    ctx.validators = &validators_;
    ctx.genesis_id = consensus::MakeGenesisBlock(kChain, 0).id;

    bool tampered_once = false;
    for (;;) {
      Result<ChainPoint> here = CommittedPoint(**fresh, kChain);
      ASSERT_TRUE(here.ok()) << here.status().ToString();
      if (here->height == top) break;
      Result<v1::GetBlocksResponse> response = ReadRange(**source, kChain, here->height + 1, here->height + 16);
      ASSERT_TRUE(response.ok()) << response.status().ToString();
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
        bad.mutable_blocks(0)->mutable_header()->set_timestamp_ms(good.blocks(0).header().timestamp_ms() + 1);
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
      ASSERT_TRUE(range.ok()) << range.status().ToString();
      ASSERT_OK(ApplyRange(app, **fresh, *range));
    }
    EXPECT_TRUE(tampered_once) << "no range had the blocks the tampering cases need";
    for (uint64_t h : {uint64_t{1}, top}) {
      EXPECT_EQ(ReadCommittedBlock(**fresh, h)->SerializeAsString(),
                ReadCommittedBlock(**source, h)->SerializeAsString());
      EXPECT_EQ(*(*fresh)->Get(keys::StateRootKey(h)), *(*source)->Get(keys::StateRootKey(h)));
    }
    // And its newest block has a commit proof, from the range it came with.
    Result<std::optional<v1::CommitProof>> proof = ReadCommitProof(**fresh, kChain, top, top);
    ASSERT_TRUE(proof.ok() && proof->has_value());
  }

  // What a peer answers to a block fetch (serve_fetch.h), from stopped node `i`'s
  // store: the committed ancestry above the asked height, oldest first, then what the
  // loop gave from its tree; nothing for a block it does not have.
  void ExpectFetchAnswers(uint32_t i) {
    auto store = storage::OpenLevelDb(nodes_[i]->dir);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    const uint64_t top = *CommittedHeight(**store);
    ASSERT_GT(top, 4u);
    Result<crypto::Hash32> tip = HeaderId(ReadCommittedBlock(**store, top)->header(), kChain);
    ASSERT_TRUE(tip.ok());
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
  void ExpectSyncPastAPeerThatAltersSignatures(uint32_t i) {
    auto source = storage::OpenLevelDb(nodes_[i]->dir);
    ASSERT_TRUE(source.ok()) << source.status().ToString();
    const uint64_t top = *CommittedHeight(**source);
    auto fresh = storage::OpenLevelDb(dirs_.Sub("fresh-from-two-peers"));
    ASSERT_TRUE(fresh.ok());
    ASSERT_OK(Initialize(**fresh, genesis_, 0));
    mempool::Mempool pool;
    LedgerApplication app(kChain, fresh->get(), &pool);
    ASSERT_OK(app.Open());

    class TwoPeers : public SyncPeers {
     public:
      explicit TwoPeers(storage::KvStore* source) : source_(source) {}
      std::vector<uint32_t> Candidates() const override { return {1, 2}; }
      Result<v1::SyncInfo> GetSyncInfo(uint32_t) override {
        v1::SyncInfo info;
        info.set_committed_height(*CommittedHeight(*source_));
        return info;
      }
      Result<v1::GetBlocksResponse> GetBlocks(uint32_t peer, const v1::GetBlocksRequest& r) override {
        Result<v1::GetBlocksResponse> range =
            ReadRange(*source_->GetSnapshot(), kChain, r.from_height(), r.to_height());
        if (!range.ok() || peer != 1) return range;
        for (v1::Block& block : *range->mutable_blocks()) {
          for (v1::Transaction& tx : *block.mutable_txs()) {
            (*tx.mutable_signatures(0)->mutable_signature())[9] ^= 1;
            ++altered;
            return range;
          }
        }
        return range;
      }
      std::atomic<int> altered{0};

     private:
      storage::KvStore* source_;
    } peers(source->get());

    BlockSync::Options options;
    options.poll_interval_ms = 20;
    BlockSync sync(kChain, validators_, &peers, fresh->get(),
                   [&](SyncedRange range) { return ApplyRange(app, **fresh, range); }, options);
    sync.Start();
    ASSERT_TRUE(WaitFor([&] { return app.committed_height() == top; }))
        << "synced to " << app.committed_height() << " of " << top;
    sync.Stop();
    EXPECT_GT(peers.altered.load(), 0) << "no range held a transaction to alter";
    EXPECT_GT(sync.refused_by_peer()[1], 0u) << "the altered ranges were not counted against peer 1";
    EXPECT_EQ(sync.refused_by_peer().count(2), 0u) << "an honest peer was blamed";
    for (uint64_t h = 1; h <= top; ++h) {
      ASSERT_EQ(ReadCommittedBlock(**fresh, h)->SerializeAsString(),
                ReadCommittedBlock(**source, h)->SerializeAsString())
          << "height " << h;
    }
    EXPECT_EQ(*(*fresh)->Get(keys::StateRootKey(top)), *(*source)->Get(keys::StateRootKey(top)));
  }

  v1::Transaction QuotaTx(int64_t amount) {
    v1::TxBody body = world_->Body("miit");
    v1::SetQuota* q = body.mutable_set_quota();
    q->set_org_id("mineco");
    q->set_year(2026);
    q->set_category(v1::QUOTA_CATEGORY_MINING_LIGHT);
    q->set_amount_g(amount);
    return world_->Sign(body);
  }
  crypto::Hash32 IdOf(const v1::Transaction& tx) { return crypto::TransactionId(kChain, tx.body()); }

 private:
  World* world_;
  reel::testing::TempDir dirs_{"replica"};
  consensus::ValidatorSet validators_;
  v1::Genesis genesis_;
  std::vector<std::unique_ptr<LoopbackTransport>> transports_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::mutex mu_;
};

void LoopbackTransport::Send(uint32_t to, const v1::ConsensusMessage& message) {
  net_->WithReplica(to, [&](Replica& r) { r.PostMessage(self_, message); });
}

void LoopbackTransport::Broadcast(const v1::ConsensusMessage& message) {
  for (uint32_t to = 0; to < Network::kValidators; ++to) {
    if (to != self_) Send(to, message);
  }
}

void LoopbackTransport::FetchBlocks(uint32_t peer, const crypto::Hash32& block_id, uint64_t above) {
  const uint32_t asker = self_;
  Network* net = net_;
  net_->WithReplica(peer, [&](Replica& r) {
    r.PostServeFetch(block_id, above, [net, asker, peer](std::vector<v1::Block> blocks) {
      net->WithReplica(asker, [&](Replica& a) { a.PostBlocksFetched(peer, std::move(blocks)); });
    });
  });
}

TEST(ReplicaTest, FourReplicasCommitTheSameBlocksAndSurviveARestart) {
  World world;
  Network net(&world);
  for (uint32_t i = 0; i < Network::kValidators; ++i) net.StartNode(i);

  std::vector<crypto::Hash32> ids;
  for (int k = 0; k < 20; ++k) {
    v1::Transaction tx = net.QuotaTx(1000 + k);
    ids.push_back(net.IdOf(tx));
    net.Submit(tx);
  }
  auto all_committed = [&](const std::vector<uint32_t>& which) {
    return [&, which] {
      for (uint32_t i : which) {
        for (const auto& id : ids) {
          if (!net.HasTx(i, id)) return false;
        }
      }
      return true;
    };
  };
  ASSERT_TRUE(net.WaitFor(all_committed({0, 1, 2, 3}))) << "transactions did not commit on all";
  net.ExpectAgreement({0, 1, 2, 3});

  // Stop one replica; the other three (a quorum) keep committing.
  net.StopNode(3);
  const uint64_t stopped_at = net.Height(0);
  for (int k = 0; k < 10; ++k) {
    v1::Transaction tx = net.QuotaTx(5000 + k);
    ids.push_back(net.IdOf(tx));
    net.Submit(tx);
  }
  ASSERT_TRUE(net.WaitFor(all_committed({0, 1, 2}))) << "three of four did not commit";
  EXPECT_GT(net.Height(0), stopped_at);

  // Restarted from its own store, it catches up and agrees.
  net.StartNode(3);
  ASSERT_TRUE(net.WaitFor(all_committed({0, 1, 2, 3}))) << "restarted replica did not catch up";
  net.ExpectAgreement({0, 1, 2, 3});

  // Every committed block, the newest included, has a commit proof that checks with
  // the validator keys alone; an altered one does not.
  net.StopNode(0);
  net.ExpectFetchAnswers(0);
  net.ExpectEveryBlockProvablyCommitted(0);
  // Block sync: the chain, read in ranges as a peer serves them, verifies and
  // replays into a fresh store to the same state; altered ranges are refused.
  net.ExpectRangesSyncIntoAFreshStore(0);
  net.ExpectSyncPastAPeerThatAltersSignatures(0);
}

}  // namespace
}  // namespace reel::replica
