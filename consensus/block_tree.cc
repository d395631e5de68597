#include "consensus/block_tree.h"

#include <algorithm>

namespace reel::consensus {

BlockTree::BlockTree(Block root, QuorumCert root_qc) {
  REEL_ASSERT(root_qc.block_id == root.id);
  root_id_ = root.id;
  nodes_.emplace(root.id, Node{std::move(root), std::move(root_qc)});
}

const Block* BlockTree::Find(const Hash32& id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : &it->second.block;
}

const QuorumCert* BlockTree::QcFor(const Hash32& id) const {
  auto it = nodes_.find(id);
  if (it == nodes_.end() || !it->second.qc) return nullptr;
  return &*it->second.qc;
}

void BlockTree::Insert(Block block) {
  REEL_ASSERT(nodes_.count(block.header.parent_id) == 1);
  REEL_ASSERT(nodes_.count(block.id) == 0);
  const Hash32 id = block.id;
  nodes_.emplace(id, Node{std::move(block), std::nullopt});
}

void BlockTree::Certify(const QuorumCert& qc) {
  auto it = nodes_.find(qc.block_id);
  REEL_ASSERT(it != nodes_.end());
  if (!it->second.qc || it->second.qc->round < qc.round) it->second.qc = qc;
}

std::vector<const Block*> BlockTree::PathFromRoot(const Hash32& id) const {
  std::vector<const Block*> path;
  const Block* b = Find(id);
  while (b != nullptr && b->id != root_id_) {
    path.push_back(b);
    b = Parent(*b);
  }
  REEL_ASSERT(b != nullptr);  // every block here descends from the root
  std::reverse(path.begin(), path.end());
  return path;
}

void BlockTree::PruneTo(Hash32 id) {
  const Block* new_root = Find(id);
  REEL_ASSERT(new_root != nullptr);
  const uint64_t root_height = new_root->header.height;
  std::vector<Hash32> keep;
  for (const auto& [node_id, node] : nodes_) {
    // Walk up to the new root's height; keep the node if it lands on the root.
    const Block* b = &node.block;
    while (b != nullptr && b->header.height > root_height) b = Parent(*b);
    if (b != nullptr && b->id == id) keep.push_back(node_id);
  }
  std::map<Hash32, Node> kept;
  for (const Hash32& k : keep) kept.emplace(k, std::move(nodes_.at(k)));
  nodes_ = std::move(kept);
  root_id_ = id;
}

}  // namespace reel::consensus
