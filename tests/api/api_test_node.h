// TestNode: a NodeView over a real LevelDB store (in a fresh temporary directory), the
// real ledger and the real mempool admission, standing in for the daemon in API tests.
// The store is wrapped in a FaultyStore (tests/storage/faulty_store.h), which passes
// everything through until a test arms a fault through faults().
// Blocks are executed with the ledger and written the way the node writes them
// (node/storage/KEYS.md): the execution batch, the block by height and by id, the QC
// that certified it, and the commit height, in one synced batch (WriteBlockForTest).
//
// Blocks get rounds equal to their heights unless a test skips rounds, so the QC in
// block h + 1 certifies block h one round after it, as on a healthy chain.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "crypto/keys.h"
#include "crypto/merkle.h"
#include "crypto/signing.h"
#include "node/api/chain_reader.h"
#include "node/api/node_view.h"
#include "node/ledger/ledger.h"
#include "node/mempool/admission.h"
#include "node/mempool/mempool.h"
#include "node/storage/keys.h"
#include "node/storage/leveldb_store.h"
#include "tests/storage/faulty_store.h"
#include "tests/test_util.h"

namespace reel::api::testing {

namespace v1 = ::reel::v1;

inline constexpr char kChain[] = "reel-api-test";
// 2025-06-01 00:00 in UTC+8: quotas of 2025 apply.
inline constexpr uint64_t kJun2025Ms = 1748707200000;
// The validator key genesis names for this node (GetStatus finds self by it).
inline const std::string kValidatorKey(32, '\x07');

inline std::string Bytes(const crypto::Hash32& h) {
  return std::string(crypto::AsBytes(h));
}

class TestNode : public NodeView {
 public:
  explicit TestNode(mempool::MempoolLimits pool_limits = {}) : dir_("api"), pool_(pool_limits) {
    Result<std::unique_ptr<storage::KvStore>> opened = storage::OpenLevelDb(dir_.Sub("db"));
    REEL_ASSERT(opened.ok());
    auto faulty = std::make_unique<storage::testing::FaultyStore>(std::move(opened).value());
    faults_ = faulty.get();
    store_ = std::move(faulty);
    admission_ = std::make_unique<mempool::Admission>(kChain, &pool_, 2);
  }
  ~TestNode() override { admission_.reset(); }

  // --- NodeView
  NodeInfo Info() const override {
    NodeInfo info;
    info.chain_id = kChain;
    info.self_public_key = kValidatorKey;
    info.mempool_txs = pool_.size();
    info.version = "test";
    info.syncing = syncing_;
    return info;
  }
  std::unique_ptr<storage::Snapshot> CommittedSnapshot() const override {
    return store_->GetSnapshot();
  }
  std::vector<Result<crypto::Hash32>> Submit(const std::vector<v1::Transaction>& txs) override {
    std::unique_ptr<storage::Snapshot> snapshot = store_->GetSnapshot();
    return admission_->Admit(txs, *snapshot, height() + 1, mempool::Admission::Source::kClient);
  }
  bool IsPending(const crypto::Hash32& tx_id) const override { return pool_.Contains(tx_id); }
  uint64_t WaitForCommitAbove(uint64_t h, Deadline deadline) const override {
    std::unique_lock<std::mutex> lock(mu_);
    if (height_ <= h) {
      ++waits_;
      waited_.notify_all();
    }
    committed_.wait_until(lock, deadline, [&] { return height_ > h; });
    return height_;
  }

  // Blocks until some caller has waited for a height above the current one at least
  // `count` times in all: a stream has caught up with the tip.
  bool AwaitWaiters(uint64_t count) {
    std::unique_lock<std::mutex> lock(mu_);
    return waited_.wait_for(lock, std::chrono::seconds(10), [&] { return waits_ >= count; });
  }
  void set_syncing(bool syncing) { syncing_ = syncing; }

  // --- The chain
  uint64_t height() const {
    std::lock_guard<std::mutex> lock(mu_);
    return height_;
  }
  const crypto::Hash32& block_id(uint64_t height) const { return ids_.at(height); }
  mempool::Mempool& pool() { return pool_; }
  storage::testing::FaultyStore& faults() { return *faults_; }

  const crypto::KeyPair& Key(const std::string& org) {
    auto it = keys_.find(org);
    if (it == keys_.end()) {
      Result<crypto::KeyPair> key =
          crypto::KeyPair::FromSeed(crypto::AsBytes(crypto::Blake2b256("key of " + org)));
      REEL_ASSERT(key.ok());
      it = keys_.emplace(org, std::move(key).value()).first;
    }
    return it->second;
  }

  // Genesis: miit (regulator), mineco (a state miner) with mine "mine-a" and a 2025
  // mining quota.
  void Genesis() {
    v1::Genesis g;
    g.set_chain_id(kChain);
    g.set_genesis_time_ms(kJun2025Ms);
    AddOrg(g, "miit", v1::ORG_KIND_MINISTRY, v1::ROLE_REGULATOR);
    AddOrg(g, "mineco", v1::ORG_KIND_STATE_ENTERPRISE, v1::ROLE_MINER);
    v1::RegisterSite* site = g.add_sites();
    site->set_site_id("mine-a");
    site->set_org_id("mineco");
    site->set_name("Mine A");
    site->set_kind(v1::SITE_KIND_MINE);
    site->set_deposit_type(v1::DEPOSIT_TYPE_ROCK);
    site->set_province("Inner Mongolia");
    v1::SetQuota* quota = g.add_quotas();
    quota->set_org_id("mineco");
    quota->set_year(2025);
    quota->set_category(v1::QUOTA_CATEGORY_MINING_LIGHT);
    quota->set_amount_g(1'000'000'000);
    v1::Validator* v = g.add_validators();  // GetStatus reads the set from the state
    v->set_name("v0");
    v->set_org_id("miit");
    v->set_public_key(kValidatorKey);
    v->set_address("127.0.0.1:1");
    v->set_tls_cert_sha256(std::string(32, '\x01'));
    Result<ledger::BlockExecution> execution = ledger::ExecuteGenesis(g);
    ASSERT_OK(execution);
    execution->batch.Put(storage::keys::ChainIdKey(), kChain);
    WriteBlockForTest(*execution, {}, kJun2025Ms, /*round=*/0);
  }

  v1::TxBody Body(const std::string& signer) {
    v1::TxBody body;
    body.set_chain_id(kChain);
    body.set_org_id(signer);
    body.set_nonce(++nonce_);
    return body;
  }
  v1::TxBody Quota(uint32_t year, int64_t grams) {
    v1::TxBody body = Body("miit");
    v1::SetQuota* q = body.mutable_set_quota();
    q->set_org_id("mineco");
    q->set_year(year);
    q->set_category(v1::QUOTA_CATEGORY_MINING_MEDIUM_HEAVY);
    q->set_amount_g(grams);
    return body;
  }
  v1::TxBody Extract(const std::string& lot_id, int64_t mass_g, int64_t nd_g) {
    v1::TxBody body = Body("mineco");
    v1::Extract* e = body.mutable_extract();
    e->set_site_id("mine-a");
    e->set_lot_id(lot_id);
    e->set_product(v1::PRODUCT_FORM_ORE);
    e->set_mass_g(mass_g);
    v1::ElementAmount* a = e->mutable_composition()->add_amounts();
    a->set_element(v1::ELEMENT_ND);
    a->set_reo_g(nd_g);
    return body;
  }
  // Signed by the body's signer, or by the key of `key_org`.
  v1::Transaction Sign(const v1::TxBody& body, const std::string& key_org = "") {
    v1::Transaction tx;
    tx.set_body(body.SerializeAsString());
    const crypto::KeyPair& key = Key(key_org.empty() ? body.org_id() : key_org);
    v1::Signature* s = tx.add_signatures();
    s->set_public_key(Bytes(key.public_key()));
    s->set_signature(std::string(crypto::AsBytes(key.SignDigest(Id(tx)))));
    return tx;
  }
  static crypto::Hash32 Id(const v1::Transaction& tx) {
    return crypto::TransactionId(kChain, tx.body());
  }

  // Executes `txs` as the next block with the ledger and commits it. Rounds skip
  // `round_gap` - 1 rounds before this block (1: the next round).
  void CommitBlock(const std::vector<v1::Transaction>& txs, uint64_t round_gap = 1) {
    std::vector<ledger::VerifiedTx> verified;
    for (const v1::Transaction& tx : txs) {
      Result<ledger::VerifiedTx> v = ledger::Verify(tx, kChain);
      ASSERT_OK(v);
      verified.push_back(std::move(v).value());
    }
    time_ms_ += 1000;
    std::unique_ptr<storage::Snapshot> snapshot = store_->GetSnapshot();
    const ledger::BlockContext context{kChain, height() + 1, time_ms_};
    Result<ledger::BlockExecution> execution = ledger::ExecuteBlock(*snapshot, context, verified);
    ASSERT_OK(execution);
    snapshot.reset();
    WriteBlockForTest(*execution, txs, time_ms_, round_ + round_gap);
    std::vector<crypto::Hash32> ids;
    for (const v1::Transaction& tx : txs) ids.push_back(Id(tx));
    pool_.OnCommitted(height(), ids);
  }

  // Commits every transaction in the mempool as one block (none: an empty block).
  void CommitPending() {
    std::vector<v1::Transaction> txs;
    for (const mempool::PooledTx& tx :
         pool_.Reap(limits::block_txs_max, limits::block_bytes_max, {})) {
      txs.push_back(*tx.envelope);
    }
    CommitBlock(txs);
  }

  // The records the node writes for a committed block beside the ledger's batch: the
  // block by height and by id, and the commit height; one synced write.
  void WriteBlockForTest(const ledger::BlockExecution& execution,
                         const std::vector<v1::Transaction>& txs, uint64_t time_ms,
                         uint64_t round) {
    const uint64_t h = ids_.empty() ? 0 : height() + 1;
    v1::Block block;
    v1::BlockHeader* header = block.mutable_header();
    header->set_round(round);
    header->set_height(h);
    const std::string zero(32, '\0');
    const std::string parent = h == 0 ? zero : Bytes(ids_.at(h - 1));
    header->set_parent_id(parent);
    header->set_qc_block_id(parent);
    header->set_qc_round(h == 0 ? 0 : round_);
    std::vector<crypto::Hash32> tx_ids;
    for (const v1::Transaction& tx : txs) {
      tx_ids.push_back(ledger::EnvelopeDigestOf(tx, kChain));
      *block.add_txs() = tx;
    }
    header->set_tx_root(Bytes(crypto::MerkleRoot(tx_ids)));
    header->set_tx_count(static_cast<uint32_t>(txs.size()));
    header->set_timestamp_ms(time_ms);
    header->set_committed_height(h == 0 ? 0 : h - 1);
    header->set_committed_state_root(h == 0 ? zero : Bytes(state_root_));
    if (h > 0) *block.mutable_qc() = Qc(parent, round_, h - 1);
    {
      // The header names the QC's signers (proto/README.md).
      std::string bitmap(16, '\0');
      for (const v1::ValidatorSignature& s : block.qc().signatures()) {
        bitmap[s.validator_index() / 8] |= static_cast<char>(1 << (s.validator_index() % 8));
      }
      header->set_qc_signers(bitmap);
    }
    Result<crypto::Hash32> id = BlockIdOf(kChain, *header);
    ASSERT_OK(id);

    storage::WriteBatch batch = execution.batch;
    batch.Put(storage::keys::BlockKey(h), block.SerializeAsString());
    batch.Put(storage::keys::BlockHeightByIdKey(crypto::AsBytes(*id)),
              storage::keys::EncodeHeight(h));
    // The QC that certified the block, which the replica stores when it commits.
    batch.Put(storage::keys::CommitQcKey(h), Qc(Bytes(*id), round, h).SerializeAsString());
    batch.Put(storage::keys::CommitHeightKey(), storage::keys::EncodeHeight(h));
    ASSERT_OK(store_->Write(batch, /*sync=*/true));
    {
      std::lock_guard<std::mutex> lock(mu_);
      ids_.push_back(*id);
      height_ = h;
      round_ = round;
      state_root_ = execution.state_root;
    }
    committed_.notify_all();
  }

 private:
  // A QC with one stand-in signature: the API passes QCs on, it never checks them.
  static v1::QuorumCert Qc(const std::string& block_id, uint64_t round, uint64_t height) {
    v1::QuorumCert qc;
    qc.set_block_id(block_id);
    qc.set_round(round);
    qc.set_height(height);
    v1::ValidatorSignature* s = qc.add_signatures();
    s->set_validator_index(0);
    s->set_signature(std::string(64, 's'));
    return qc;
  }

  void AddOrg(v1::Genesis& g, const std::string& id, v1::OrgKind kind, v1::Role role) {
    v1::RegisterOrg* o = g.add_orgs();
    o->set_org_id(id);
    o->set_name("Org " + id);
    o->set_kind(kind);
    o->add_roles(role);
    o->add_signatory_keys(Bytes(Key(id).public_key()));
    o->set_quorum(1);
  }

  reel::testing::TempDir dir_;
  std::unique_ptr<storage::KvStore> store_;
  storage::testing::FaultyStore* faults_ = nullptr;  // store_
  mempool::Mempool pool_;
  std::unique_ptr<mempool::Admission> admission_;
  std::map<std::string, crypto::KeyPair> keys_;
  uint64_t nonce_ = 0;
  uint64_t time_ms_ = kJun2025Ms;

  mutable std::mutex mu_;
  mutable std::condition_variable committed_;
  mutable std::condition_variable waited_;
  mutable uint64_t waits_ = 0;
  std::atomic<bool> syncing_{false};
  uint64_t height_ = 0;
  uint64_t round_ = 0;
  crypto::Hash32 state_root_{};
  std::vector<crypto::Hash32> ids_;  // block id by height
};

}  // namespace reel::api::testing
