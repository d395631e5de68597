// forge: consensus messages made and signed outside a core, for the simulator's
// Byzantine drivers (sim.h). A Byzantine validator holds its key and may sign
// anything; these functions build what an honest core would build from the given
// inputs (so that only the inputs lie), or the one named flaw. They decide nothing
// and draw no chance: the simulator chooses, with its one PRNG, what to forge and
// whom to send it to.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "consensus/types.h"
#include "crypto/keys.h"

namespace reel::sim::forge {

// The chain every forged message is signed for.
struct Chain {
  std::string_view id;
  uint64_t epoch = 0;
};

consensus::Vote SignVote(const Chain& chain, const crypto::KeyPair& key, uint32_t signer,
                         const consensus::Block& block);

// A timeout of `round` that claims `high_qc`, whatever the signer really holds.
consensus::Timeout SignTimeout(const Chain& chain, const crypto::KeyPair& key, uint32_t signer,
                               uint64_t round, const consensus::QuorumCert& high_qc,
                               std::optional<consensus::TimeoutCert> high_tc);

// One TC entry: `signer` timed out in `round` claiming `high_qc_round`.
consensus::TimeoutSignature SignTimeoutEntry(const Chain& chain, const crypto::KeyPair& key,
                                             uint32_t signer, uint64_t round,
                                             uint64_t high_qc_round);

// The height a child of `parent` must name as committed (CONSENSUS.md "Blocks"):
// the grandparent if the parent's QC is of the round just before the parent's,
// else what the parent named.
uint64_t CommittedHeightForChild(const consensus::BlockHeader& parent);

// The state root a replica knows at a height, if it does.
using RootAt = std::function<std::optional<crypto::Hash32>(uint64_t height)>;

// A sealed block of `round` by `proposer` on `parent`, which `qc` certifies, with
// header fields as an honest leader fills them: the next height, a timestamp
// after the parent's and not before `now_ms`, the committed height and its root
// from `root_at`, and the tx_root of `payload` (leaves are BLAKE2b of each entry,
// the simulator's application). nullopt if `root_at` lacks the root.
std::optional<consensus::Block> MakeBlock(const Chain& chain, const consensus::Block& parent,
                                          const consensus::QuorumCert& qc, uint64_t round,
                                          uint32_t proposer, uint64_t now_ms,
                                          std::vector<std::string> payload, const RootAt& root_at);

// Re-seals `block` after its payload or header changed (tx_root, tx_count, id).
void Reseal(const Chain& chain, consensus::Block& block);

// `block` (sealed) proposed with `tc`, signed by `key`.
consensus::Proposal SignProposal(const crypto::KeyPair& key, consensus::Block block,
                                 std::optional<consensus::TimeoutCert> tc);

// One byte of `signature` flipped: no longer the signer's.
void Corrupt(crypto::Signature& signature);

}  // namespace reel::sim::forge
