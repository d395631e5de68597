#include "consensus/types.h"

#include <algorithm>
#include <set>

#include "base/bytes.h"
#include "crypto/merkle.h"
#include "crypto/signing.h"

namespace reel::consensus {
namespace {

void AppendHash(std::string& out, const Hash32& h) {
  out.append(crypto::AsBytes(h));
}

}  // namespace

std::string CanonicalHeaderBytes(const BlockHeader& h) {
  std::string out;
  out.reserve(192);
  AppendU64BE(out, h.round);
  AppendU64BE(out, h.height);
  AppendHash(out, h.parent_id);
  AppendHash(out, h.qc_block_id);
  AppendU64BE(out, h.qc_round);
  AppendHash(out, h.tx_root);
  AppendU32BE(out, h.tx_count);
  AppendU32BE(out, h.proposer_index);
  AppendU64BE(out, h.timestamp_ms);
  AppendU64BE(out, h.committed_height);
  AppendHash(out, h.committed_state_root);
  out.append(reinterpret_cast<const char*>(h.qc_signers.data()), h.qc_signers.size());
  REEL_ASSERT(out.size() == 192);
  return out;
}

Hash32 BlockIdOf(std::string_view chain_id, const BlockHeader& header) {
  return crypto::SigningDigest(crypto::Domain::kProposal, chain_id, header.epoch,
                               CanonicalHeaderBytes(header));
}

SignerBitmap BitmapOf(const std::vector<SignerSignature>& signers) {
  SignerBitmap bitmap{};
  for (const SignerSignature& s : signers) {
    // An index beyond the bitmap is no validator's; VerifyQc refuses such a QC.
    if (s.index < 8 * bitmap.size())
      bitmap[s.index / 8] |= static_cast<uint8_t>(1u << (s.index % 8));
  }
  return bitmap;
}

bool HasSigner(const SignerBitmap& bitmap, uint32_t index) {
  return index < 8 * bitmap.size() && (bitmap[index / 8] >> (index % 8) & 1u) != 0;
}

void Block::Seal(std::string_view chain_id) {
  header.qc_signers = BitmapOf(qc.signers);
  id = BlockIdOf(chain_id, header);
}

Block MakeGenesisBlock(std::string_view chain_id, uint64_t epoch) {
  Block genesis;
  genesis.header.epoch = epoch;
  genesis.header.tx_root = crypto::MerkleRoot({});
  genesis.Seal(chain_id);
  return genesis;
}

QuorumCert MakeGenesisQc(const Block& genesis) {
  QuorumCert qc;
  qc.block_id = genesis.id;
  qc.epoch = genesis.header.epoch;
  return qc;
}

QuorumCert MakeRootQc(uint64_t epoch, const Hash32& root_id, uint64_t root_height) {
  QuorumCert qc;
  qc.block_id = root_id;
  qc.height = root_height;
  qc.epoch = epoch;
  return qc;
}

uint64_t TimeoutCert::MaxHighQcRound() const {
  uint64_t max = 0;
  for (const auto& s : signers) max = std::max(max, s.high_qc_round);
  return max;
}

Hash32 VoteDigest(std::string_view chain_id, uint64_t epoch, const Hash32& block_id,
                  uint64_t round) {
  std::string fields(crypto::AsBytes(block_id));
  AppendU64BE(fields, round);
  return crypto::SigningDigest(crypto::Domain::kVote, chain_id, epoch, fields);
}

Hash32 TimeoutDigest(std::string_view chain_id, uint64_t epoch, uint64_t round,
                     uint64_t high_qc_round) {
  std::string fields;
  AppendU64BE(fields, round);
  AppendU64BE(fields, high_qc_round);
  return crypto::SigningDigest(crypto::Domain::kTimeout, chain_id, epoch, fields);
}

bool IsQuorum(const std::vector<uint32_t>& indices, const VerifyContext& ctx) {
  if (ctx.count_duplicate_signers) return indices.size() >= ctx.validators->quorum();
  std::set<uint32_t> distinct(indices.begin(), indices.end());
  return distinct.size() >= ctx.validators->quorum();
}

namespace {

// Every index in range and, unless the planted bug is on, named once.
Status CheckSignerIndices(const std::vector<uint32_t>& indices, const VerifyContext& ctx) {
  std::set<uint32_t> seen;
  for (uint32_t i : indices) {
    if (i >= ctx.validators->n()) return Status::InvalidArgument("signer index out of range");
    if (!seen.insert(i).second && !ctx.count_duplicate_signers) {
      return Status::InvalidArgument("signer named twice in a certificate");
    }
  }
  if (!IsQuorum(indices, ctx)) return Status::InvalidArgument("certificate below quorum");
  return Status::Ok();
}

}  // namespace

Status VerifyQc(const QuorumCert& qc, const VerifyContext& ctx) {
  REEL_ASSERT(ctx.validators != nullptr);
  if (qc.epoch != ctx.epoch) return Status::InvalidArgument("QC of another epoch");
  if (qc.round == 0) {
    // The height is an unsigned hint that users correct from the block, as for any QC.
    if (qc.block_id == ctx.epoch_root_id && qc.signers.empty()) return Status::Ok();
    return Status::InvalidArgument("round-0 QC that is not the epoch's root QC");
  }
  std::vector<uint32_t> indices;
  for (const auto& s : qc.signers) indices.push_back(s.index);
  REEL_RETURN_IF_ERROR(CheckSignerIndices(indices, ctx));
  const Hash32 digest = VoteDigest(ctx.chain_id, ctx.epoch, qc.block_id, qc.round);
  for (const auto& s : qc.signers) {
    if (!crypto::Verify(ctx.validators->keys[s.index], digest, s.signature)) {
      return Status::Unauthenticated("bad signature in QC");
    }
  }
  return Status::Ok();
}

Status VerifyTc(const TimeoutCert& tc, const VerifyContext& ctx) {
  REEL_ASSERT(ctx.validators != nullptr);
  if (tc.epoch != ctx.epoch) return Status::InvalidArgument("TC of another epoch");
  if (tc.round == 0) return Status::InvalidArgument("TC of round 0");
  std::vector<uint32_t> indices;
  for (const auto& s : tc.signers) indices.push_back(s.index);
  REEL_RETURN_IF_ERROR(CheckSignerIndices(indices, ctx));
  for (const auto& s : tc.signers) {
    if (s.high_qc_round >= tc.round)
      return Status::InvalidArgument("TC entry with high QC >= round");
    const Hash32 digest = TimeoutDigest(ctx.chain_id, ctx.epoch, tc.round, s.high_qc_round);
    if (!crypto::Verify(ctx.validators->keys[s.index], digest, s.signature)) {
      return Status::Unauthenticated("bad signature in TC");
    }
  }
  return Status::Ok();
}

Status VerifyVote(const Vote& vote, const VerifyContext& ctx) {
  if (vote.epoch != ctx.epoch) return Status::InvalidArgument("vote of another epoch");
  if (vote.signer >= ctx.validators->n())
    return Status::InvalidArgument("vote signer out of range");
  if (vote.round == 0) return Status::InvalidArgument("vote for round 0");
  const Hash32 digest = VoteDigest(ctx.chain_id, ctx.epoch, vote.block_id, vote.round);
  if (!crypto::Verify(ctx.validators->keys[vote.signer], digest, vote.signature)) {
    return Status::Unauthenticated("bad vote signature");
  }
  return Status::Ok();
}

Status VerifyTimeoutSignature(const Timeout& timeout, const VerifyContext& ctx) {
  if (timeout.epoch != ctx.epoch) return Status::InvalidArgument("timeout of another epoch");
  if (timeout.signer >= ctx.validators->n()) {
    return Status::InvalidArgument("timeout signer out of range");
  }
  if (timeout.high_qc.round >= timeout.round) {
    return Status::InvalidArgument("timeout with high QC >= its round");
  }
  const Hash32 digest =
      TimeoutDigest(ctx.chain_id, ctx.epoch, timeout.round, timeout.high_qc.round);
  if (!crypto::Verify(ctx.validators->keys[timeout.signer], digest, timeout.signature)) {
    return Status::Unauthenticated("bad timeout signature");
  }
  return Status::Ok();
}

Status VerifyProposalSignature(const Proposal& proposal, const VerifyContext& ctx) {
  const BlockHeader& h = proposal.block.header;
  if (h.epoch != ctx.epoch) return Status::InvalidArgument("proposal of another epoch");
  if (h.proposer_index >= ctx.validators->n()) {
    return Status::InvalidArgument("proposer index out of range");
  }
  if (!crypto::Verify(ctx.validators->keys[h.proposer_index], proposal.block.id,
                      proposal.signature)) {
    return Status::Unauthenticated("bad proposal signature");
  }
  return Status::Ok();
}

}  // namespace reel::consensus
