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

#include "crypto/hash.h"

namespace reel::crypto {

enum class Domain : uint8_t { kTransaction, kProposal, kVote, kTimeout };

// "reel/tx/v1", "reel/proposal/v1", "reel/vote/v1", "reel/timeout/v1".
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

}  // namespace reel::crypto
