// BlockSync: brings a node that is behind up to its peers by fetching ranges of
// committed blocks (Peer.GetBlocks) instead of replaying consensus. A validator back
// from a long outage uses it, and an observer (a node with no vote) follows the
// chain with nothing else.
//
// What it promises
//   - A range lies in one epoch (ReadRange ends it at the block that ended the epoch)
//     and is checked with that epoch's keys; applying the block that ends an epoch
//     records the end (EpochEnd), and the next range is checked with the next set.
//   - Nothing unproved is executed. VerifyRange accepts a range only if it starts
//     right above the node's committed block, each block is the parent of the next,
//     its transactions are the ones its header commits to (tx_root, tx_count), every
//     QC in it is a quorum's, the QC on the last block is sent and valid, and a
//     commit proof (commit_proof.h) shows the last block committed; together these
//     prove every block of the range committed. A range that fails is dropped,
//     counted against the peer that sent it (refused_by_peer), and the next peer
//     that claims to be ahead is asked: a faulty peer's bytes never stop the node
//     nor keep it behind while an honest peer can serve it. The node keeps what it
//     had.
//   - ApplyRange executes the blocks through the node's LedgerApplication, so each
//     one is written in its own synced batch exactly as a block committed by
//     consensus: a crash leaves the node at its last applied height. It checks the
//     state root each header records against the node's own and stops the node on a
//     difference (the same rule as a voter's), and keeps the commit proof as the
//     commit tip.
//   - A store that fails: a read ApplyRange needs (the chain it continues, a state
//     root to check) returns the store's Status, with the blocks before it applied
//     and nothing after; the sync thread reports it (OnError), does not count it
//     against the peer, and tries again at its next round. A write that fails stops the
//     node (internal::Fatal), as for a block committed by consensus (ledger_app.h).
//   - Epoch-change proofs travel with the ranges (epoch_proof.h): a range that ends an
//     epoch carries its proof when the server holds one; VerifyRange refuses the range
//     if the proof does not hold with that epoch's keys on the range's last block, and
//     ApplyRange keeps it with the end of the epoch. When it has nothing to sync, the
//     sync thread asks its peers again for the one-block range that ended the oldest
//     epoch whose proof this node lacks (one epoch per idle round), so a proof that was
//     not made yet when the node crossed the epoch comes later.
//   - The sync thread asks each peer where it is every limits::sync_poll_interval_ms
//     and fetches from the furthest while it is more than `lag_blocks_min` ahead,
//     then from the next furthest when one fails;
//     every wait is bounded, and Stop returns within one call deadline.
// Thread safety: Start and Stop from one thread; `apply` runs on the sync thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "consensus/types.h"
#include "node/replica/ledger_app.h"
#include "node/storage/kv.h"
#include "reel/v1/peer.pb.h"

namespace reel::replica {

// The peers a node syncs from (the mutual-TLS peer clients in the daemon).
class SyncPeers {
 public:
  virtual ~SyncPeers() = default;
  // Indexes of the validators to ask (not this node's own).
  virtual std::vector<uint32_t> Candidates() const = 0;
  virtual Result<v1::SyncInfo> GetSyncInfo(uint32_t peer) = 0;
  virtual Result<v1::GetBlocksResponse> GetBlocks(uint32_t peer,
                                                  const v1::GetBlocksRequest& request) = 0;
};

// A range that VerifyRange accepted.
struct SyncedRange {
  std::vector<consensus::Block> blocks;    // consecutive heights, sealed, oldest first
  std::vector<consensus::QuorumCert> qcs;  // qcs[i] certifies blocks[i]
  v1::CommitProof proof;                   // proves blocks.back() committed
  // The proof of the end of the range's epoch, when the peer sent one: verified with that
  // epoch's keys, on blocks.back(). ApplyRange keeps it.
  std::optional<v1::EpochChangeProof> epoch_proof;
};

// A committed block of this node: where a range must start above.
struct ChainPoint {
  uint64_t height = 0;
  crypto::Hash32 id{};
};

// The node's committed block, from `view`.
Result<ChainPoint> CommittedPoint(const storage::ReadView& view, std::string_view chain_id);

// What a node answers to GetBlocks: its committed blocks from `from` to `to` (to is
// clamped to its committed height and the bounds of base/limits.h), the QC on the
// last and that block's commit proof, and the epoch-change proof when the last block
// ended its epoch and the node holds that proof. A newest block whose proof is not on
// disk yet is left out. Empty when it has nothing at `from`.
Result<v1::GetBlocksResponse> ReadRange(const storage::ReadView& view, std::string_view chain_id,
                                        uint64_t from, uint64_t to);

// `bug` is kNone except in the whole-node simulator's planted-bug runs. A response with
// an epoch_change_proof is refused unless VerifyEpochChangeProof accepts it with `ctx`
// and its header is the range's last block.
Result<SyncedRange> VerifyRange(const consensus::VerifyContext& ctx, const ChainPoint& from,
                                const v1::GetBlocksResponse& response,
                                PlantedBug bug = PlantedBug::kNone);

// Executes the blocks of `range` above `app`'s committed height, in order, and stores
// the range's commit proof as the tip. A block of another epoch than the committed
// state's is refused (FailedPrecondition): consensus may have ended the epoch the range
// was checked in since it was asked for. Keeps the range's epoch-change proof (unless one
// is held already) with the end of the epoch, or alone when the node had committed the
// range's last block before. FailedPrecondition if the range does not
// continue the node's chain (consensus moved it meanwhile onto other blocks: not
// possible unless more than f validators are faulty, but checked); the store's Status
// if a read fails. Runs on the thread that owns `app`.
Status ApplyRange(LedgerApplication& app, storage::KvStore& store, const SyncedRange& range);

class BlockSync {
 public:
  struct Options {
    uint64_t lag_blocks_min = 0;  // sync only when a peer is further ahead than this
    uint64_t poll_interval_ms = limits::sync_poll_interval_ms;
    PlantedBug bug = PlantedBug::kNone;  // only the simulator's planted-bug runs set it
  };
  // Hands a verified range to whoever executes blocks on this node; blocks until it
  // is applied (or refused).
  using Apply = std::function<Status(SyncedRange range)>;
  // Called after each sync attempt that failed, with why (for logs).
  using OnError = std::function<void(uint32_t peer, const Status& status)>;

  // `peers` and `store` must outlive this. Each range is checked with the keys of the
  // epoch the store's committed state is in (chain_store.h ReadEpoch).
  BlockSync(std::string chain_id, SyncPeers* peers, const storage::KvStore* store, Apply apply,
            Options options, OnError on_error = {});
  ~BlockSync();  // Stop()
  BlockSync(const BlockSync&) = delete;
  BlockSync& operator=(const BlockSync&) = delete;

  void Start();
  void Stop();

  uint64_t blocks_synced() const { return blocks_synced_.load(); }
  // True while the last look at the peers found this node behind by more than
  // lag_blocks_min (GetStatus's `syncing`).
  bool behind() const { return behind_.load(); }
  // Ranges that failed VerifyRange, per peer index (for /metrics), and in all.
  std::map<uint32_t, uint64_t> refused_by_peer() const;
  uint64_t ranges_refused() const {
    MutexLock lock(&mu_);
    return refused_total_;
  }

 private:
  void Run();
  // One round: find the furthest peer and fetch from it while behind. True if it
  // applied any block (then the next round starts at once).
  bool SyncRound();
  // When idle: asks the peers for the proof of the oldest ended epoch without one.
  void FetchMissingProof();
  void CountRefused(uint32_t peer);

  const std::string chain_id_;
  SyncPeers* const peers_;
  const storage::KvStore* const store_;
  const Apply apply_;
  const Options options_;
  const OnError on_error_;

  mutable Mutex mu_;
  CondVar wake_;
  bool stopping_ REEL_GUARDED_BY(mu_) = false;
  std::map<uint32_t, uint64_t> refused_by_peer_ REEL_GUARDED_BY(mu_);
  uint64_t refused_total_ REEL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
  std::atomic<uint64_t> blocks_synced_{0};
  uint64_t proofs_held_below_ = 0;  // sync thread only: every ended epoch below has a proof
  std::atomic<bool> behind_{false};
};

}  // namespace reel::replica
