// The signing digest: the exact bytes every REEL signature covers, and the ids
// derived from them. The format is specified in proto/README.md ("The signing
// digest"); this is its one implementation:
//
//   digest = H( u8(len(tag)) || tag || u8(len(chain_id)) || chain_id ||
//               u64be(epoch) || fields )
//
// The tag keeps one kind of signed thing from being replayed as another, the
// chain id one chain's from another's, the epoch one validator set's from the
// next. Ids are digests of signed bytes, so they never depend on signatures.
//
// Thread safety: pure functions, callable from any thread.
// Failure: `chain_id` must be 1..limits::chain_id_bytes_max bytes; anything
// else is a programming error (REEL_ASSERT), because a chain id comes from our
// own genesis, already validated, never straight from a peer. Validate a chain
// id taken from outside bytes with IsValidChainId before calling.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "crypto/hash.h"

namespace reel::crypto {

// kEnvelope is a digest no one signs: what a block's tx_root commits to for each
// transaction, so that a header (and every QC on it) covers the signatures too.
// kEpochChange is what a validator of epoch e signs once it has committed the block
// that ends e: that block and the validator set of e + 1 (node/replica/epoch_proof.h).
enum class Domain : uint8_t { kTransaction, kProposal, kVote, kTimeout, kEnvelope, kEpochChange };

// "reel/tx/v1", "reel/proposal/v1", "reel/vote/v1", "reel/timeout/v1",
// "reel/envelope/v1", "reel/epoch-change/v1".
std::string_view DomainTag(Domain d);

// True if `chain_id` has a length SigningDigest accepts (1..64 bytes).
bool IsValidChainId(std::string_view chain_id);

// The digest above. `fields` is the kind's payload, as proto/README.md defines
// it (the TxBody bytes as received; the canonical header bytes; ...).
Hash32 SigningDigest(Domain d, std::string_view chain_id, uint64_t epoch, std::string_view fields);

// A transaction's id, which is also the digest its signatories sign:
// SigningDigest(kTransaction, chain_id, 0, body_bytes). Transactions are not
// bound to an epoch.
Hash32 TransactionId(std::string_view chain_id, std::string_view body_bytes);

// One signature of an envelope exactly as it travels: bytes of any length, since
// the digest must be defined for whatever a block carries (a wrong length fails
// verification later, not here).
struct EnvelopeSignature {
  std::string_view public_key;
  std::string_view signature;
};

// The envelope digest of proto/README.md ("Blocks commit to whole envelopes"):
//   SigningDigest(kEnvelope, chain_id, 0, tx_id[32] || u32(count) ||
//                 for each: u32(len(public_key)) || public_key ||
//                           u32(len(signature)) || signature)
// It covers the id (so the body) and every signature byte in order; it is the
// Merkle leaf datum of a block's tx_root, and the only key a cache of verified
// transactions may use.
Hash32 EnvelopeDigest(std::string_view chain_id, const Hash32& tx_id,
                      const std::vector<EnvelopeSignature>& signatures);

}  // namespace reel::crypto
