// Consensus value types: blocks, certificates, votes, timeouts, proposals, and
// the validator set. Plain values, copyable, no I/O; the node maps them to and
// from protobuf at its edge (proto/reel/v1), and nothing here depends on it.
//
// Signed bytes and ids follow proto/README.md exactly:
//   block id   = SigningDigest(kProposal, chain_id, epoch, CanonicalHeaderBytes(header))
//   vote       signs SigningDigest(kVote, chain_id, epoch, block_id[32] || u64(round))
//   timeout    signs SigningDigest(kTimeout, chain_id, epoch, u64(round) || u64(high_qc_round))
// A receiver always recomputes ids from fields (Block::Seal); it never trusts a
// sent id. Verification functions return a Status naming what is wrong, because
// everything they check came from a peer.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/limits.h"
#include "base/status.h"
#include "crypto/hash.h"
#include "crypto/keys.h"

namespace reel::consensus {

using crypto::Hash32;
using crypto::PublicKey;
using crypto::Signature;

// The validators of one epoch, in genesis order. Index i is validator i.
struct ValidatorSet {
  std::vector<PublicKey> keys;

  size_t n() const { return keys.size(); }
  // Byzantine validators tolerated: floor((n - 1) / 3).
  size_t f() const { return (n() - 1) / 3; }
  // Distinct validators that make a certificate: n - f.
  size_t quorum() const { return n() - f(); }
  // Leaders come from LeaderSchedule (leader_schedule.h), which falls back to
  // round % n where it has no history.
};

// Which validators' signatures a QC holds: bit i (byte i / 8, bit i % 8, least
// significant first) for validator i. Fixed width, so the canonical header stays a
// fixed layout; limits::validators_max fits.
using SignerBitmap = std::array<uint8_t, 16>;
static_assert(limits::validators_max <= 8 * sizeof(SignerBitmap));

struct BlockHeader {
  uint64_t epoch = 0;
  uint64_t round = 0;
  uint64_t height = 0;
  Hash32 parent_id{};
  Hash32 qc_block_id{};  // the block the header's QC certifies (== parent_id)
  uint64_t qc_round = 0;
  Hash32 tx_root{};
  uint32_t tx_count = 0;
  uint32_t proposer_index = 0;
  uint64_t timestamp_ms = 0;
  // The newest block committed in this block's own ancestry (CONSENSUS.md "Blocks").
  uint64_t committed_height = 0;
  Hash32 committed_state_root{};
  // The signers of the block's QC (on its parent). In the block id, so that everyone
  // who holds the block agrees on who voted for its parent: leader reputation counts
  // votes from committed blocks, and a leader that showed each replica another quorum
  // of the same votes could otherwise make them elect different leaders.
  SignerBitmap qc_signers{};
};

// The proto/README.md layout: fixed width, big-endian, 192 bytes.
std::string CanonicalHeaderBytes(const BlockHeader& h);

// One validator's signature inside a certificate.
struct SignerSignature {
  uint32_t index = 0;
  Signature signature{};
};

// A quorum of votes for (block_id, round). `height` is carried for convenience
// and is not signed: whoever uses it checks it against the block.
struct QuorumCert {
  Hash32 block_id{};
  uint64_t round = 0;
  uint64_t height = 0;
  uint64_t epoch = 0;
  std::vector<SignerSignature> signers;
};

SignerBitmap BitmapOf(const std::vector<SignerSignature>& signers);
bool HasSigner(const SignerBitmap& bitmap, uint32_t index);

struct Block {
  BlockHeader header;
  QuorumCert qc;  // certifies the parent; its (block_id, round) equal the header's
  std::vector<std::string> payload;  // transaction bytes, opaque to consensus
  Hash32 id{};                       // cached; valid after Seal

  // Sets header.qc_signers from `qc` and recomputes `id` from the header. Call on
  // every block that came from outside: a block whose QC is another set of signers
  // is another block.
  void Seal(std::string_view chain_id);
};

// The id of a header on its own (a commit proof's headers): the proposal digest of its
// canonical bytes, with the qc_signers the header carries.
Hash32 BlockIdOf(std::string_view chain_id, const BlockHeader& header);

// The genesis block (proto/README.md): height 0, round 0, zero parent and QC,
// timestamp 0, never proposed nor signed. Its QC has no signers.
Block MakeGenesisBlock(std::string_view chain_id, uint64_t epoch);
QuorumCert MakeGenesisQc(const Block& genesis);
// The root QC of an epoch (CONSENSUS.md "Epochs"): round 0, no signers, on the block the
// epoch starts from (genesis, or the block that ended the epoch before). Valid only in
// its epoch and only for that block (VerifyQc): every replica of the epoch has
// committed the root before it runs the epoch, so no signature is needed.
QuorumCert MakeRootQc(uint64_t epoch, const Hash32& root_id, uint64_t root_height);

struct Vote {
  uint64_t epoch = 0;
  uint64_t round = 0;
  uint64_t height = 0;  // unsigned hint, like QuorumCert::height
  Hash32 block_id{};
  uint32_t signer = 0;
  Signature signature{};
};

// One timeout inside a TC: the signer's signed (round, high_qc_round).
struct TimeoutSignature {
  uint32_t index = 0;
  uint64_t high_qc_round = 0;
  Signature signature{};
};

struct TimeoutCert {
  uint64_t epoch = 0;
  uint64_t round = 0;
  std::vector<TimeoutSignature> signers;

  uint64_t MaxHighQcRound() const;
};

struct Timeout {
  uint64_t epoch = 0;
  uint64_t round = 0;
  QuorumCert high_qc;  // signed by round only: the signature covers high_qc.round
  uint32_t signer = 0;
  Signature signature{};
  // Unsigned attachment that lets a lagging replica catch up (DiemBFT v4's
  // last_round_tc): the sender's highest TC. Self-verifying.
  std::optional<TimeoutCert> high_tc;
};

struct Proposal {
  Block block;
  std::optional<TimeoutCert> tc;  // TC of round block.round - 1 when the leader entered by it
  Signature signature{};          // proposer's signature of the block id
};

// Signing digests.
Hash32 VoteDigest(std::string_view chain_id, uint64_t epoch, const Hash32& block_id,
                  uint64_t round);
Hash32 TimeoutDigest(std::string_view chain_id, uint64_t epoch, uint64_t round,
                     uint64_t high_qc_round);

// What a verifier needs to know. `count_duplicate_signers` is the planted
// double-count bug (off except in the simulator's bug runs).
struct VerifyContext {
  std::string_view chain_id;
  uint64_t epoch = 0;
  const ValidatorSet* validators = nullptr;
  // The block the epoch starts from: genesis for the first, else the block that ended
  // the epoch before. Its root QC (round 0, no signers) is valid without signatures.
  Hash32 epoch_root_id{};
  bool count_duplicate_signers = false;
};

// True when `indices` (as signed) name at least a quorum of distinct
// validators. With the planted bug, duplicates count again.
bool IsQuorum(const std::vector<uint32_t>& indices, const VerifyContext& ctx);

// A QC is valid if it is the epoch's root QC, or a quorum of distinct validators of
// this epoch signed (block_id, round).
Status VerifyQc(const QuorumCert& qc, const VerifyContext& ctx);
// A TC is valid if a quorum of distinct validators signed (round, high_qc_round)
// each, with every high_qc_round below the TC's round.
Status VerifyTc(const TimeoutCert& tc, const VerifyContext& ctx);
Status VerifyVote(const Vote& vote, const VerifyContext& ctx);
// Checks the timeout's own signature only; its high_qc and high_tc separately.
Status VerifyTimeoutSignature(const Timeout& timeout, const VerifyContext& ctx);
// Checks the proposer's signature against header.proposer_index. `block.id`
// must be sealed.
Status VerifyProposalSignature(const Proposal& proposal, const VerifyContext& ctx);

}  // namespace reel::consensus
