// Epoch-change proofs (EpochChangeProof in proto/reel/v1/consensus.proto): what binds
// the block that ended an epoch to the validator set of the next, signed by the epoch
// that ended, so that anyone who holds genesis can learn the current set by walking the
// chain of proofs (CONSENSUS.md "Validators and quorums", proto/README.md "Epoch-change
// proofs").
//
// A commit proof shows that block B committed, but the next set is the ledger's state
// after B, which no QC covers (execution follows commit). So once a validator of epoch e
// has committed B and computed the next set from its own state, it signs
//   SigningDigest(kEpochChange, chain_id, e,
//                 block_id(B)[32] || u64(B.height) || ValidatorSetDigest(next)[32])
// and a quorum (n - f) of distinct validators of e signing it is the certificate. Honest
// validators all compute the same next set, and a quorum holds at least f + 1 of them,
// so a certified set is the one the ledger made current.
//
// What it promises
//   - ValidatorSetDigest is the fixed byte layout of proto/README.md ("The validator-set
//     digest"), never protobuf bytes: a validator may carry its certificate as PEM or as
//     its SHA-256 and the digest is the same. Fields the layout does not name are not
//     covered; a new field needs a new layout (a new tag).
//   - VerifyEpochChangeProof accepts a proof only if the header's id is what its commit
//     proof proves committed with epoch e's keys, the next set is of epoch e + 1 starting
//     at the header's height, is well formed (1..validators_max validators, 32-byte keys,
//     none twice, a certificate named), and a quorum of distinct validators of e signed
//     the statement. Every refusal is InvalidArgument naming what is wrong.
//   - VerifyEpochChain walks from genesis through one proof per epoch, in order, and
//     returns the epoch it reaches with what checks its certificates.
//   - EpochChangeAggregator holds at most one vote per validator of its epoch (bounded
//     memory whatever peers send), counts each validator once, verifies every signature,
//     and returns a proof that VerifyEpochChangeProof accepts, once a quorum signed the
//     statement this node holds.
// Thread safety: the free functions are pure (callable from any thread); an aggregator is
// a plain value, one thread at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "consensus/types.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "node/replica/chain_store.h"
#include "reel/v1/consensus.pb.h"
#include "reel/v1/genesis.pb.h"
#include "reel/v1/types.pb.h"

namespace reel::replica {

// What a validator of `epoch` signs once it has committed the block that ended it.
struct EpochChangeStatement {
  uint64_t epoch = 0;            // the epoch that ended
  crypto::Hash32 block_id{};     // the block that ended it
  uint64_t height = 0;           // that block's height
  crypto::Hash32 next_digest{};  // ValidatorSetDigest of the next epoch's set

  bool operator==(const EpochChangeStatement&) const = default;
};

// The canonical bytes of a validator set (proto/README.md, "The validator-set digest"):
//   u8(21) || "reel/validator-set/v1" || u64(epoch) || u64(start_height) || u32(count) ||
//   for each validator in index order:
//     u32(len(name)) || name || u32(len(org_id)) || org_id || public_key[32] ||
//     u32(len(address)) || address || cert_sha256[32]
//   u64(round_timeout_ms) || u64(round_timeout_max_ms) ||
//   u32(round_timeout_backoff_percent) || u64(clock_drift_max_ms) || u32(block_txs_max) ||
//   u64(block_bytes_max) || u64(block_interval_min_ms) || u64(idle_block_interval_ms)
// cert_sha256 is SHA-256 of the certificate's DER: tls_cert_sha256, or computed from
// tls_cert_pem (net::CertSha256). InvalidArgument naming the validator if its key is not
// 32 bytes, or its certificate is not named (neither field), does not parse, is given as
// a SHA-256 that is not 32 bytes, or is given both ways and they differ.
Result<std::string> CanonicalValidatorSetBytes(const v1::ValidatorSet& set);
// BLAKE2b-256 of CanonicalValidatorSetBytes.
Result<crypto::Hash32> ValidatorSetDigest(const v1::ValidatorSet& set);

// SigningDigest(kEpochChange, chain_id, s.epoch,
//               s.block_id[32] || u64(s.height) || s.next_digest[32]).
crypto::Hash32 EpochChangeDigest(std::string_view chain_id, const EpochChangeStatement& s);

// The statement on `header` (the block that ended header.epoch) and `next`, the set the
// ledger made current at its end. InvalidArgument if a header hash field is not 32 bytes
// or the set has no digest.
Result<EpochChangeStatement> EpochChangeStatementOf(std::string_view chain_id,
                                                    const v1::BlockHeader& header,
                                                    const v1::ValidatorSet& next);

// Validator `validator_index` of statement.epoch signs `statement`. The caller signs only
// once it has committed the block and computed the next set itself, and never signs
// another statement for the same epoch (an aggregator refuses the second).
v1::EpochChangeVote SignEpochChange(std::string_view chain_id,
                                    const EpochChangeStatement& statement, uint32_t validator_index,
                                    const crypto::KeyPair& key);

// The statement a vote signs, once its form (32-byte ids, 64-byte signature), its epoch
// (ctx.epoch), its signer (a validator of ctx) and its signature are checked.
// InvalidArgument naming what is wrong.
Result<EpochChangeStatement> VerifyEpochChangeVote(const consensus::VerifyContext& ctx,
                                                   const v1::EpochChangeVote& vote);

// Checks `proof` with the keys of the epoch it ends (`epoch_e_ctx`: that epoch's
// validators and root, EpochState::Context) and returns the next epoch's set. The
// planted double-count bug of VerifyContext is not honoured here: a signer named twice
// is always refused.
Result<v1::ValidatorSet> VerifyEpochChangeProof(const consensus::VerifyContext& epoch_e_ctx,
                                                const v1::EpochChangeProof& proof);

// The epoch that genesis and `proofs` (one per epoch from epoch 0, in order) lead to: its
// number, its set (epoch and start_height filled in; for epoch 0 the genesis validators
// and consensus params), its root block and its keys, so that Context(chain_id) checks
// the commit proofs of its blocks. Without proofs, epoch 0 from genesis. InvalidArgument
// naming the proof (by position and epoch) and what is wrong with it, or genesis.
Result<EpochState> VerifyEpochChain(const v1::Genesis& genesis,
                                    const std::vector<v1::EpochChangeProof>& proofs);

// Collects the epoch-change votes of one epoch into a proof. The replica makes one when
// its core ends the epoch, adds its own vote and its peers', and keeps the proof it
// returns (wiring: the lead engineer's next step).
class EpochChangeAggregator {
 public:
  // Votes of `epoch` (its number, keys and root) on chain `chain_id`.
  EpochChangeAggregator(std::string chain_id, EpochState epoch);

  // What this node holds: the header of the block that ended the epoch, that block's
  // commit proof and the next set its ledger made current. InvalidArgument if they are
  // not a statement of this epoch (header of another epoch, a commit proof that does not
  // prove the header with this epoch's keys, a next set not of epoch + 1 from the
  // header's height, or without a digest), or another statement was set before. Returns
  // the proof if the votes held already make a quorum for it.
  Result<std::optional<v1::EpochChangeProof>> SetStatement(const v1::BlockHeader& header,
                                                           const v1::CommitProof& commit_proof,
                                                           const v1::ValidatorSet& next);

  // Verifies `vote` (VerifyEpochChangeVote) and records it. Each validator counts with
  // the first statement it signs: the same vote again changes nothing, a different
  // statement from it is refused (InvalidArgument: it signed two for one epoch). Votes
  // may come before SetStatement. Returns the proof the one time this vote completes a
  // quorum for this node's statement; after that, votes are not looked at (Ok, nullopt).
  Result<std::optional<v1::EpochChangeProof>> Add(const v1::EpochChangeVote& vote);

  // The proof, once made.
  const std::optional<v1::EpochChangeProof>& proof() const { return proof_; }
  // How many distinct validators signed `statement` so far.
  size_t SignersOf(const EpochChangeStatement& statement) const;
  uint64_t epoch() const { return epoch_.epoch; }

 private:
  struct Signed {
    EpochChangeStatement statement;
    crypto::Signature signature{};
  };

  // The proof, if this node's statement has a quorum.
  std::optional<v1::EpochChangeProof> TryComplete();

  std::string chain_id_;
  EpochState epoch_;
  std::vector<std::optional<Signed>> votes_;  // by validator index; n entries
  std::optional<EpochChangeStatement> statement_;
  v1::EpochChangeProof pending_;  // epoch, header, commit proof and next, no signatures
  std::optional<v1::EpochChangeProof> proof_;
};

}  // namespace reel::replica
