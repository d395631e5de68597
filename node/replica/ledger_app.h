// LedgerApplication: the consensus core's Application (consensus/application.h)
// made of the custody ledger, the node's store and its mempool.
//
// What it promises
//   - ExecuteCommitted (or, with deferred commit writes, FlushCommitted) writes
//     everything block h changes in ONE synced batch: the ledger's state, index and
//     transaction records, the block (0x02, 0x03), its commit QC, the removal of its
//     pending record, and the commit height. After a crash the store is at h or h - 1,
//     never between.
//   - What a block executes depends on its bytes alone (CONSENSUS.md "Execution
//     depends on the block alone"): the transactions are those of the block, in
//     order, with the signatures the block carries. A verified form is reused only
//     when the whole envelope matches, by envelope digest: the mempool's copy when
//     its envelope is the block's, or the one ValidatePayload verified. A node with
//     an empty pool, a full one, or replaying from genesis reaches the same roots.
//   - ValidatePayload refuses a proposal with a transaction that does not decode,
//     is of another chain, has a bad signature, repeats one of the block, or is not
//     signed by a quorum of its signer's current keys in the committed state (so a
//     leader cannot strip or add signatures to get a pooled transaction committed as
//     refused, spending its id), so that an honest quorum never certifies one: a committed block
//     whose transaction fails verification means more than f validators are faulty, and the node
//     stops rather than diverge, naming the block, the transaction and the check.
//   - Prepare executes a certified child of the committed tip ahead of its commit, in
//     the time the replica waits for the next proposal or votes, a few transactions
//     per call (so that a message waits for one turn, not for a whole block's
//     execution; a commit that comes mid-run executes the rest at once);
//     ExecuteCommitted of that very block (by id, at that height) then only writes
//     what was computed, or first executes what is left of it. Execution reads the
//     committed state alone (a snapshot taken when the block's execution began), which
//     only ExecuteCommitted changes, and which drops any execution under way of
//     another block, so a prepared block gives the bytes, results and root its commit
//     would have: the state is the same and the block is the same.
//   - Deferred commit writes (set_defer_commit_writes, which the replica turns on):
//     ExecuteCommitted keeps the block's batch staged instead of writing it, and
//     FlushCommitted writes it (synced), then tells the mempool and the listener. The
//     replica flushes once it has sent the step's vote or proposal, before its next
//     event, so that the write of a commit is not between a proposal and its vote.
//     Until the flush, everything this class answers already counts the staged block
//     as committed (the height, state roots, EpochEndedAt, the signer checks of
//     ValidatePayload and PayloadForProposal, the transactions a proposal leaves out);
//     the store, the mempool and the API do not have it yet. A crash before the flush
//     leaves the store at the block below, with the safety state ahead of it: the
//     block commits again from the next QC, or by block sync. A block that ends its
//     epoch is written at once, never staged.
//   - Proposals take the oldest mempool transactions not already in the branch, less
//     those whose signers no longer hold and those already committed (the pool can
//     hold one whose admission read a snapshot from before its block), both dropped
//     from the pool; less those expired at the proposal's height (dropped once expired
//     at the committed height: a lower block of another branch may take them); and
//     less those the store failed to read for (kept in the pool for a later block).
// Failure: a committed block that cannot be executed (the store fails a read, or
//   holds damage: ledger::StorageFault) or whose batch cannot be written stops the
//   node (internal::Fatal), naming the height. The store is then at h - 1, or at h if
//   the batch reached the disk though its sync failed; a restart resumes from there.
// Thread safety: called only from the replica's loop thread; the mempool it uses
// is thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "consensus/application.h"
#include "node/mempool/mempool.h"
#include "node/storage/kv.h"

namespace reel::replica {

// Bugs planted on purpose so that the whole-node simulator (reel-sim --whole-node
// --bug ...) can show that it catches them, as consensus::PlantedBug does for the
// core. kNone everywhere else: only the simulator sets another.
enum class PlantedBug : uint8_t {
  kNone,
  // LedgerApplication reuses the pooled transaction by body id, whatever signatures
  // the block's envelope carries (issue 10's finding 1, before the fix).
  kBodyKeyedCache,
  // VerifyRange does not check a range's transactions against tx_root and tx_count
  // (a block sync that skips the envelope check).
  kSyncSkipsEnvelopeCheck,
};

class LedgerApplication : public consensus::Application {
 public:
  // Called after each committed block is durable: height and its transaction ids.
  using CommitListener =
      std::function<void(uint64_t height, const std::vector<crypto::Hash32>& tx_ids)>;

  // `store` holds an initialized chain (replica::Initialize); both must outlive this.
  LedgerApplication(std::string chain_id, storage::KvStore* store, mempool::Mempool* pool,
                    PlantedBug bug = PlantedBug::kNone);

  // Reads the committed height and its state root; call once before the core starts.
  Status Open();
  void set_commit_listener(CommitListener listener) { listener_ = std::move(listener); }

  crypto::Hash32 ExecuteCommitted(const consensus::Block& block,
                                  const consensus::QuorumCert& qc) override;
  // The keys of the next epoch if committed block `height` ended the epoch (the ledger
  // made its approved validator set current: ledger::EpochEndedAt). A store that cannot
  // say stops the node, as a block that cannot be executed does.
  std::optional<consensus::ValidatorSet> EpochEndedAt(uint64_t height) const override;
  // nullopt when CommittedStateRoot fails: the core then does not vote for a header it
  // cannot check.
  std::optional<crypto::Hash32> StateRootAt(uint64_t height) const override;
  // The state root after committed block `height`: NotFound above the committed height,
  // the store's Status when it cannot be read, Corruption when the record is missing
  // or malformed.
  Result<crypto::Hash32> CommittedStateRoot(uint64_t height) const;
  std::vector<std::string> PayloadForProposal(
      const std::vector<const consensus::Block*>& uncommitted,
      const consensus::PayloadLimits& block_limits) override;
  // The envelope digest of the entry (ledger::EnvelopeDigestOf); of the raw bytes
  // when they do not decode (ValidatePayload refuses such a block anyway).
  crypto::Hash32 PayloadLeaf(std::string_view tx_bytes) const override;
  Status ValidatePayload(const consensus::Block& block) override;

  // Executes up to `txs_max` more of `block`'s transactions if it is the child of the
  // committed tip and not prepared already, keeping the result (one block) for its
  // ExecuteCommitted. True when there is nothing left to do for it: prepared, failed,
  // or not the child of the tip; false when more calls are needed. A block that fails
  // to verify or execute is not kept: its commit, if it comes, says why.
  bool Prepare(const consensus::Block& block, size_t txs_max = SIZE_MAX);
  // Drops a prepare stopped between turns, and the snapshot of the store it holds: the
  // node calls it before it closes the store.
  void DropPrepare() { preparing_.reset(); }

  // See "Deferred commit writes" above. Off by default: ExecuteCommitted writes before
  // it returns.
  void set_defer_commit_writes(bool defer) { defer_commit_writes_ = defer; }
  // Writes the staged block, if any, and announces it. A write that fails stops the node.
  void FlushCommitted();

  uint64_t committed_height() const { return committed_height_; }
  // Commits that wrote what Prepare had computed, since Open.
  uint64_t commits_prepared() const { return commits_prepared_.load(std::memory_order_relaxed); }

 private:
  // Shared, not copied: the pool's, the cache's and execution's are one object.
  using VerifiedPtr = std::shared_ptr<const ledger::VerifiedTx>;
  // The verified form of one payload entry: reused when the same envelope (by
  // digest) was verified before, by admission or ValidatePayload; verified now
  // otherwise.
  Result<VerifiedPtr> VerifyEntry(std::string_view tx_bytes);
  void Remember(const VerifiedPtr& tx);
  // The body-only id of an entry (what the mempool and dedup use).
  crypto::Hash32 BodyId(std::string_view tx_bytes) const;

  // A block executed over the committed tip, not written.
  struct Executed {
    crypto::Hash32 block_id{};
    uint64_t height = 0;
    std::vector<crypto::Hash32> tx_ids;
    ledger::BlockExecution execution;
  };
  // A block under execution over the committed tip, some of its transactions done.
  struct Running {
    crypto::Hash32 block_id{};
    uint64_t height = 0;
    std::unique_ptr<storage::Snapshot> snapshot;      // what the executor reads
    std::unique_ptr<ledger::BlockExecutor> executor;  // reads *snapshot
    std::vector<crypto::Hash32> tx_ids;               // of the transactions done
  };
  Result<Running> Begin(const consensus::Block& block);
  // Whether preparing_ is a run of this very block (by id, at its height).
  bool PreparingNow(const consensus::Block& block) const;
  // Verifies and executes up to `txs_max` more of the block's transactions. On failure,
  // what failed (the run is spent); `invalid_tx` is set when a transaction of the block
  // fails verification (names it), not when the store does.
  Status Continue(const consensus::Block& block, Running& run, size_t txs_max, bool* invalid_tx);
  // Verifies the block's transactions and executes them over the committed state, which
  // must be at its parent's height: the rest of Prepare's run of this block, if there
  // is one. On failure as Continue.
  Result<Executed> Execute(const consensus::Block& block, bool* invalid_tx);

  const std::string chain_id_;
  storage::KvStore* const store_;
  mempool::Mempool* const pool_;
  const PlantedBug bug_;
  CommitListener listener_;
  uint64_t committed_height_ = 0;
  // State roots of the recent committed heights: the core asks for the roots of
  // blocks near the tip only (bounded by roots_kept_max).
  std::map<uint64_t, crypto::Hash32> roots_;
  // Transactions ValidatePayload verified, by envelope digest, so that execution
  // does not verify them again; oldest first out beyond kVerifiedKeptMax.
  std::map<crypto::Hash32, VerifiedPtr> verified_;
  std::deque<crypto::Hash32> verified_order_;
  // What Prepare computed, for the block at committed_height_ + 1 it names.
  std::optional<Executed> prepared_;
  // Prepare's execution under way, of the block at committed_height_ + 1 it names.
  std::optional<Running> preparing_;
  // The block whose Prepare failed last (a store that failed a read): not tried again on
  // every event until its commit, which executes it and says why.
  std::optional<crypto::Hash32> prepare_failed_;
  // Written on the loop thread; read by tests and metrics from others.
  std::atomic<uint64_t> commits_prepared_{0};

  // A committed block executed and not yet written (deferred commit writes).
  struct Staged {
    storage::WriteBatch batch;
    // The batch's first sorted_ops ops are the ledger's writes, sorted by key and one per
    // key (ledger::BlockExecution): the state a read of the staged block looks up.
    size_t sorted_ops = 0;
    uint64_t height = 0;
    std::vector<crypto::Hash32> tx_ids;
  };
  class StagedView;
  // Writes a committed block's batch, synced (a failure stops the node); then tells the
  // mempool and the listener.
  void Write(const Staged& staged);
  void Announce(const Staged& staged);
  // Runs `read` over the committed state: the store (or `snapshot` of it) with the
  // staged block on top, if there is one.
  template <typename Read>
  auto ReadCommitted(const storage::ReadView& base, Read read) const;
  bool defer_commit_writes_ = false;
  std::optional<Staged> staged_;
};

}  // namespace reel::replica
