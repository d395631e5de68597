// LedgerApplication: the consensus core's Application (consensus/application.h)
// made of the custody ledger, the node's store and its mempool.
//
// What it promises
//   - ExecuteCommitted writes everything block h changes in ONE synced batch: the
//     ledger's state, index and transaction records, the block (0x02, 0x03), its
//     commit QC, the removal of its pending record, and the commit height. After a
//     crash the store is at h or h - 1, never between.
//   - A committed block is executed exactly as every other node executes it: the
//     transactions are those of the block, in order; a transaction already
//     verified at admission is taken from the mempool rather than verified again.
//   - ValidatePayload refuses a proposal with a transaction that does not decode,
//     is of another chain or has a bad signature, so that an honest quorum never
//     certifies one: a committed block whose transaction fails verification means
//     more than f validators are faulty, and the node stops rather than diverge.
//   - Proposals take the oldest mempool transactions not already in the branch.
// Thread safety: called only from the replica's loop thread; the mempool it uses
// is thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "consensus/application.h"
#include "node/mempool/mempool.h"
#include "node/storage/kv.h"

namespace reel::replica {

class LedgerApplication : public consensus::Application {
 public:
  // Called after each committed block is durable: height and its transaction ids.
  using CommitListener = std::function<void(uint64_t height, const std::vector<crypto::Hash32>& tx_ids)>;

  // `store` holds an initialized chain (replica::Initialize); both must outlive this.
  LedgerApplication(std::string chain_id, storage::KvStore* store, mempool::Mempool* pool);

  // Reads the committed height and its state root; call once before the core starts.
  Status Open();
  void set_commit_listener(CommitListener listener) { listener_ = std::move(listener); }

  crypto::Hash32 ExecuteCommitted(const consensus::Block& block,
                                  const consensus::QuorumCert& qc) override;
  std::optional<crypto::Hash32> StateRootAt(uint64_t height) const override;
  std::vector<std::string> PayloadForProposal(
      const std::vector<const consensus::Block*>& uncommitted) override;
  crypto::Hash32 TransactionId(std::string_view tx_bytes) const override;
  Status ValidatePayload(const consensus::Block& block) override;

  uint64_t committed_height() const { return committed_height_; }

 private:
  // The verified form of one payload entry: from the mempool, or verified now.
  Result<ledger::VerifiedTx> VerifyEntry(std::string_view tx_bytes) const;

  const std::string chain_id_;
  storage::KvStore* const store_;
  mempool::Mempool* const pool_;
  CommitListener listener_;
  uint64_t committed_height_ = 0;
  // State roots of the recent committed heights: the core asks for the roots of
  // blocks near the tip only (bounded by roots_kept_max).
  std::map<uint64_t, crypto::Hash32> roots_;
};

}  // namespace reel::replica
