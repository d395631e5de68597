#include "node/replica/commit_proof.h"

#include "base/bytes.h"
#include "base/limits.h"
#include "crypto/merkle.h"
#include "crypto/signing.h"
#include "node/ledger/ledger.h"
#include "node/replica/chain_store.h"
#include "node/replica/codec.h"
#include "node/storage/keys.h"

namespace reel::replica {

namespace keys = storage::keys;

v1::CommitProof CommitProofOf(const consensus::Commit& commit) {
  v1::CommitProof proof;
  for (const consensus::BlockHeader& h : commit.descendants) *proof.add_descendants() = ToProto(h);
  *proof.mutable_block_qc() = ToProto(commit.block_qc);
  *proof.mutable_child_qc() = ToProto(commit.child_qc);
  return proof;
}

Result<crypto::Hash32> HeaderId(const v1::BlockHeader& header, std::string_view chain_id) {
  Result<consensus::BlockHeader> decoded = FromProto(header);
  if (!decoded.ok()) return decoded.status();
  return consensus::BlockIdOf(chain_id, *decoded);
}

Status VerifyCommitProof(const crypto::Hash32& block_id, const v1::CommitProof& proof,
                         const consensus::VerifyContext& ctx) {
  const int count = proof.descendants_size();
  if (count == 0) return Status::InvalidArgument("commit proof has no descendant headers");
  if (static_cast<size_t>(count) > limits::api_commit_proof_descendants_max) {
    return Status::InvalidArgument("commit proof has more than " +
                                   std::to_string(limits::api_commit_proof_descendants_max) +
                                   " descendant headers");
  }
  // Walk up from the block: each header names the previous one as parent and QC'd
  // block, so the ids chain B <- ... <- D <- D'.
  crypto::Hash32 previous = block_id;
  crypto::Hash32 d_id = block_id;
  consensus::BlockHeader last;
  for (int i = 0; i < count; ++i) {
    Result<consensus::BlockHeader> header = FromProto(proof.descendants(i));
    if (!header.ok()) return header.status();
    if (header->epoch != ctx.epoch) {
      return Status::InvalidArgument("commit proof header of another epoch");
    }
    if (header->parent_id != previous || header->qc_block_id != previous) {
      return Status::InvalidArgument("commit proof header " + std::to_string(i) +
                                     " is not the child of the one before it");
    }
    d_id = previous;
    previous = consensus::BlockIdOf(ctx.chain_id, *header);
    last = *header;
  }
  // D' is the last header; D its parent, whose round D' names as its QC's round.
  Result<consensus::QuorumCert> block_qc = FromProto(proof.block_qc());
  if (!block_qc.ok()) return block_qc.status();
  Result<consensus::QuorumCert> child_qc = FromProto(proof.child_qc());
  if (!child_qc.ok()) return child_qc.status();
  if (block_qc->block_id != d_id || block_qc->round != last.qc_round) {
    return Status::InvalidArgument("commit proof block_qc does not certify D");
  }
  if (child_qc->block_id != previous || child_qc->round != last.round) {
    return Status::InvalidArgument("commit proof child_qc does not certify D'");
  }
  if (last.round != last.qc_round + 1) {
    return Status::InvalidArgument("commit proof: the rounds of D and D' are not consecutive");
  }
  if (Status s = consensus::VerifyQc(*block_qc, ctx); !s.ok()) {
    return Status::InvalidArgument("commit proof block_qc: " + s.message());
  }
  if (Status s = consensus::VerifyQc(*child_qc, ctx); !s.ok()) {
    return Status::InvalidArgument("commit proof child_qc: " + s.message());
  }
  return Status::Ok();
}

namespace {

// The tip record, if it proves the block at `committed_height` (an older tip, left
// by a crash before its write, proves another block and is ignored).
Result<std::optional<v1::CommitProof>> ReadTip(const storage::ReadView& view,
                                               std::string_view chain_id,
                                               uint64_t committed_height) {
  Result<std::optional<std::string>> raw = view.Get(keys::CommitTipKey());
  if (!raw.ok()) return raw.status();
  if (!raw->has_value()) return std::optional<v1::CommitProof>();
  v1::CommitProof tip;
  if (!tip.ParseFromString(**raw) || tip.descendants_size() == 0) {
    return Status::Corruption("the stored commit tip does not decode");
  }
  Result<v1::Block> top = ReadCommittedBlock(view, committed_height);
  if (!top.ok()) return top.status();
  Result<crypto::Hash32> top_id = HeaderId(top->header(), chain_id);
  if (!top_id.ok())
    return Status::Corruption("committed block header: " + top_id.status().message());
  if (tip.descendants(0).parent_id() != std::string(crypto::AsBytes(*top_id))) {
    return std::optional<v1::CommitProof>();
  }
  return std::optional<v1::CommitProof>(std::move(tip));
}

}  // namespace

Result<std::optional<v1::CommitProof>> ReadCommitProof(const storage::ReadView& view,
                                                       std::string_view chain_id, uint64_t height,
                                                       uint64_t committed_height) {
  REEL_ASSERT(height <= committed_height);
  // Walk forward through committed blocks to the first child one round above its
  // parent: the child carries the QC on its parent, and the store keeps the QC on
  // each committed block (commit_qc).
  Result<v1::Block> block = ReadCommittedBlock(view, height);
  if (!block.ok()) return block.status();
  uint64_t previous_round = block->header().round();
  v1::CommitProof proof;
  // A block of an epoch that has ended is proved within its epoch: the walk stops at
  // the epoch's last block, whose own proof the epoch end record keeps.
  Result<std::optional<v1::EpochEnd>> end = ReadEpochEnd(view, block->header().epoch());
  if (!end.ok()) return end.status();
  const bool ended = end->has_value() && (*end)->height() >= height;
  const uint64_t top = ended ? (*end)->height() : committed_height;
  const uint64_t last = std::min<uint64_t>(top, height + limits::api_commit_proof_descendants_max);
  for (uint64_t j = height + 1; j <= last; ++j) {
    Result<v1::Block> child = ReadCommittedBlock(view, j);
    if (!child.ok()) return child.status();
    *proof.add_descendants() = child->header();
    if (child->header().round() == previous_round + 1) {
      Result<v1::QuorumCert> child_qc = ReadCommitQc(view, j);
      if (!child_qc.ok()) return child_qc.status();
      *proof.mutable_block_qc() = child->qc();
      *proof.mutable_child_qc() = std::move(child_qc).value();
      return std::optional<v1::CommitProof>(std::move(proof));
    }
    previous_round = child->header().round();
  }
  if (last != top) return std::optional<v1::CommitProof>();  // too far to prove
  // No pair among committed blocks: the chain from here to the newest block (or the
  // epoch's last) was committed by a child that is not committed, which the tip (or
  // the epoch end) holds.
  Result<std::optional<v1::CommitProof>> tip =
      ended
          ? Result<std::optional<v1::CommitProof>>(std::optional<v1::CommitProof>((*end)->proof()))
          : ReadTip(view, chain_id, committed_height);
  if (!tip.ok() || !tip->has_value()) return tip;
  if (static_cast<size_t>(proof.descendants_size() + (*tip)->descendants_size()) >
      limits::api_commit_proof_descendants_max) {
    return std::optional<v1::CommitProof>();
  }
  for (const v1::BlockHeader& header : (*tip)->descendants()) *proof.add_descendants() = header;
  *proof.mutable_block_qc() = (*tip)->block_qc();
  *proof.mutable_child_qc() = (*tip)->child_qc();
  return std::optional<v1::CommitProof>(std::move(proof));
}

Result<ProvedTransaction> VerifyTransactionProof(const v1::GetTransactionResponse& answer,
                                                 const consensus::VerifyContext& ctx) {
  if (answer.status() != v1::TX_STATUS_COMMITTED) {
    return Status::InvalidArgument("the transaction is not committed: nothing to prove yet");
  }
  ProvedTransaction proved;
  const v1::Transaction& tx = answer.transaction();
  Result<ledger::VerifiedTx> verified = ledger::Verify(tx, ctx.chain_id);
  if (!verified.ok()) {
    return Status::InvalidArgument("the transaction's signatures do not verify: " +
                                   verified.status().message());
  }
  proved.tx_id = verified->id;
  proved.signers = verified->signers;
  proved.height = answer.height();
  proved.tx_index = answer.tx_index();
  if (answer.header().height() != answer.height()) {
    return Status::InvalidArgument("the header is of height " +
                                   std::to_string(answer.header().height()) + ", not " +
                                   std::to_string(answer.height()));
  }
  Result<crypto::Hash32> block_id = HeaderId(answer.header(), ctx.chain_id);
  if (!block_id.ok()) return Status::InvalidArgument("header: " + block_id.status().message());
  proved.block_id = *block_id;
  std::vector<crypto::Hash32> path;
  for (const std::string& sibling : answer.merkle_path()) {
    if (sibling.size() != 32) return Status::InvalidArgument("a merkle_path entry is not 32 bytes");
    crypto::Hash32 h{};
    std::copy(sibling.begin(), sibling.end(), h.begin());
    path.push_back(h);
  }
  crypto::Hash32 root{};
  std::copy(answer.header().tx_root().begin(), answer.header().tx_root().end(), root.begin());
  if (!crypto::VerifyMerklePath(verified->envelope_digest, answer.tx_index(),
                                answer.header().tx_count(), path, root)) {
    return Status::InvalidArgument(
        "the Merkle path does not lead from this envelope (body and signatures) to the "
        "header's tx_root");
  }
  if (!answer.has_commit_proof()) {
    return Status::InvalidArgument("no commit proof yet: the blocks that commit " +
                                   std::to_string(answer.height()) +
                                   " are not committed themselves; ask again shortly");
  }
  if (Status s = VerifyCommitProof(*block_id, answer.commit_proof(), ctx); !s.ok()) return s;
  return proved;
}

consensus::ValidatorSet ValidatorsOf(const v1::Genesis& genesis) {
  consensus::ValidatorSet set;
  for (const v1::Validator& v : genesis.validators()) {
    crypto::PublicKey key{};
    REEL_ASSERT(v.public_key().size() == key.size());
    std::copy(v.public_key().begin(), v.public_key().end(), key.begin());
    set.keys.push_back(key);
  }
  return set;
}

}  // namespace reel::replica
