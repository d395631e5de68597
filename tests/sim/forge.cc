#include "tests/sim/forge.h"

#include <algorithm>

#include "crypto/hash.h"
#include "crypto/merkle.h"

namespace reel::sim::forge {

using namespace consensus;

Vote SignVote(const Chain& chain, const crypto::KeyPair& key, uint32_t signer, const Block& block) {
  Vote v;
  v.epoch = chain.epoch;
  v.round = block.header.round;
  v.height = block.header.height;
  v.block_id = block.id;
  v.signer = signer;
  v.signature = key.SignDigest(VoteDigest(chain.id, chain.epoch, block.id, v.round));
  return v;
}

Timeout SignTimeout(const Chain& chain, const crypto::KeyPair& key, uint32_t signer, uint64_t round,
                    const QuorumCert& high_qc, std::optional<TimeoutCert> high_tc) {
  Timeout t;
  t.epoch = chain.epoch;
  t.round = round;
  t.high_qc = high_qc;
  t.signer = signer;
  t.signature = key.SignDigest(TimeoutDigest(chain.id, chain.epoch, round, high_qc.round));
  t.high_tc = std::move(high_tc);
  return t;
}

TimeoutSignature SignTimeoutEntry(const Chain& chain, const crypto::KeyPair& key, uint32_t signer,
                                  uint64_t round, uint64_t high_qc_round) {
  return {signer, high_qc_round,
          key.SignDigest(TimeoutDigest(chain.id, chain.epoch, round, high_qc_round))};
}

uint64_t CommittedHeightForChild(const BlockHeader& parent) {
  const bool parent_commits_grandparent = parent.height >= 1 && parent.qc_round + 1 == parent.round;
  return parent_commits_grandparent ? parent.height - 1 : parent.committed_height;
}

std::optional<Block> MakeBlock(const Chain& chain, const Block& parent, const QuorumCert& qc,
                               uint64_t round, uint32_t proposer, uint64_t now_ms,
                               std::vector<std::string> payload, const RootAt& root_at) {
  REEL_ASSERT(qc.block_id == parent.id && round > qc.round);
  const uint64_t committed = CommittedHeightForChild(parent.header);
  const std::optional<crypto::Hash32> root = root_at(committed);
  if (!root) return std::nullopt;
  Block b;
  BlockHeader& h = b.header;
  h.epoch = chain.epoch;
  h.round = round;
  h.height = parent.header.height + 1;
  h.parent_id = parent.id;
  h.qc_block_id = parent.id;
  h.qc_round = qc.round;
  h.proposer_index = proposer;
  h.timestamp_ms = std::max(now_ms, parent.header.timestamp_ms + 1);
  h.committed_height = committed;
  h.committed_state_root = *root;
  b.qc = qc;
  b.payload = std::move(payload);
  Reseal(chain, b);
  return b;
}

void Reseal(const Chain& chain, Block& block) {
  std::vector<crypto::Hash32> leaves;
  for (const std::string& tx : block.payload) leaves.push_back(crypto::Blake2b256(tx));
  block.header.tx_root = crypto::MerkleRoot(leaves);
  block.header.tx_count = static_cast<uint32_t>(block.payload.size());
  block.Seal(chain.id);
}

Proposal SignProposal(const crypto::KeyPair& key, Block block, std::optional<TimeoutCert> tc) {
  Proposal p{std::move(block), std::move(tc), {}};
  p.signature = key.SignDigest(p.block.id);
  return p;
}

void Corrupt(crypto::Signature& signature) {
  signature[signature.size() / 2] ^= 0x40;
}

}  // namespace reel::sim::forge
