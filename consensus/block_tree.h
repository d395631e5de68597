// BlockTree: the uncommitted blocks above the last committed one (the root),
// with the QCs known for them. Owns its blocks; pointers it returns stay valid
// until the next Insert or PruneTo. Single-threaded, like the whole core.
//
// It holds only blocks whose parent it holds (the root excepted), so every
// block in it has a path to the root. It decides nothing: the core validates a
// block before Insert and applies the commit rule with Parent().
#pragma once

#include <map>
#include <optional>
#include <vector>

#include "consensus/types.h"

namespace reel::consensus {

class BlockTree {
 public:
  // `root` is committed; `root_qc` certifies it.
  BlockTree(Block root, QuorumCert root_qc);

  const Block& root() const { return nodes_.at(root_id_).block; }
  const Block* Find(const Hash32& id) const;
  const Block* Parent(const Block& block) const { return Find(block.header.parent_id); }
  // A verified QC certifying `id`, if one is known (used to skip re-verifying).
  const QuorumCert* QcFor(const Hash32& id) const;
  size_t size() const { return nodes_.size(); }

  // REEL_ASSERT: the parent is here and the block is not.
  void Insert(Block block);
  // Records a verified QC; the block must be here.
  void Certify(const QuorumCert& qc);
  // Blocks after the root up to and including `id`, oldest first.
  std::vector<const Block*> PathFromRoot(const Hash32& id) const;
  // Makes `id` (a descendant of the root) the new root, dropping every block
  // that does not descend from it.
  void PruneTo(Hash32 id);  // by value: `id` may name a node it destroys

 private:
  struct Node {
    Block block;
    std::optional<QuorumCert> qc;
  };
  std::map<Hash32, Node> nodes_;  // ordered: iteration never depends on hashing
  Hash32 root_id_{};
};

}  // namespace reel::consensus
