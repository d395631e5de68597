// Network: four replicas of the real consensus core, ledger, mempool and LevelDB
// stores, each on its own Asio loop thread, joined by an in-process transport; and for
// block sync tests, a Replay store to sync the network's chain into and ServingPeers to
// sync it from. Shared by the replica tests (replica_test.cc) and the storage fault
// tests (storage_fault_test.cc).
//
// A node may be started on a FaultyStore (tests/storage/faulty_store.h) over its
// LevelDB store. When a node stops itself through replica::internal::Fatal, and a
// FatalThrows scope is alive, Fatal throws StoppedByFatal instead of aborting; the
// node's loop thread catches it, records the message and ends: the node is halted, as
// a real node would be, and the test process goes on.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "node/mempool/admission.h"
#include "node/replica/block_sync.h"
#include "node/replica/chain_store.h"
#include "node/replica/internal.h"
#include "node/replica/replica.h"
#include "node/storage/keys.h"
#include "node/storage/leveldb_store.h"
#include "tests/ledger/ledger_test_util.h"
#include "tests/storage/faulty_store.h"
#include "tests/test_util.h"

namespace reel::replica::testing {

using ledger::testing::kChain;
using ledger::testing::World;

// What replica::internal::Fatal throws while a FatalThrows scope is alive.
struct StoppedByFatal {
  std::string what;
};

// Makes Fatal throw StoppedByFatal for the scope's life (the handler is process-wide).
class FatalThrows {
 public:
  FatalThrows() { internal::fatal_handler_for_testing = &Throw; }
  ~FatalThrows() { internal::fatal_handler_for_testing = nullptr; }
  FatalThrows(const FatalThrows&) = delete;
  FatalThrows& operator=(const FatalThrows&) = delete;

 private:
  static void Throw(const std::string& what) { throw StoppedByFatal{what}; }
};

// One validator: its store, mempool, application, loop thread and replica.
struct Node {
  std::string dir;
  std::unique_ptr<storage::KvStore> store;
  storage::testing::FaultyStore* faults = nullptr;  // `store`, when started on one
  std::unique_ptr<mempool::Mempool> pool;
  std::unique_ptr<mempool::Admission> admission;
  std::unique_ptr<LedgerApplication> app;
  std::unique_ptr<asio::io_context> io;
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::unique_ptr<Replica> replica;
  std::thread thread;
  // Set by the loop thread when Fatal stopped the node.
  std::atomic<bool> halted{false};
  std::string fatal;  // written before `halted` is set
};

// A store at genesis with its own mempool and application, outside the network: where
// the block sync tests replay the network's chain.
struct Replay {
  std::unique_ptr<storage::KvStore> store;
  storage::testing::FaultyStore* faults = nullptr;  // `store`, when made on one
  mempool::Mempool pool;
  std::unique_ptr<LedgerApplication> app;

  // A new application over the store, as after a restart of the node.
  void RestartApp() {
    app = std::make_unique<LedgerApplication>(kChain, store.get(), &pool);
    const Status opened = app->Open();
    REEL_ASSERT(opened.ok());
  }

  // A BlockSync from `peers` that applies what it syncs here, as a node's does, polling
  // every 20 ms; not started. The replay and `peers` must outlive it.
  std::unique_ptr<BlockSync> SyncFrom(SyncPeers* peers) {
    BlockSync::Options options;
    options.poll_interval_ms = 20;
    return std::make_unique<BlockSync>(
        kChain, peers, store.get(),
        [this](SyncedRange range) { return ApplyRange(*app, *store, range); }, options);
  }
};

// The peers a block sync test syncs from: each serves `source`'s committed chain as
// Peer.GetBlocks does. `alter`, if set, may change what a peer sends.
class ServingPeers : public SyncPeers {
 public:
  using Alter = std::function<void(uint32_t peer, v1::GetBlocksResponse& response)>;
  ServingPeers(const storage::KvStore* source, std::vector<uint32_t> peers, Alter alter = {})
      : source_(source), peers_(std::move(peers)), alter_(std::move(alter)) {}

  std::vector<uint32_t> Candidates() const override { return peers_; }
  Result<v1::SyncInfo> GetSyncInfo(uint32_t) override {
    v1::SyncInfo info;
    info.set_committed_height(*CommittedHeight(*source_));
    return info;
  }
  Result<v1::GetBlocksResponse> GetBlocks(uint32_t peer, const v1::GetBlocksRequest& r) override {
    Result<v1::GetBlocksResponse> range =
        ReadRange(*source_->GetSnapshot(), kChain, r.from_height(), r.to_height());
    if (range.ok() && alter_) alter_(peer, *range);
    return range;
  }

 private:
  const storage::KvStore* source_;
  std::vector<uint32_t> peers_;
  Alter alter_;
};

class Network;

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
    *genesis_.add_orgs() =
        World::Org("mineco", v1::ORG_KIND_STATE_ENTERPRISE, {v1::ROLE_MINER}, *world_);
    // The replica runs the validators the committed state names (chain_store.h ReadEpoch).
    for (uint32_t i = 0; i < kValidators; ++i) {
      v1::Validator* v = genesis_.add_validators();
      v->set_name("validator-" + std::to_string(i));
      v->set_org_id("miit");
      v->set_public_key(std::string(crypto::AsBytes(validators_.keys[i])));
      v->set_address("127.0.0.1:1");
      v->set_tls_cert_sha256(std::string(32, static_cast<char>(i + 1)));
    }
    for (uint32_t i = 0; i < kValidators; ++i) {
      transports_.push_back(std::make_unique<LoopbackTransport>(this, i));
      nodes_.push_back(std::make_unique<Node>());
      nodes_[i]->dir = dirs_.Sub("node" + std::to_string(i));
    }
  }
  ~Network() {
    for (uint32_t i = 0; i < kValidators; ++i) StopNode(i);
  }

  // Starts node `i` from its store; on a FaultyStore over it if `faulty`.
  void StartNode(uint32_t i, bool faulty = false) {
    Node& n = *nodes_[i];
    auto store = storage::OpenLevelDb(n.dir);
    ASSERT_OK(store);
    n.store = std::move(store).value();
    n.faults = nullptr;
    if (faulty) {
      auto wrapped = std::make_unique<storage::testing::FaultyStore>(std::move(n.store));
      n.faults = wrapped.get();
      n.store = std::move(wrapped);
    }
    n.halted = false;
    n.fatal.clear();
    ASSERT_OK(Initialize(*n.store, genesis_, 0));
    n.pool = std::make_unique<mempool::Mempool>();
    n.admission = std::make_unique<mempool::Admission>(kChain, n.pool.get(), 1);
    n.app = std::make_unique<LedgerApplication>(kChain, n.store.get(), n.pool.get());
    ASSERT_OK(n.app->Open());
    n.io = std::make_unique<asio::io_context>();
    n.work = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
        n.io->get_executor());
    ReplicaConfig config;
    config.consensus.chain_id = kChain;
    config.consensus.validators = validators_;
    config.consensus.self_index = i;
    config.consensus.round_timeout_ms_initial = 400;
    config.tick_ms = 20;
    crypto::KeyPair key = crypto::KeyPair::FromSeed(
                              crypto::AsBytes(crypto::Blake2b256("validator#" + std::to_string(i))))
                              .value();
    {
      std::lock_guard<std::mutex> lock(mu_);
      n.replica = std::make_unique<Replica>(config, std::move(key), n.io.get(), n.store.get(),
                                            n.app.get(), transports_[i].get());
    }
    std::promise<Status> started;
    asio::post(*n.io, [&] { started.set_value(n.replica->Start()); });
    n.thread = std::thread([&n] {
      try {
        n.io->run();
      } catch (const StoppedByFatal& stop) {
        // The loop is abandoned where Fatal stopped it, as the process would be.
        n.fatal = stop.what;
        n.halted = true;
      }
    });
    Status s = started.get_future().get();
    ASSERT_OK(s);
  }

  void StopNode(uint32_t i) {
    Node& n = *nodes_[i];
    if (!n.thread.joinable()) return;
    if (!n.halted) {
      auto stopped = std::make_shared<std::promise<void>>();
      std::future<void> done = stopped->get_future();
      asio::post(*n.io, [&n, stopped] {
        n.replica->Stop();
        stopped->set_value();
      });
      // A loop that Fatal ends meanwhile never runs the stop.
      while (done.wait_for(std::chrono::milliseconds(10)) != std::future_status::ready &&
             !n.halted) {
      }
      n.work.reset();
      n.io->stop();
    }
    n.thread.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      n.replica.reset();
    }
    n.admission.reset();
    n.app.reset();
    n.pool.reset();
    n.work.reset();
    n.io.reset();
    n.faults = nullptr;
    n.store.reset();
  }

  // Gives a message to replica `to` if it is running.
  template <typename F>
  void WithReplica(uint32_t to, F f) {
    std::lock_guard<std::mutex> lock(mu_);
    if (to < nodes_.size() && nodes_[to]->replica != nullptr) f(*nodes_[to]->replica);
  }

  // Admits a transaction to every node that is up, as gossip would.
  void Submit(const v1::Transaction& tx) {
    for (auto& n : nodes_) {
      if (n->store == nullptr || n->halted) continue;
      auto r = n->admission->Admit({tx}, *n->store, Height(*n) + 1);
      EXPECT_OK(r[0]);
    }
  }

  uint64_t Height(Node& n) {
    Result<uint64_t> h = CommittedHeight(*n.store);
    return h.ok() ? *h : 0;
  }
  uint64_t Height(uint32_t i) { return Height(*nodes_[i]); }

  bool HasTx(uint32_t i, const crypto::Hash32& id) {
    auto got = nodes_[i]->store->Get(storage::keys::TxKey(crypto::AsBytes(id)));
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

  // Submits `count` quota transactions, of `first_amount`, `first_amount` + 1, ... grams;
  // returns their ids.
  std::vector<crypto::Hash32> SubmitQuotas(int count, int64_t first_amount) {
    std::vector<crypto::Hash32> ids;
    for (int k = 0; k < count; ++k) {
      v1::Transaction tx = QuotaTx(first_amount + k);
      ids.push_back(IdOf(tx));
      Submit(tx);
    }
    return ids;
  }

  // Every transaction of `ids` is committed on every node of `which`.
  bool AllCommitted(const std::vector<uint32_t>& which, const std::vector<crypto::Hash32>& ids) {
    for (uint32_t i : which) {
      for (const crypto::Hash32& id : ids) {
        if (!HasTx(i, id)) return false;
      }
    }
    return true;
  }

  // Stopped node `i`'s store, as a peer serving its chain reads it.
  std::unique_ptr<storage::KvStore> OpenStopped(uint32_t i) {
    REEL_ASSERT(!nodes_[i]->thread.joinable());
    Result<std::unique_ptr<storage::KvStore>> store = storage::OpenLevelDb(nodes_[i]->dir);
    REEL_ASSERT(store.ok());
    return std::move(store).value();
  }

  // The store `name` under dirs() with a new application: a new store starts at
  // genesis, one opened before (and closed since) resumes where it was, as a restarted
  // node does. On a FaultyStore over LevelDB if `faulty`.
  std::unique_ptr<Replay> OpenReplay(const std::string& name, bool faulty = false) {
    auto replay = std::make_unique<Replay>();
    Result<std::unique_ptr<storage::KvStore>> store = storage::OpenLevelDb(dirs_.Sub(name));
    REEL_ASSERT(store.ok());
    replay->store = std::move(store).value();
    if (faulty) {
      auto wrapped = std::make_unique<storage::testing::FaultyStore>(std::move(replay->store));
      replay->faults = wrapped.get();
      replay->store = std::move(wrapped);
    }
    const Status initialized = Initialize(*replay->store, genesis_, 0);
    REEL_ASSERT(initialized.ok());
    replay->RestartApp();
    return replay;
  }

  // Every running node holds the same committed blocks and state root at each
  // height they share.
  void ExpectAgreement(const std::vector<uint32_t>& which) {
    uint64_t common = UINT64_MAX;
    for (uint32_t i : which) common = std::min(common, Height(i));
    ASSERT_GT(common, 0u);
    for (uint64_t h = 1; h <= common; ++h) {
      std::string first;
      std::string first_root;
      for (uint32_t i : which) {
        auto block = ReadCommittedBlock(*nodes_[i]->store, h);
        ASSERT_OK(block);
        std::string bytes = block->header().SerializeAsString();
        auto root = nodes_[i]->store->Get(storage::keys::StateRootKey(h));
        ASSERT_TRUE(root.ok() && root->has_value()) << "node " << i << " has no root at " << h;
        if (first.empty()) {
          first = bytes;
          first_root = **root;
        } else {
          EXPECT_EQ(bytes, first) << "node " << i << " differs at height " << h;
          EXPECT_EQ(**root, first_root) << "node " << i << "'s state root differs at height " << h;
        }
      }
    }
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
  // miit alone governs the validator set here (the only ministry of genesis), so its
  // proposal is approved at once and ends the epoch.
  v1::Transaction TimingsChangeTx(const std::string& change_id, uint64_t round_timeout_ms) {
    v1::ConsensusParams params;
    params.set_round_timeout_ms(round_timeout_ms);
    return ConsensusChangeTx(change_id, params);
  }
  v1::Transaction ConsensusChangeTx(const std::string& change_id,
                                    const v1::ConsensusParams& params) {
    v1::TxBody body = world_->Body("miit");
    v1::ProposeValidatorChange* change = body.mutable_propose_validator_change();
    change->set_change_id(change_id);
    *change->mutable_consensus() = params;
    return world_->Sign(body);
  }
  crypto::Hash32 IdOf(const v1::Transaction& tx) {
    return crypto::TransactionId(kChain, tx.body());
  }

  Node& node(uint32_t i) { return *nodes_[i]; }
  const std::string& dir(uint32_t i) const { return nodes_[i]->dir; }
  // A folder for the test's own stores, removed with the network.
  const reel::testing::TempDir& dirs() const { return dirs_; }
  const v1::Genesis& genesis() const { return genesis_; }
  const consensus::ValidatorSet& validators() const { return validators_; }
  consensus::VerifyContext VerifyContext() const {
    consensus::VerifyContext ctx;
    ctx.chain_id = kChain;
    ctx.validators = &validators_;
    ctx.epoch_root_id = consensus::MakeGenesisBlock(kChain, 0).id;
    return ctx;
  }

 private:
  World* world_;
  reel::testing::TempDir dirs_{"replica"};
  consensus::ValidatorSet validators_;
  v1::Genesis genesis_;
  std::vector<std::unique_ptr<LoopbackTransport>> transports_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::mutex mu_;
};

inline void LoopbackTransport::Send(uint32_t to, const v1::ConsensusMessage& message) {
  net_->WithReplica(to, [&](Replica& r) { r.PostMessage(self_, message); });
}

inline void LoopbackTransport::Broadcast(const v1::ConsensusMessage& message) {
  for (uint32_t to = 0; to < Network::kValidators; ++to) {
    if (to != self_) Send(to, message);
  }
}

inline void LoopbackTransport::FetchBlocks(uint32_t peer, const crypto::Hash32& block_id,
                                           uint64_t above) {
  const uint32_t asker = self_;
  Network* net = net_;
  net_->WithReplica(peer, [&](Replica& r) {
    r.PostServeFetch(block_id, above, [net, asker, peer](std::vector<v1::Block> blocks) {
      net->WithReplica(asker, [&](Replica& a) { a.PostBlocksFetched(peer, std::move(blocks)); });
    });
  });
}

}  // namespace reel::replica::testing
