// Mempool: the transactions a node has admitted and not yet seen committed.
//
// What it promises
//   - Bounded: at most limits::mempool_txs_max transactions and mempool_bytes_max
//     envelope bytes (or the smaller bounds given). Beyond either, Add refuses with
//     RESOURCE_EXHAUSTED and says how full it is; it never grows past them.
//   - No duplicates: a transaction id already held is refused with ALREADY_EXISTS.
//     (Ids already committed are refused earlier, by ledger::Check, against the
//     committed state.)
//   - Fair: Reap returns transactions in the order they were admitted.
//   - Entries stay until they are committed or expire: a reaped transaction whose
//     block never commits is proposed again later. The leader passes the ids in its
//     uncommitted ancestors so that none is proposed twice on one branch.
//
// Thread safety: every method may be called from any thread (gRPC handlers add,
// the event loop reaps and removes); one mutex guards the whole pool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "base/limits.h"
#include "base/mutex.h"
#include "base/status.h"
#include "crypto/hash.h"
#include "node/ledger/ledger.h"
#include "reel/v1/tx.pb.h"

namespace reel::mempool {

// One admitted transaction: its verified form for execution, and the envelope as it
// travels, for blocks and gossip.
struct PooledTx {
  std::shared_ptr<const ledger::VerifiedTx> verified;
  std::shared_ptr<const v1::Transaction> envelope;
  // Steady-clock ms when the pool took it (set by Add), for the commit-latency metric
  // only: nothing that reaches the state reads a clock.
  uint64_t added_ms = 0;

  const crypto::Hash32& id() const { return verified->id; }
  size_t bytes() const { return verified->envelope_bytes; }
  uint64_t expiry_height() const { return verified->body.expiry_height(); }
};

struct MempoolLimits {
  size_t txs_max = limits::mempool_txs_max;
  size_t bytes_max = limits::mempool_bytes_max;
};

class Mempool {
 public:
  explicit Mempool(MempoolLimits limits = {});
  Mempool(const Mempool&) = delete;
  Mempool& operator=(const Mempool&) = delete;

  // ALREADY_EXISTS for an id held; RESOURCE_EXHAUSTED when full.
  Status Add(PooledTx tx);

  // Up to `txs_max` transactions and `bytes_max` envelope bytes, oldest first,
  // leaving out the ids in `exclude` (those in the proposer's uncommitted ancestors).
  // Reaped transactions stay in the pool.
  std::vector<PooledTx> Reap(size_t txs_max, size_t bytes_max,
                             const std::set<crypto::Hash32>& exclude) const;

  // After the block at `height` commits: drops its transactions, and every one that
  // can no longer enter a block (expiry height at or below `height`).
  void OnCommitted(uint64_t height, const std::vector<crypto::Hash32>& committed_ids);

  // Called under the pool's lock for each committed transaction it held, with how
  // long it waited in ms (the node's commit-latency metric). Set before use.
  void set_commit_wait_observer(std::function<void(uint64_t wait_ms)> observer) {
    commit_wait_observer_ = std::move(observer);
  }

  // Drops transactions that can no longer commit as signed (their signer's keys or
  // quorum changed since admission): a leader would propose them in vain.
  void Remove(const std::vector<crypto::Hash32>& ids);

  bool Contains(const crypto::Hash32& id) const;
  // The verified form of a held transaction, so that a block of known transactions
  // is not verified twice; nullptr when not held.
  std::shared_ptr<const ledger::VerifiedTx> Find(const crypto::Hash32& id) const;
  size_t size() const;
  size_t bytes() const;

 private:
  void EraseLocked(std::map<crypto::Hash32, uint64_t>::iterator by_id) REEL_REQUIRES(mu_);

  const MempoolLimits limits_;
  std::function<void(uint64_t)> commit_wait_observer_;
  mutable Mutex mu_;
  uint64_t next_sequence_ REEL_GUARDED_BY(mu_) = 0;
  std::map<uint64_t, PooledTx> by_sequence_ REEL_GUARDED_BY(mu_);  // admission order
  // id -> key in by_sequence_
  std::map<crypto::Hash32, uint64_t> sequence_by_id_ REEL_GUARDED_BY(mu_);
  size_t bytes_ REEL_GUARDED_BY(mu_) = 0;
};

}  // namespace reel::mempool
