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
// Thread safety: none of its own; the replica calls it from its loop thread.
#pragma once

#include <string>

#include "base/status.h"
#include "consensus/core.h"
#include "node/storage/kv.h"
#include "reel/v1/consensus.pb.h"
#include "reel/v1/genesis.pb.h"

namespace reel::replica {

Status Initialize(storage::KvStore& store, const v1::Genesis& genesis, uint64_t epoch);

Result<consensus::StartState> LoadStartState(const storage::ReadView& store,
                                             const std::string& chain_id,
                                             size_t history_blocks = 1);

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
