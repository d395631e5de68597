// The state root: a chained digest of each block's state write set.
//
//   root_h = H("reel/state/v1" || root_{h-1} || u64(h) || H(W_h))
//   W_h    = for each state key (0x05) the block writes, in key order, except the root
//            record itself: u32(len) || key || u8(1 put, 0 delete) || u32(len) || value
//
// Integers big-endian; H is BLAKE2b-256; root_{-1} is 32 zero bytes (genesis is h = 0).
// It costs O(changes) per block, needs no tree over the whole state, and two nodes with
// the same history have the same root; the first block where they differ is the first
// whose roots differ. docs/LEDGER.md says why this shape and what it does not give (no
// proofs of single records).
#pragma once

#include <cstdint>

#include "base/status.h"
#include "crypto/hash.h"
#include "node/ledger/overlay.h"

namespace reel::ledger {

// Writes the height, time and new root records of block `height` into `block` (whose
// parent view is `committed`, holding the previous root) and returns the new root.
Result<crypto::Hash32> FinishBlock(const storage::ReadView& committed, Overlay& block,
                                   uint64_t height, uint64_t time_ms);

}  // namespace reel::ledger
