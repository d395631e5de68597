// Commit proofs (CommitProof in proto/reel/v1/consensus.proto): what shows that a
// block is committed to anyone who holds only the validator keys, without trusting
// the node that sends it. Clients get one with a transaction; block sync gets one
// with every range of blocks.
//
// The two-chain rule: a block D is committed once a QC certifies its child D' with
// D'.round = D.round + 1, and with it every ancestor of D. A proof of block B is the
// headers from B's child up to D' (each the parent of the next), the QC on D and the
// QC on D'. Usually a single header: B is D.
//
// What it promises
//   - VerifyCommitProof accepts a proof only if the headers chain up from `block_id`,
//     the rounds of D and D' are consecutive, and a quorum of this epoch signed each
//     QC. Every failure is InvalidArgument naming what is wrong.
//   - ReadCommitProof builds the proof of any committed height from committed records
//     alone, and for the newest blocks from the commit tip record (KEYS.md); nullopt
//     only when the tip on disk is older than the chain (a crash between a commit and
//     its tip write), until the next commit.
#pragma once

#include <optional>
#include <string_view>

#include "base/status.h"
#include "consensus/types.h"
#include "node/storage/kv.h"
#include "reel/v1/consensus.pb.h"

namespace reel::replica {

// The proof the core's Commit action gives for its last block: the child one round
// above it and the QCs on both.
v1::CommitProof DirectCommitProof(const consensus::QuorumCert& block_qc,
                                  const consensus::BlockHeader& child,
                                  const consensus::QuorumCert& child_qc);

// Checks that `proof` proves block `block_id` committed, with the keys of ctx.
Status VerifyCommitProof(const crypto::Hash32& block_id, const v1::CommitProof& proof,
                         const consensus::VerifyContext& ctx);

// The proof of the committed block at `height`, read from `view`, whose committed
// height is `committed_height` (>= height).
Result<std::optional<v1::CommitProof>> ReadCommitProof(const storage::ReadView& view,
                                                       std::string_view chain_id, uint64_t height,
                                                       uint64_t committed_height);

// The id of a header (the proposal digest of its canonical bytes); InvalidArgument if
// a hash field is not 32 bytes.
Result<crypto::Hash32> HeaderId(const v1::BlockHeader& header, std::string_view chain_id);

}  // namespace reel::replica
