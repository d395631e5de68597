// Merkle tree over 32-byte leaf data (a block's envelope digests): RFC 6962 shape with BLAKE2b-256
// and domain-separated leaves and nodes, exactly as proto/README.md specifies:
//
//   leaf(id)      = H(0x00 || id)
//   node(l, r)    = H(0x01 || l || r)
//   MTH([])       = H("")
//   MTH([d0])     = leaf(d0)
//   MTH(D[0..n))  = node(MTH(D[0..k)), MTH(D[k..n)))   k = largest power of two < n
//
// An inclusion path lists sibling hashes from the leaf up to the root (RFC 6962
// section 2.1.1). A path proves membership in the tree of the given size only:
// the verifier must take `tree_size` from something it trusts (the block
// header's tx_count, certified with the root), not from the prover.
//
// Thread safety: pure functions. Failure: VerifyMerklePath answers false for
// anything that does not check out, whatever the input; MerklePath asserts that
// the index is inside the tree (the caller builds paths for its own blocks).
#pragma once

#include <cstddef>
#include <vector>

#include "crypto/hash.h"

namespace reel::crypto {

Hash32 MerkleLeafHash(const Hash32& id);
Hash32 MerkleNodeHash(const Hash32& left, const Hash32& right);

// MTH of the ids, in order. O(n) hashes.
Hash32 MerkleRoot(const std::vector<Hash32>& leaves_ids);

// The inclusion path of ids[index]; REEL_ASSERT(index < ids.size()).
// O(n) hashes; at most 64 entries.
std::vector<Hash32> MerklePath(const std::vector<Hash32>& ids, size_t index);

// True only if `path` proves that `id` is leaf `index` of the tree of
// `tree_size` leaves whose root is `root` (RFC 9162 section 2.1.3.2).
bool VerifyMerklePath(const Hash32& id, size_t index, size_t tree_size,
                      const std::vector<Hash32>& path, const Hash32& root);

}  // namespace reel::crypto
