#include "node/daemon/api_glue.h"

#include <algorithm>

#include "node/ledger/validators.h"
#include "node/replica/chain_store.h"

namespace reel::daemon {

DaemonNodeView::DaemonNodeView(api::NodeInfo info, storage::KvStore* store, mempool::Mempool* pool,
                               mempool::Admission* admission, Gossip* gossip,
                               uint64_t committed_height)
    : info_(std::move(info)),
      store_(store),
      pool_(pool),
      admission_(admission),
      gossip_(gossip),
      committed_height_(committed_height) {}

api::NodeInfo DaemonNodeView::Info() const {
  api::NodeInfo info = info_;
  info.mempool_txs = pool_->size();
  info.round = round_.load(std::memory_order_relaxed);
  info.syncing = syncing_.load(std::memory_order_relaxed);
  return info;
}

std::unique_ptr<storage::Snapshot> DaemonNodeView::CommittedSnapshot() const {
  // Each committed block is one atomic batch, and nothing else writes the block,
  // transaction, state or index records: any snapshot is at a committed height.
  return store_->GetSnapshot();
}

std::vector<Result<crypto::Hash32>> DaemonNodeView::Submit(
    const std::vector<v1::Transaction>& txs) {
  auto refuse_all = [&txs](std::string why) {
    return std::vector<Result<crypto::Hash32>>(
        txs.size(), Result<crypto::Hash32>(Status::FailedPrecondition(std::move(why))));
  };
  if (info_.self_public_key.empty()) {
    // An observer orders nothing and gossips to no one: what it admitted would wait in
    // its own mempool until it expired.
    return refuse_all(
        "this node is an observer and does not order transactions; submit to a validator "
        "(GetStatus lists them)");
  }
  std::unique_ptr<storage::Snapshot> snapshot = store_->GetSnapshot();
  Result<uint64_t> height = replica::CommittedHeight(*snapshot);
  if (!height.ok()) {
    return std::vector<Result<crypto::Hash32>>(txs.size(), Result<crypto::Hash32>(height.status()));
  }
  Result<Membership> membership = MembershipAt(*snapshot, *height);
  if (!membership.ok()) {
    return std::vector<Result<crypto::Hash32>>(txs.size(),
                                               Result<crypto::Hash32>(membership.status()));
  }
  if (!membership->member) {
    // Not (yet, or any longer) a validator: it proposes no block and the validators
    // take no gossip from it.
    return refuse_all("this node's validator key is not in the validator set of epoch " +
                      std::to_string(membership->epoch) +
                      " (not added yet, or removed); submit to a validator (GetStatus lists "
                      "them)");
  }
  std::vector<Result<crypto::Hash32>> answers =
      admission_->Admit(txs, *snapshot, *height + 1, mempool::Admission::Source::kClient);
  if (gossip_ != nullptr) {
    for (size_t i = 0; i < txs.size(); ++i) {
      if (answers[i].ok()) gossip_->Add(txs[i]);
    }
  }
  return answers;
}

Result<DaemonNodeView::Membership> DaemonNodeView::MembershipAt(const storage::Snapshot& snapshot,
                                                                uint64_t height) {
  {
    MutexLock lock(&membership_mu_);
    if (membership_.has_value() && membership_->height == height) return *membership_;
  }
  Result<v1::ValidatorSet> set = ledger::CurrentValidatorSet(snapshot);
  if (!set.ok()) return set.status();
  Membership membership{height, set->epoch(),
                        std::any_of(set->validators().begin(), set->validators().end(),
                                    [this](const v1::Validator& v) {
                                      return v.public_key() == info_.self_public_key;
                                    })};
  MutexLock lock(&membership_mu_);
  // Submissions race: keep the newest height, so that a slow one does not put back an
  // older answer (either is right for its own snapshot).
  if (!membership_.has_value() || membership_->height < height) membership_ = membership;
  return membership;
}

bool DaemonNodeView::IsPending(const crypto::Hash32& tx_id) const {
  return pool_->Contains(tx_id);
}

uint64_t DaemonNodeView::WaitForCommitAbove(uint64_t height, api::Deadline deadline) const {
  MutexLock lock(&mu_);
  while (committed_height_ <= height) {
    if (!committed_cv_.WaitUntil(&mu_, deadline)) break;
  }
  return committed_height_;
}

void DaemonNodeView::OnCommitted(uint64_t height) {
  {
    MutexLock lock(&mu_);
    committed_height_ = height;
  }
  committed_cv_.SignalAll();
}

}  // namespace reel::daemon
