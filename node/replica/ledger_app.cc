#include "node/replica/ledger_app.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "base/bytes.h"
#include "crypto/signing.h"
#include "node/ledger/ledger.h"
#include "node/ledger/validators.h"
#include "node/replica/chain_store.h"
#include "node/replica/codec.h"
#include "node/replica/internal.h"
#include "node/storage/keys.h"

namespace reel::replica {

namespace keys = storage::keys;
using internal::Fatal;
using internal::IdBytes;

namespace {

// Enough for every header the core checks: it asks about the tip and a few blocks
// below it, never more than the uncommitted tree's depth.
constexpr size_t kRootsKeptMax = 1024;

// Verified transactions kept between a vote and the commit: a few blocks' worth.
constexpr size_t kVerifiedKeptMax = 4 * limits::block_txs_max;

// Room left in a block for its header, QC and framing.
constexpr size_t kBlockFramingBytes = 64 * 1024;
static_assert(limits::tx_envelope_bytes_max + kBlockFramingBytes <= limits::block_bytes_min);

}  // namespace

// The committed state with the staged block's writes on top. Reads by key only: the
// signer checks and EpochEndedAt, which are all that read it, never scan.
class LedgerApplication::StagedView : public storage::ReadView {
 public:
  StagedView(const Staged& staged, const storage::ReadView& base) : staged_(staged), base_(base) {}

  Result<std::optional<std::string>> Get(std::string_view key) const override {
    const auto& ops = staged_.batch.ops();
    const auto end = ops.begin() + static_cast<std::ptrdiff_t>(staged_.sorted_ops);
    auto it = std::lower_bound(ops.begin(), end, key,
                               [](const storage::WriteBatch::Op& op, std::string_view k) {
                                 return std::string_view(op.key) < k;
                               });
    if (it == end || it->key != key) return base_.Get(key);
    if (it->kind == storage::WriteBatch::OpKind::kDelete) return std::optional<std::string>();
    return std::optional<std::string>(it->value);
  }
  std::unique_ptr<storage::Iterator> NewIterator() const override {
    REEL_ASSERT(false && "the staged block's view is read by key only");
    return nullptr;
  }

 private:
  const Staged& staged_;
  const storage::ReadView& base_;
};

template <typename Read>
auto LedgerApplication::ReadCommitted(const storage::ReadView& base, Read read) const {
  if (!staged_.has_value()) return read(base);
  const StagedView view(*staged_, base);
  return read(static_cast<const storage::ReadView&>(view));
}

LedgerApplication::LedgerApplication(std::string chain_id, storage::KvStore* store,
                                     mempool::Mempool* pool, PlantedBug bug)
    : chain_id_(std::move(chain_id)), store_(store), pool_(pool), bug_(bug) {
  REEL_ASSERT(store_ != nullptr && pool_ != nullptr);
}

Status LedgerApplication::Open() {
  Result<uint64_t> height = CommittedHeight(*store_);
  if (!height.ok()) return height.status();
  Result<crypto::Hash32> root = ledger::StateRoot(*store_);
  if (!root.ok()) return root.status();
  committed_height_ = *height;
  roots_[committed_height_] = *root;
  return Status::Ok();
}

Result<LedgerApplication::VerifiedPtr> LedgerApplication::VerifyEntry(std::string_view tx_bytes) {
  v1::Transaction envelope;
  if (!envelope.ParseFromArray(tx_bytes.data(), static_cast<int>(tx_bytes.size()))) {
    return Status::InvalidArgument("MALFORMED: a block transaction does not decode");
  }
  REEL_ASSERT(crypto::IsValidChainId(chain_id_));
  const crypto::Hash32 digest = ledger::EnvelopeDigestOf(envelope, chain_id_);
  if (auto it = verified_.find(digest); it != verified_.end()) return it->second;
  // The pool holds one envelope per id; it counts only if it is this very envelope.
  const crypto::Hash32 id = crypto::TransactionId(chain_id_, envelope.body());
  if (VerifiedPtr pooled = pool_->Find(id);
      pooled != nullptr && pooled->envelope_digest == digest) {
    return pooled;
  } else if (pooled != nullptr && bug_ == PlantedBug::kBodyKeyedCache) {
    return pooled;  // the planted bug: the pooled signers, not the block's
  }
  Result<ledger::VerifiedTx> verified = ledger::Verify(envelope, chain_id_);
  if (!verified.ok()) return verified.status();
  return std::make_shared<const ledger::VerifiedTx>(std::move(verified).value());
}

void LedgerApplication::Remember(const VerifiedPtr& tx) {
  if (!verified_.emplace(tx->envelope_digest, tx).second) return;
  verified_order_.push_back(tx->envelope_digest);
  while (verified_order_.size() > kVerifiedKeptMax) {
    verified_.erase(verified_order_.front());
    verified_order_.pop_front();
  }
}

Result<LedgerApplication::Running> LedgerApplication::Begin(const consensus::Block& block) {
  REEL_ASSERT(block.header.height == committed_height_ + 1 && !staged_.has_value());
  Running run;
  run.block_id = block.id;
  run.height = block.header.height;
  run.snapshot = store_->GetSnapshot();
  ledger::BlockContext ctx{chain_id_, run.height, block.header.timestamp_ms};
  Result<std::unique_ptr<ledger::BlockExecutor>> executor =
      ledger::BlockExecutor::Begin(*run.snapshot, std::move(ctx));
  if (!executor.ok()) return executor.status();
  run.executor = std::move(executor).value();
  run.tx_ids.reserve(block.payload.size());
  return run;
}

Status LedgerApplication::Continue(const consensus::Block& block, Running& run, size_t txs_max,
                                   bool* invalid_tx) {
  REEL_ASSERT(run.block_id == block.id);
  const size_t end =
      run.tx_ids.size() + std::min(txs_max, block.payload.size() - run.tx_ids.size());
  for (size_t i = run.tx_ids.size(); i < end; ++i) {
    Result<VerifiedPtr> tx = VerifyEntry(block.payload[i]);
    if (!tx.ok()) {
      *invalid_tx = true;
      return Status::InvalidArgument("transaction " + std::to_string(i) +
                                     " fails the signature and form check (" +
                                     tx.status().ToString() + ")");
    }
    REEL_RETURN_IF_ERROR(run.executor->Add(**tx));
    run.tx_ids.push_back((*tx)->id);
  }
  return Status::Ok();
}

bool LedgerApplication::PreparingNow(const consensus::Block& block) const {
  return preparing_.has_value() && preparing_->block_id == block.id &&
         preparing_->height == block.header.height;
}

Result<LedgerApplication::Executed> LedgerApplication::Execute(const consensus::Block& block,
                                                               bool* invalid_tx) {
  std::optional<Running> run;
  if (PreparingNow(block)) run = std::move(preparing_);
  preparing_.reset();
  if (!run.has_value()) {
    Result<Running> begun = Begin(block);
    if (!begun.ok()) return begun.status();
    run = std::move(begun).value();
  }
  REEL_RETURN_IF_ERROR(Continue(block, *run, block.payload.size(), invalid_tx));
  Result<ledger::BlockExecution> executed = run->executor->Finish();
  if (!executed.ok()) return executed.status();
  Executed out;
  out.block_id = block.id;
  out.height = block.header.height;
  out.tx_ids = std::move(run->tx_ids);
  out.execution = std::move(executed).value();
  return out;
}

bool LedgerApplication::Prepare(const consensus::Block& block, size_t txs_max) {
  FlushCommitted();  // execution reads the store
  if (block.header.height != committed_height_ + 1) return true;
  if (prepared_.has_value() && prepared_->block_id == block.id) return true;
  if (prepare_failed_ == block.id) return true;
  if (!PreparingNow(block)) {
    Result<Running> begun = Begin(block);
    if (!begun.ok()) {
      preparing_.reset();
      prepare_failed_ = block.id;
      return true;
    }
    preparing_ = std::move(begun).value();
  }
  bool invalid_tx = false;
  if (Status s = Continue(block, *preparing_, txs_max, &invalid_tx); !s.ok()) {
    preparing_.reset();
    prepared_.reset();
    prepare_failed_ = block.id;
    return true;
  }
  if (preparing_->tx_ids.size() < block.payload.size()) return false;
  Result<Executed> executed = Execute(block, &invalid_tx);  // only Finish is left
  if (executed.ok()) {
    prepared_ = std::move(executed).value();
  } else {
    prepared_.reset();
    prepare_failed_ = block.id;
  }
  return true;
}

crypto::Hash32 LedgerApplication::ExecuteCommitted(const consensus::Block& block,
                                                   const consensus::QuorumCert& qc) {
  FlushCommitted();  // the block below, before this one is executed or staged over it
  const uint64_t height = block.header.height;
  REEL_ASSERT(height == committed_height_ + 1);
  std::optional<Executed> executed;
  if (prepared_.has_value() && prepared_->block_id == block.id && prepared_->height == height) {
    executed = std::move(prepared_);
    commits_prepared_.fetch_add(1, std::memory_order_relaxed);
  } else {
    bool invalid_tx = false;
    Result<Executed> now = Execute(block, &invalid_tx);
    if (invalid_tx) {
      // A quorum certified this block (its QC, and the tx_root that commits to every
      // envelope, were checked before it got here): only more than f faulty
      // validators can have made that happen.
      Fatal("committed block " + std::to_string(height) + " (id " +
            ToHex(crypto::AsBytes(block.id)) + "), " + now.status().message() +
            ": a quorum certified it, so more than f validators are faulty");
    }
    if (!now.ok()) {
      Fatal("cannot execute committed block " + std::to_string(height) + ": " +
            now.status().ToString());
    }
    executed = std::move(now).value();
  }
  prepared_.reset();
  preparing_.reset();  // of a sibling of this block, if any: its parent state is gone
  storage::WriteBatch batch = std::move(executed->execution.batch);
  const size_t sorted_ops = batch.count();
  batch.Put(keys::BlockKey(height), ToProto(block).SerializeAsString());
  batch.Put(keys::BlockHeightByIdKey(IdBytes(block.id)), keys::EncodeHeight(height));
  batch.Put(keys::CommitQcKey(height), ToProto(qc).SerializeAsString());
  batch.Put(keys::StateRootKey(height), crypto::AsBytes(executed->execution.state_root));
  batch.Delete(keys::PendingBlockKey(IdBytes(block.id)));
  batch.Put(keys::CommitHeightKey(), keys::EncodeHeight(height));
  Staged staged{std::move(batch), sorted_ops, height, std::move(executed->tx_ids)};
  if (!defer_commit_writes_) Write(staged);  // before anything counts the block
  committed_height_ = height;
  roots_[height] = executed->execution.state_root;
  while (roots_.size() > kRootsKeptMax) roots_.erase(roots_.begin());
  if (defer_commit_writes_) {
    staged_ = std::move(staged);
    // A block that ends its epoch is written at once: the core signs a last timeout of
    // the ended epoch in this step, and after a crash the node must not restart in it.
    if (EpochEndedAt(height).has_value()) FlushCommitted();
  } else {
    Announce(staged);
  }
  return executed->execution.state_root;
}

void LedgerApplication::FlushCommitted() {
  if (!staged_.has_value()) return;
  Staged staged = std::move(*staged_);
  staged_.reset();
  Write(staged);
  Announce(staged);
}

void LedgerApplication::Write(const Staged& staged) {
  if (Status s = store_->Write(staged.batch, /*sync=*/true); !s.ok()) {
    Fatal("cannot write committed block " + std::to_string(staged.height) + ": " + s.ToString());
  }
}

void LedgerApplication::Announce(const Staged& staged) {
  pool_->OnCommitted(staged.height, staged.tx_ids);
  if (listener_) listener_(staged.height, staged.tx_ids);
}

std::optional<consensus::ValidatorSet> LedgerApplication::EpochEndedAt(uint64_t height) const {
  Result<std::optional<v1::ValidatorSet>> next = ReadCommitted(
      *store_,
      [height](const storage::ReadView& view) { return ledger::EpochEndedAt(view, height); });
  if (!next.ok()) {
    internal::Fatal("cannot read whether block " + std::to_string(height) +
                    " ended the epoch: " + next.status().ToString());
  }
  if (!next->has_value()) return std::nullopt;
  Result<consensus::ValidatorSet> keys = KeysOf(**next);
  if (!keys.ok()) {
    internal::Fatal("the validator set that block " + std::to_string(height) +
                    " made current: " + keys.status().ToString());
  }
  return *std::move(keys);
}

std::optional<crypto::Hash32> LedgerApplication::StateRootAt(uint64_t height) const {
  Result<crypto::Hash32> root = CommittedStateRoot(height);
  if (!root.ok()) return std::nullopt;
  return *root;
}

Result<crypto::Hash32> LedgerApplication::CommittedStateRoot(uint64_t height) const {
  if (auto it = roots_.find(height); it != roots_.end()) return it->second;
  if (height > committed_height_) {
    return Status::NotFound("no state root above the committed height " +
                            std::to_string(committed_height_) + " (asked for " +
                            std::to_string(height) + ")");
  }
  // Older than the cache (after a restart, or a header far behind): from disk.
  Result<std::optional<std::string>> stored = store_->Get(keys::StateRootKey(height));
  if (!stored.ok()) return stored.status();
  crypto::Hash32 root;
  if (!stored->has_value() || (*stored)->size() != root.size()) {
    return Status::Corruption("the state root of committed height " + std::to_string(height) +
                              " is missing or not 32 bytes");
  }
  std::copy((*stored)->begin(), (*stored)->end(), root.begin());
  return root;
}

std::vector<std::string> LedgerApplication::PayloadForProposal(
    const std::vector<const consensus::Block*>& uncommitted,
    const consensus::PayloadLimits& block_limits) {
  std::set<crypto::Hash32> in_branch;
  for (const consensus::Block* block : uncommitted) {
    for (const std::string& entry : block->payload) in_branch.insert(BodyId(entry));
  }
  // A staged block's transactions are committed, though still in the pool.
  if (staged_.has_value()) in_branch.insert(staged_->tx_ids.begin(), staged_->tx_ids.end());
  std::vector<mempool::PooledTx> picked =
      pool_->Reap(block_limits.txs_max, block_limits.bytes_max - kBlockFramingBytes, in_branch);
  const uint64_t height =
      (uncommitted.empty() ? committed_height_ : uncommitted.back()->header.height) + 1;
  std::unique_ptr<storage::Snapshot> committed = store_->GetSnapshot();
  return ReadCommitted(*committed, [&](const storage::ReadView& view) {
    ledger::SignerCheck signers_hold(view);
    std::vector<crypto::Hash32> stale;
    std::vector<std::string> payload;
    payload.reserve(picked.size());
    for (const mempool::PooledTx& tx : picked) {
      // Expired at this height, or committed though still pooled (its admission read a
      // snapshot from before its block, and pooled it after the block's write told the
      // pool): either would only fail in the block, a slot wasted. Left out.
      if (tx.expiry_height() != 0 && tx.expiry_height() < height) {
        // Out of the pool only once past the committed height: a block of another
        // branch, lower than this one, may still take it.
        if (tx.expiry_height() <= committed_height_) stale.push_back(tx.id());
        continue;
      }
      Result<std::optional<std::string>> record = view.Get(keys::TxKey(IdBytes(tx.id())));
      if (!record.ok()) continue;  // a later block may read it; the pool keeps it
      if (record->has_value()) {
        stale.push_back(tx.id());
        continue;
      }
      // What voters check (ValidatePayload): a transaction whose signers no longer hold
      // in the committed state would cost the block its votes. It can never commit as
      // signed: out of the pool.
      const Status signers = signers_hold.Check(*tx.verified);
      if (!signers.ok()) {
        // Only a rule refusal condemns it; a store that fails to read the signer leaves
        // it in the pool for a later block.
        if (signers.code() == Code::kInvalidArgument) stale.push_back(tx.id());
        continue;
      }
      payload.push_back(tx.envelope->SerializeAsString());
    }
    if (!stale.empty()) pool_->Remove(stale);
    return payload;
  });
}

crypto::Hash32 LedgerApplication::BodyId(std::string_view tx_bytes) const {
  v1::Transaction envelope;
  if (!envelope.ParseFromArray(tx_bytes.data(), static_cast<int>(tx_bytes.size()))) {
    return crypto::Blake2b256(tx_bytes);
  }
  return crypto::TransactionId(chain_id_, envelope.body());
}

crypto::Hash32 LedgerApplication::PayloadLeaf(std::string_view tx_bytes) const {
  v1::Transaction envelope;
  if (!envelope.ParseFromArray(tx_bytes.data(), static_cast<int>(tx_bytes.size()))) {
    // Not a transaction: any leaf will do, since ValidatePayload refuses the block.
    return crypto::Blake2b256(tx_bytes);
  }
  return ledger::EnvelopeDigestOf(envelope, chain_id_);
}

Status LedgerApplication::ValidatePayload(const consensus::Block& block) {
  std::set<crypto::Hash32> seen;
  std::unique_ptr<storage::Snapshot> committed = store_->GetSnapshot();
  return ReadCommitted(*committed, [&](const storage::ReadView& view) {
    ledger::SignerCheck signers_hold(view);
    for (const std::string& entry : block.payload) {
      Result<VerifiedPtr> tx = VerifyEntry(entry);
      if (!tx.ok()) return Status::InvalidArgument("proposal payload: " + tx.status().message());
      if (!seen.insert((*tx)->id).second) {
        return Status::InvalidArgument("proposal payload holds one transaction twice");
      }
      // Every signature verifying is not enough: they must be a quorum of the signer's
      // current keys, or a leader could commit a pooled transaction as refused (its
      // signatures stripped, or one added by a stranger) and so spend its id.
      if (Status s = signers_hold.Check(**tx); !s.ok()) {
        return Status::InvalidArgument("proposal payload: " + s.message());
      }
      Remember(*tx);
    }
    return Status::Ok();
  });
}

}  // namespace reel::replica
