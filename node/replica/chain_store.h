// ChainStore: the replica's records in the node's store (node/storage/KEYS.md):
// the genesis batch, the committed blocks with their QCs, the safety state, and
// the blocks of the consensus tree that are not committed yet.
//
// What it promises
//   - Initialize writes genesis (state, block 0, chain id, schema version, commit
//     height 0) in one synced batch when the store is empty, and otherwise checks
//     that the store belongs to this chain: a store of another chain or schema is
//     refused with FailedPrecondition naming both, never silently reused.
//   - LoadStartState reads what a restarting core needs: the last committed block
//     and its QC, the headers of the `history_blocks` newest committed blocks (for
//     the leader schedule), the safety state (nullopt at first start) and the
//     pending blocks.
//     A record that does not decode is Corruption: the node refuses to start rather
//     than guess.
//   - ReadEpoch reads the epoch the committed state is in (the ledger's current validator
//     set, node/ledger/validators.h) with its root block: what a (re)starting replica
//     runs and what block sync checks the next range with.
//   - The end of each epoch (EpochEnd) is kept for good: the height of the block that
//     ended it, that block's proof, which no other record holds, and the ended epoch's
//     set; and so is its epoch-change proof (EpochChangeProof) once the node holds a
//     verified one.
// Thread safety: none of its own; the replica calls it from its loop thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "consensus/core.h"
#include "node/storage/kv.h"
#include "reel/v1/consensus.pb.h"
#include "reel/v1/genesis.pb.h"
#include "reel/v1/types.pb.h"

namespace reel::replica {

Status Initialize(storage::KvStore& store, const v1::Genesis& genesis, uint64_t epoch);

Result<consensus::StartState> LoadStartState(const storage::ReadView& store,
                                             const std::string& chain_id,
                                             size_t history_blocks = 1);

// The epoch of the committed state.
struct EpochState {
  uint64_t epoch = 0;
  uint64_t root_height = 0;      // the block the epoch starts from: genesis, or the last
  crypto::Hash32 root_id{};      // block of the epoch before
  v1::ValidatorSet set;          // the ledger's record: validators and consensus params
  consensus::ValidatorSet keys;  // their keys, in index order

  // What checks this epoch's certificates (the context points into this object).
  consensus::VerifyContext Context(std::string_view chain_id) const;
  // The index of `key` in this epoch's set, if it is a validator's.
  std::optional<uint32_t> IndexOf(const crypto::PublicKey& key) const;
};
// The keys of `set`, in index order; InvalidArgument if one is not 32 bytes or the set
// is empty or too large.
Result<consensus::ValidatorSet> KeysOf(const v1::ValidatorSet& set);
Result<EpochState> ReadEpoch(const storage::ReadView& store, const std::string& chain_id);

// Adds the record of epoch `epoch`'s end to `batch` (KEYS.md, epoch_end): the height of
// the block that ended it, that block's proof and `set`, the ended epoch's validators as
// this node's state held them.
void PutEpochEnd(storage::WriteBatch& batch, uint64_t epoch, uint64_t height,
                 const v1::CommitProof& proof, const v1::ValidatorSet& set);
// The end of `epoch`, if it has ended.
Result<std::optional<v1::EpochEnd>> ReadEpochEnd(const storage::ReadView& store, uint64_t epoch);
// Epoch `epoch`, which has ended here, as it was: its set (from its EpochEnd record), keys
// and root block, so that Context checks its certificates. nullopt if it has not ended
// on this node, or its record predates the set it now carries.
Result<std::optional<EpochState>> ReadEndedEpoch(const storage::ReadView& store,
                                                 const std::string& chain_id, uint64_t epoch);

// Epoch-change proofs (epoch_proof.h; KEYS.md, epoch_proof). The caller stores only a
// proof that VerifyEpochChangeProof accepted with the keys of the epoch it ends.
void PutEpochProof(storage::WriteBatch& batch, const v1::EpochChangeProof& proof);
// The proof of `epoch`'s end, if this node holds one.
Result<std::optional<v1::EpochChangeProof>> ReadEpochProof(const storage::ReadView& store,
                                                           uint64_t epoch);
// The proofs of epochs from, from + 1, ... up to `to` (exclusive) in order, stopping at
// the first this node does not hold and after `max` of them.
Result<std::vector<v1::EpochChangeProof>> ReadEpochProofs(const storage::ReadView& store,
                                                          uint64_t from, uint64_t to, size_t max);

// The committed height (0 after genesis); Corruption if the pointer is missing.
Result<uint64_t> CommittedHeight(const storage::ReadView& store);

// Adds the safety state record to `batch`.
void PutSafetyState(storage::WriteBatch& batch, const consensus::SafetyState& state);

// The committed block at `height` as stored; NotFound above the committed height.
Result<v1::Block> ReadCommittedBlock(const storage::ReadView& store, uint64_t height);

// The QC that certifies the committed block at `height` (KEYS.md, commit_qc);
// Corruption if a committed height has none or it does not decode.
Result<v1::QuorumCert> ReadCommitQc(const storage::ReadView& store, uint64_t height);

}  // namespace reel::replica
