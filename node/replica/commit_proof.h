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
#include <vector>

#include "base/status.h"
#include "consensus/core.h"
#include "consensus/types.h"
#include "node/storage/kv.h"
#include "reel/v1/api.pb.h"
#include "reel/v1/consensus.pb.h"
#include "reel/v1/genesis.pb.h"

namespace reel::replica {

// The proof the core's Commit action gives for its last block (Commit::descendants,
// block_qc, child_qc).
v1::CommitProof CommitProofOf(const consensus::Commit& commit);

// Checks that `proof` proves block `block_id` committed, with the keys of ctx.
Status VerifyCommitProof(const crypto::Hash32& block_id, const v1::CommitProof& proof,
                         const consensus::VerifyContext& ctx);

// The proof of the committed block at `height`, read from `view`, whose committed
// height is `committed_height` (>= height).
Result<std::optional<v1::CommitProof>> ReadCommitProof(const storage::ReadView& view,
                                                       std::string_view chain_id, uint64_t height,
                                                       uint64_t committed_height);

// What a GetTransaction answer proves to someone holding only the validator keys.
struct ProvedTransaction {
  crypto::Hash32 tx_id{};
  crypto::Hash32 block_id{};
  uint64_t height = 0;
  uint32_t tx_index = 0;
  // Every signature in the envelope, verified over the id: who signed, proved, since
  // the block's tx_root covers the envelope digest (proto/README.md).
  std::vector<crypto::PublicKey> signers;
};

// Checks a committed GetTransaction answer end to end, as proto/README.md step 10
// says: the id from the body, every signature over it, the envelope digest's Merkle
// path to header.tx_root at (tx_index, tx_count), the block id from the header, its
// height, and the commit proof with ctx's keys. InvalidArgument naming the first
// check that fails. The result (TxResult) is not under the proof.
Result<ProvedTransaction> VerifyTransactionProof(const v1::GetTransactionResponse& answer,
                                                 const consensus::VerifyContext& ctx);

// The validator set of genesis, in index order (ValidateGenesis has checked the keys).
consensus::ValidatorSet ValidatorsOf(const v1::Genesis& genesis);

// The id of a header (the proposal digest of its canonical bytes); InvalidArgument if
// a hash field is not 32 bytes.
Result<crypto::Hash32> HeaderId(const v1::BlockHeader& header, std::string_view chain_id);

}  // namespace reel::replica
