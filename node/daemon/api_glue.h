// DaemonNodeView: the client API's view of the running node (node/api/node_view.h),
// over the store, the mempool's admission and the commit notifications of the
// ledger application. Submitted transactions that are admitted are also handed to
// gossip, so that every validator's leader can order them; an observer refuses them
// with FailedPrecondition.
//
// Thread safety: every method may be called from any thread. OnCommitted is called
// by the ledger application on the loop thread after each block is durable.
#pragma once

#include <atomic>
#include <optional>

#include "base/mutex.h"
#include "node/api/node_view.h"
#include "node/daemon/peer_glue.h"
#include "node/mempool/admission.h"

namespace reel::daemon {

class DaemonNodeView : public api::NodeView {
 public:
  // `gossip` may be null (a node with no peers). All pointers must outlive this.
  DaemonNodeView(api::NodeInfo info, storage::KvStore* store, mempool::Mempool* pool,
                 mempool::Admission* admission, Gossip* gossip, uint64_t committed_height);

  api::NodeInfo Info() const override;
  std::unique_ptr<storage::Snapshot> CommittedSnapshot() const override;
  std::vector<Result<crypto::Hash32>> Submit(const std::vector<v1::Transaction>& txs) override;
  bool IsPending(const crypto::Hash32& tx_id) const override;
  uint64_t WaitForCommitAbove(uint64_t height, api::Deadline deadline) const override;

  void OnCommitted(uint64_t height);
  // What GetStatus reports of consensus and sync, refreshed by the node's loop.
  void SetProgress(uint64_t round, bool syncing) {
    round_.store(round, std::memory_order_relaxed);
    syncing_.store(syncing, std::memory_order_relaxed);
  }

 private:
  const api::NodeInfo info_;
  std::atomic<uint64_t> round_{0};
  std::atomic<bool> syncing_{false};
  storage::KvStore* const store_;
  mempool::Mempool* const pool_;
  mempool::Admission* const admission_;
  Gossip* const gossip_;
  // Whether this node's key is in the validator set as of a committed height: what
  // Submit asks of every transaction, read again only when the height moves (the set
  // changes only in a committed block), not parsed from the store per submission.
  struct Membership {
    uint64_t height = 0;
    uint64_t epoch = 0;
    bool member = false;
  };
  Result<Membership> MembershipAt(const storage::Snapshot& snapshot, uint64_t height);

  mutable Mutex mu_;
  mutable CondVar committed_cv_;
  uint64_t committed_height_ REEL_GUARDED_BY(mu_);
  Mutex membership_mu_;
  std::optional<Membership> membership_ REEL_GUARDED_BY(membership_mu_);
};

}  // namespace reel::daemon
