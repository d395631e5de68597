// Answering a peer's block fetch (Peer.GetBlock with above_height): the ancestry of a
// block above a height, oldest first, so that the asker can connect a proposal or QC
// to what it has.
//
// The answer has two parts, and only one needs the replica's loop:
//   - the uncommitted part lives in the consensus block tree, which only the loop may
//     read: Replica::PostServeFetch hands it over as a TreeAncestry;
//   - the committed part is on disk, immutable, and is read off the loop from any
//     snapshot (FetchAnswer): a peer that asks for long committed gaps, honest or not,
//     costs the loop nothing but the tree walk.
//
// What FetchAnswer promises: the committed blocks from above_height + 1 up, then the
// uncommitted ones, each the parent of the next; at most
// limits::consensus_fetch_blocks_max blocks and, past the first, no more than
// limits::block_bytes_max bytes of them (a long gap is sent from its oldest end, so that
// every answer connects to what the asker has). Empty for a block that is neither
// committed in the view nor in the tree.
// Thread safety: FetchAnswer and CommittedHeightOf read only the view they are given.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "base/status.h"
#include "crypto/hash.h"
#include "node/storage/kv.h"
#include "reel/v1/consensus.pb.h"

namespace reel::replica {

// What the loop knows of a block a peer asks for.
struct TreeAncestry {
  bool found = false;             // the block is in the replica's tree (so not committed)
  uint64_t committed_height = 0;  // the tree's root: below it the ancestry is on disk
  // Oldest first: its tree ancestors above max(above_height, committed_height) and the
  // block itself, only as many (oldest kept) as the committed part leaves room for.
  std::vector<v1::Block> blocks;
};

// The height of block `id` if `view` holds it committed.
Result<std::optional<uint64_t>> CommittedHeightOf(const storage::ReadView& view,
                                                  const crypto::Hash32& id);

// The answer for block `id` above `above_height`: from `tree` when the block is in the
// tree, else from `view` alone (a committed block, or nothing).
std::vector<v1::Block> FetchAnswer(const storage::ReadView& view, const crypto::Hash32& id,
                                   uint64_t above_height, TreeAncestry tree);

// How many tree blocks an answer has room for, the committed part above_height + 1 ..
// committed_height coming first.
size_t FetchRoomAbove(uint64_t above_height, uint64_t committed_height);

}  // namespace reel::replica
