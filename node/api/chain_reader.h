// ChainReader: the committed chain as the API reads it from one snapshot: blocks by
// height and id, transaction records, inclusion paths and commit proofs.
//
// What it promises
//   - Every answer is as of the one committed height read when it was opened
//     (node/storage/KEYS.md, "Reading"), whatever commits meanwhile.
//   - NotFound for a height above that height, or an id the chain does not hold, with a
//     message that names it; Corruption when the store lacks or garbles a record that
//     its committed height says it holds.
//   - A commit proof (node/replica/commit_proof.h) is checkable with the validator keys
//     alone; the newest block's comes from the commit tip record.
//
// Thread safety: immutable after Open; safe to share if the view is (a Snapshot is).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "crypto/hash.h"
#include "node/storage/kv.h"
#include "reel/v1/api.pb.h"
#include "reel/v1/consensus.pb.h"

namespace reel::api {

namespace v1 = ::reel::v1;

// The ids of a block's transactions (body only), in block order.
std::vector<crypto::Hash32> TxIds(std::string_view chain_id, const v1::Block& block);
// The envelope digests of a block's transactions, in block order: the leaves of
// header.tx_root (proto/README.md), so a Merkle path proves the signatures too.
std::vector<crypto::Hash32> TxLeaves(std::string_view chain_id, const v1::Block& block);

// The block id: the proposal digest of the canonical header bytes (proto/README.md).
// Corruption if a hash field is not 32 bytes.
Result<crypto::Hash32> BlockIdOf(std::string_view chain_id, const v1::BlockHeader& header);

class ChainReader {
 public:
  // FailedPrecondition when the store holds no committed height (no genesis yet).
  static Result<ChainReader> Open(const storage::ReadView& view, std::string chain_id);

  uint64_t committed_height() const { return committed_height_; }

  Result<v1::Block> BlockAt(uint64_t height) const;
  Result<uint64_t> HeightOfBlock(std::string_view block_id) const;  // block_id: 32 bytes

  // One result per transaction, in block order. A transaction that repeats an earlier
  // one (earlier in the block, or committed before) reads DUPLICATE_TX: its id's record
  // belongs to the first.
  Result<std::vector<v1::TxResult>> BlockResults(const v1::Block& block) const;

  // The committed transaction with its result, place, Merkle path, block header and, if
  // the chain already holds one, its commit proof. NotFound if it is not committed.
  Result<v1::GetTransactionResponse> CommittedTransaction(const crypto::Hash32& tx_id) const;

  // The record the ledger wrote for a committed transaction (status, result, height,
  // index, time); nullopt if it is not committed.
  Result<std::optional<v1::GetTransactionResponse>> TxRecord(const crypto::Hash32& tx_id) const;

  // The events the ledger indexed for the block's transactions (docs/LEDGER.md, 'E'),
  // one per transaction in block order; Corruption if their number is not the block's.
  Result<std::vector<v1::Event>> EventsOf(const v1::Block& block) const;

  // Headers and QCs that prove the block at `height` committed; nullopt while the
  // blocks that commit it are not committed themselves.
  Result<std::optional<v1::CommitProof>> CommitProofOf(uint64_t height) const;

  // GetEpochProofs: the epoch-change proofs this node holds from `from_epoch` on, in
  // order without gaps, at most limits::api_epoch_proofs_page_max, with the current
  // epoch and where the next page starts. NotFound when from_epoch is above the current
  // epoch (an epoch that has not even begun).
  Result<v1::GetEpochProofsResponse> EpochProofs(uint64_t from_epoch) const;

 private:
  ChainReader(const storage::ReadView& view, std::string chain_id, uint64_t committed_height)
      : view_(&view), chain_id_(std::move(chain_id)), committed_height_(committed_height) {}

  const storage::ReadView* view_;
  std::string chain_id_;
  uint64_t committed_height_ = 0;
};

}  // namespace reel::api
